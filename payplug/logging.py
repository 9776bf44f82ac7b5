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

# 13-19 digits, each optionally followed by one space or dash; bounded by non-digits.
_CARD_CANDIDATE = re.compile(r"(?<![0-9])(?:[0-9][ -]?){12,18}[0-9](?![0-9])")


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


def _mask_match(match: re.Match) -> str:
    candidate = match.group(0)
    digits = re.sub(r"[^0-9]", "", candidate)
    if 13 <= len(digits) <= 19 and luhn_valid(digits):
        return "*" * (len(digits) - 4) + digits[-4:]
    return candidate


def mask_card_numbers(text: str) -> str:
    """Replace every Luhn-valid 13-19 digit sequence by asterisks and its last four digits."""
    if not text or not any(ch.isdigit() for ch in text):
        return text
    return _CARD_CANDIDATE.sub(_mask_match, text)


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
            record.request_id = request_id_var.get()
        return True


class JsonFormatter(_BaseJsonFormatter):
    def __init__(self, *args, **kwargs):
        kwargs.setdefault("fmt", "%(asctime)s %(levelname)s %(name)s %(message)s %(request_id)s")
        kwargs.setdefault("rename_fields", {"asctime": "time", "levelname": "level", "name": "logger"})
        super().__init__(*args, **kwargs)

    def process_log_record(self, log_record):
        # Extra fields are strings we do not control: mask them too.
        for key, value in list(log_record.items()):
            if isinstance(value, str):
                log_record[key] = mask_card_numbers(value)
        return super().process_log_record(log_record)
