"""Issue 12, finding 19: the delivery log says what went wrong in the merchant's words (timeout,
connection refused, TLS, DNS, HTTP status, blocked address...), never a Python exception."""

import socket

import pytest
from django.urls import reverse

from notifications.models import Delivery, DeliveryAttempt
from notifications.services.delivery import attempt_message, error_kind

from .helpers import dispatched, login, record_event

PYTHON = (
    "Error:",
    "Error(",
    "Traceback",
    "HTTPConnectionPool",
    "HTTPSConnectionPool",
    "Errno",
    "urllib3",
    "object at 0x",
)

RAW = {
    "timeout": "timeout",
    "read_timeout": (
        "ReadTimeout: HTTPSConnectionPool(host='shop.example', port=443): Read timed out. (read timeout=9.9)"
    ),
    "refused": (
        "ConnectionError: HTTPConnectionPool(host='127.0.0.1', port=8123): Max retries exceeded with url: /ipn "
        "(Caused by NewConnectionError('<urllib3.connection.HTTPConnection object at 0x7f1c2c0>: Failed to "
        "establish a new connection: [Errno 111] Connection refused'))"
    ),
    "tls": (
        "SSLError: HTTPSConnectionPool(host='shop.example', port=443): Max retries exceeded with url: / (Caused by "
        "SSLError(SSLCertVerificationError(1, '[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed')))"
    ),
    "dns": "refused: shop.invalid: name resolution failed ([Errno -2] Name or service not known)",
    "blocked": "refused: shop.example resolves to 10.0.0.5: private address",
    "loopback": "refused: 127.0.0.1: loopback address on port 22, not in NOTIFICATIONS_ALLOWED_LOOPBACK_PORTS",
    "https": "refused: https is required",
    "reset": (
        "ConnectionError: ('Connection aborted.', RemoteDisconnected('Remote end closed connection without response'))"
    ),
    "email": "email not sent: [Errno 111] Connection refused",
    "interrupted": "interrupted: no result recorded (worker stopped)",
    "disabled": "endpoint disabled",
    "other": "ChunkedEncodingError: something odd",
}


@pytest.mark.parametrize(
    ("raw", "kind"),
    [
        (RAW["timeout"], "timeout"),
        (RAW["read_timeout"], "timeout"),
        (RAW["refused"], "connection_refused"),
        (RAW["tls"], "tls"),
        (RAW["dns"], "dns"),
        (RAW["blocked"], "blocked_address"),
        (RAW["loopback"], "blocked_address"),
        (RAW["https"], "invalid_url"),
        (RAW["reset"], "connection_closed"),
        (RAW["email"], "email"),
        (RAW["interrupted"], "interrupted"),
        (RAW["disabled"], "endpoint_disabled"),
        (RAW["other"], "other"),
    ],
)
def test_errors_are_classified(raw, kind):
    assert error_kind(raw) == kind


@pytest.mark.parametrize("raw", list(RAW.values()))
def test_no_message_shows_python(raw):
    message = str(attempt_message(DeliveryAttempt(error=raw, status_code=0)))

    assert message
    for word in PYTHON:
        assert word not in message, (word, message)
    assert "NOTIFICATIONS_" not in message


@pytest.mark.parametrize(
    ("status", "words"), [(500, "HTTP 500"), (404, "HTTP 404"), (301, "HTTP 301"), (403, "HTTP 403")]
)
def test_an_http_error_names_its_status(status, words):
    assert words in str(attempt_message(DeliveryAttempt(status_code=status)))


def test_a_success_needs_no_message():
    assert attempt_message(DeliveryAttempt(status_code=200, succeeded=True)) == ""


@pytest.fixture
def closed_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.mark.django_db
def test_the_delivery_page_shows_no_python_exception(client, alice, merchant_a, settings, closed_port):
    settings.NOTIFICATIONS_ALLOW_PRIVATE_NETWORKS = True
    settings.NOTIFICATIONS_ALLOWED_LOOPBACK_PORTS = [closed_port]
    event = dispatched(record_event(merchant_a, ipn_url=f"http://127.0.0.1:{closed_port}/ipn"))
    delivery = Delivery.objects.get(event=event)
    assert "Connection refused" in delivery.attempt_log.get().error  # the raw detail is kept for operators
    owner = login(client, alice)

    html = owner.get(reverse("dashboard:webhook_delivery", args=[delivery.public_id])).content.decode()

    for word in (*PYTHON, "ConnectionRefusedError", "NewConnectionError", "Max retries"):
        assert word not in html, word
    assert "refused the connection" in html
