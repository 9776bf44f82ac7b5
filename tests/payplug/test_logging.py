"""Card numbers never leave the process in a log line; JSON lines carry the request id."""

import io
import json
import logging

import pytest
from django.conf import settings
from django.test import override_settings
from django.utils.module_loading import import_string

from payplug.logging import CardNumberMaskingFilter, luhn_valid, mask_card_numbers

VISA = "4111111111111111"
MASTERCARD = "5555555555554444"
AMEX = "378282246310005"  # 15 digits
VISA_13 = "4222222222222"  # 13 digits


def with_check_digit(body: str) -> str:
    return next(body + digit for digit in "0123456789" if luhn_valid(body + digit))


PAN_19 = with_check_digit("622126000000000000")  # 19 digits


def test_test_numbers_are_luhn_valid():
    for number in (VISA, MASTERCARD, AMEX, VISA_13, PAN_19):
        assert luhn_valid(number), number
    assert len(PAN_19) == 19
    assert luhn_valid("411111111117")  # the too-short number below


# --- mask_card_numbers --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (f"card {VISA} declined", "card ************1111 declined"),
        ("card 4111 1111 1111 1111 declined", "card ************1111 declined"),
        ("card 4111-1111-1111-1111 declined", "card ************1111 declined"),
        ("amex 3782 822463 10005", "amex ***********0005"),
        (f"short brand {VISA_13}", "short brand *********2222"),
        (f"long {PAN_19}.", f"long {'*' * 15}{PAN_19[-4:]}."),
        (f"{VISA},{MASTERCARD}", "************1111,************4444"),
        (f"pan={VISA}&cvc=123", "pan=************1111&cvc=123"),
        # Digits around a card number do not hide it.
        ("qty 3 4111 1111 1111 1111", "qty 3 ************1111"),
        ("4111 1111 1111 1111 12/30", "************1111 12/30"),
        (f"order 12 {MASTERCARD} 99", "order 12 ************4444 99"),
        # Letters are not digits: a number glued to them is still a card number.
        (f"pay_{VISA}x", "pay_************1111x"),
    ],
)
def test_luhn_valid_13_to_19_digit_numbers_are_masked(text, expected):
    assert mask_card_numbers(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "card 4111111111111112 declined",  # fails the Luhn check
        "4111 1111 1111 1112",
        "411111111117",  # 12 digits, Luhn-valid, too short for a card number
        "4111 1111 1117",
        "41111111111111111111111",  # 23 digits: an id, not a card number
        "amount 1000 EUR, order 4242",
        "2026-11-25 08:21:26,053 pid 14547",
    ],
)
def test_other_numbers_are_left_alone(text):
    assert mask_card_numbers(text) == text


# --- the filter on records --------------------------------------------------------------


