"""Structured logging: JSON lines with the request id, and card numbers masked.

The masking filter is the last line of defence of the card-data rules: code must not
log card numbers in the first place, but anything that looks like one (13 to 19
digits, optionally grouped by spaces or dashes, passing the Luhn check) is replaced
by its last four digits before a record leaves the process.
"""

import contextvars
import logging
import re

from pythonjsonlogger.json import JsonFormatter as _BaseJsonFormatter

request_id_var: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="-")

# A run of digit groups separated by single spaces or dashes, bounded by non-digits. A card
# number is looked for in every window of whole groups of such a run, so that a neighbouring
# number ("qty 3 4111 1111 1111 1111", "4111 1111 1111 1111 12/30") cannot hide it.
_DIGIT_RUN = re.compile(r"(?<![0-9])[0-9]+(?:[ -][0-9]+)*(?![0-9])")
_DIGIT_GROUP = re.compile(r"[0-9]+")
_MIN_PAN, _MAX_PAN = 13, 19


def luhn_valid(digits: str) -> bool:
    total = 0
    for index, char in enumerate(reversed(digits)):
        value = int(char)
        if index % 2 == 1:
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return total % 10 == 0


def _masked(digits: str) -> str:
    return "*" * (len(digits) - 4) + digits[-4:]


def _mask_run(match: re.Match) -> str:
    run = match.group(0)
    groups = [(group.start(), group.end()) for group in _DIGIT_GROUP.finditer(run)]
    if sum(end - start for start, end in groups) < _MIN_PAN:
        return run
    pieces, copied_up_to, first = [], 0, 0
    while first < len(groups):
        # The longest Luhn-valid window of 13-19 digits that starts with this group.
        digits, found = "", None
        for last in range(first, len(groups)):
            digits += run[groups[last][0] : groups[last][1]]
            if len(digits) > _MAX_PAN:
                break
            if len(digits) >= _MIN_PAN and luhn_valid(digits):
                found = (last, digits)
        if found is None:
            first += 1
            continue
        last, digits = found
        pieces += [run[copied_up_to : groups[first][0]], _masked(digits)]
        copied_up_to = groups[last][1]
        first = last + 1
    pieces.append(run[copied_up_to:])
    return "".join(pieces)


def mask_card_numbers(text: str) -> str:
    """Replace every Luhn-valid 13-19 digit sequence by asterisks and its last four digits.

    Digits may be grouped by single spaces or dashes; groups next to a card number (a
    quantity before it, an expiry month after it) do not stop it from being masked.
    """
    if not text or not any(ch.isdigit() for ch in text):
        return text
    return _DIGIT_RUN.sub(_mask_run, text)


def _mask_value(value):
    """Mask card numbers in a value of a JSON log line: strings, numbers, and containers of them."""
    if isinstance(value, str):
        return mask_card_numbers(value)
    if isinstance(value, bool) or value is None or isinstance(value, float):
        return value
    if isinstance(value, int):
        text = str(value)
        masked = mask_card_numbers(text)
        return value if masked == text else masked
    if isinstance(value, dict):
        return {key: _mask_value(item) for key, item in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_mask_value(item) for item in value]
    # Anything else is serialised through str() (or a type-specific default): mask what it would print.
    try:
        text = str(value)
    except Exception:
        return value
    masked = mask_card_numbers(text)
    return value if masked == text else masked


class CardNumberMaskingFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a broken format string must not lose the record
            message = str(record.msg)
        masked = mask_card_numbers(message)
        if masked != message or record.args:
            record.msg, record.args = masked, None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = mask_card_numbers(record.exc_text)
        if record.stack_info:
            record.stack_info = mask_card_numbers(record.stack_info)
        return True


class RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            request = getattr(record, "request", None)  # django.request logs after the middleware returned
            record.request_id = getattr(request, "request_id", None) or request_id_var.get()
        return True


class JsonFormatter(_BaseJsonFormatter):
    def __init__(self, *args, **kwargs):
        kwargs.setdefault("fmt", "%(asctime)s %(levelname)s %(name)s %(message)s %(request_id)s")
        kwargs.setdefault("rename_fields", {"asctime": "time", "levelname": "level", "name": "logger"})
        super().__init__(*args, **kwargs)

    def process_log_record(self, log_data):
        # Extra fields (and the formatted exception) are values we do not control: mask them
        # too, including numbers and the strings nested in dicts and lists.
        for key, value in list(log_data.items()):
            log_data[key] = _mask_value(value)
        return super().process_log_record(log_data)