def project_handler(formatter_name):
    """A handler with the filters and formatter of settings.LOGGING, writing to a buffer."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    config = settings.LOGGING
    for name in config["handlers"]["console"]["filters"]:
        handler.addFilter(import_string(config["filters"][name]["()"])())
    formatter = config["formatters"][formatter_name]
    if "()" in formatter:
        handler.setFormatter(import_string(formatter["()"])())
    else:
        handler.setFormatter(logging.Formatter(formatter["format"]))
    return handler, stream


@pytest.fixture(params=["json", "plain"])
def captured(request):
    logger = logging.getLogger(f"tests.masking.{request.param}")
    handler, stream = project_handler(request.param)
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    logger.propagate = False
    yield logger, stream
    logger.removeHandler(handler)


def test_the_console_handler_has_the_masking_filter():
    assert "mask_cards" in settings.LOGGING["handlers"]["console"]["filters"]
    assert settings.LOGGING["filters"]["mask_cards"]["()"] == "payplug.logging.CardNumberMaskingFilter"


def test_messages_are_masked(captured):
    logger, stream = captured
    logger.info(f"charging 4111 1111 1111 1111 for {AMEX}")
    output = stream.getvalue()
    assert "4111 1111 1111 1111" not in output
    assert AMEX not in output
    assert "************1111" in output
    assert "***********0005" in output


def test_arguments_are_masked(captured):
    logger, stream = captured
    logger.warning("card %s, data %r, amount %d", VISA, {"number": MASTERCARD}, 1000)
    output = stream.getvalue()
    assert VISA not in output and MASTERCARD not in output
    assert "************1111" in output and "************4444" in output
    assert "1000" in output


def test_exceptions_and_stacks_are_masked(captured):
    logger, stream = captured
    try:
        raise ValueError(f"bad card {VISA}")
    except ValueError:
        logger.exception("charge failed", stack_info=True)
    output = stream.getvalue()
    assert "ValueError" in output
    assert VISA not in output
    assert "************1111" in output


def test_non_luhn_numbers_are_not_masked_in_records(captured):
    logger, stream = captured
    logger.info("order 4111111111111112 and phone 0612345678")
    assert "4111111111111112" in stream.getvalue()
    assert "0612345678" in stream.getvalue()


def test_dict_messages_are_masked(captured):
    logger, stream = captured
    logger.info({"event": "charge", "card": VISA})
    assert VISA not in stream.getvalue()


def json_lines(stream):
    return [json.loads(line) for line in stream.getvalue().splitlines() if line.strip()]


def test_extra_fields_of_json_lines_are_masked():
    logger = logging.getLogger("tests.masking.extra")
    handler, stream = project_handler("json")
    logger.addHandler(handler)
    logger.propagate = False
    try:
        logger.warning(
            "charge",
            extra={
                "card": "4111-1111-1111-1111",
                "as_number": int(MASTERCARD),
                "payload": {"source": {"number": AMEX, "last4": "0005"}, "history": [VISA, "ok"]},
                "attempts": 3,
                "amount": 10.5,
            },
        )
    finally:
        logger.removeHandler(handler)
    raw = stream.getvalue()
    for number in (VISA, MASTERCARD, AMEX, "4111-1111-1111-1111"):
        assert number not in raw
    (line,) = json_lines(stream)
    assert line["card"] == "************1111"
    assert line["as_number"] == "************4444"
    assert line["payload"] == {
        "source": {"number": "***********0005", "last4": "0005"},
        "history": ["************1111", "ok"],
    }
    assert line["attempts"] == 3
    assert line["amount"] == 10.5
    assert line["level"] == "WARNING"
    assert line["logger"] == "tests.masking.extra"
    assert line["message"] == "charge"


def test_the_filter_keeps_every_record():
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "card %s", (VISA,), None)
    assert CardNumberMaskingFilter().filter(record) is True
    assert record.getMessage() == "card ************1111"


# --- request ids in JSON lines ------------------------------------------------------------


@pytest.fixture
def root_json():
    handler, stream = project_handler("json")
    root = logging.getLogger()
    root.addHandler(handler)
    yield stream
    root.removeHandler(handler)


@pytest.mark.django_db
def test_json_lines_carry_the_request_id_of_the_request_being_served(client, root_json):
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    lines = [line for line in json_lines(root_json) if line["logger"] == "django.request"]
    assert lines, root_json.getvalue()
    assert lines[-1]["request_id"] == response["X-Request-Id"]
    assert lines[-1]["request_id"].startswith("req_")


@pytest.mark.django_db
def test_lines_about_error_responses_logged_after_the_middleware_keep_it(client, root_json):
    # Django logs 4xx answers returned by a view once the middleware chain has returned.
    response = client.get("/v1/payments")
    assert response.status_code == 401
    lines = [line for line in json_lines(root_json) if line["logger"] == "django.request"]
    assert lines, root_json.getvalue()
    assert lines[-1]["request_id"] == response["X-Request-Id"]


@pytest.mark.django_db
@override_settings(
    CACHES={"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": "redis://127.0.0.1:1/0"}}
)
def test_lines_logged_by_readiness_threads_keep_the_request_id(client, root_json):
    response = client.get("/readyz")
    assert response.status_code == 503
    lines = [line for line in json_lines(root_json) if "readiness check cache" in line["message"]]
    assert lines, root_json.getvalue()
    assert {line["request_id"] for line in lines} == {response["X-Request-Id"]}


def test_lines_outside_a_request_have_a_placeholder_request_id(root_json):
    logging.getLogger("tests.outside").warning("no request here")
    (line,) = [line for line in json_lines(root_json) if line["logger"] == "tests.outside"]
    assert line["request_id"] == "-"
