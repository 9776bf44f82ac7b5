"""X-Signature, checked with the receiver's recipe of spec §15 (written out here, not imported)."""

import hashlib
import hmac
import time
from datetime import timedelta

import pytest
from django.utils import timezone

from notifications import signing
from notifications.models import IpnSecret, WebhookEndpoint
from notifications.services.endpoints import create_endpoint, rotate_endpoint_secret, rotate_ipn_secret

from .helpers import dispatched, record_event

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("allow_private")]


def verify(secret: str, header: str, raw_body: bytes, tolerance=300) -> bool:
    """Spec §15, verbatim: what a merchant's server runs."""
    parts = [p.split("=", 1) for p in header.split(",")]
    t = int(next(v for k, v in parts if k == "t"))
    mac = hmac.new(secret.encode(), f"{t}.".encode() + raw_body, hashlib.sha256).hexdigest()
    return abs(time.time() - t) <= tolerance and any(hmac.compare_digest(mac, v) for k, v in parts if k == "v1")


def test_a_webhook_is_signed_with_its_endpoint_secret(merchant_a, receiver):
    _, secret = create_endpoint(merchant_a, False, url=receiver.url("/hook"), event_types=["payment.paid"])
    dispatched(record_event(merchant_a))

    (request,) = receiver.received
    header = request.header("X-Signature")
    assert secret.startswith("whsec_")
    assert verify(secret, header, request.body)
    assert not verify(signing.new_secret(), header, request.body)
    assert not verify(secret, header, request.body + b" ")
    assert header.count("v1=") == 1


def test_an_ipn_is_signed_with_the_merchant_secret_of_its_mode(merchant_a, receiver):
    dispatched(record_event(merchant_a, ipn_url=receiver.url()))
    secret = rotate_ipn_secret(merchant_a, False)
    dispatched(record_event(merchant_a, ipn_url=receiver.url()))

    first, second = receiver.received
    # the first IPN was signed with the secret created on first use, which the rotation keeps 24 h
    assert verify(
        signing.valid_secrets(IpnSecret.objects.get(merchant=merchant_a, is_live=False))[1],
        first.header("X-Signature"),
        first.body,
    )
    assert verify(secret, second.header("X-Signature"), second.body)
    assert not verify(secret, first.header("X-Signature"), first.body)


def test_during_a_rotation_both_secrets_verify_then_only_the_new_one(merchant_a, receiver):
    endpoint, old = create_endpoint(merchant_a, False, url=receiver.url("/hook"), event_types=["payment.paid"])
    new = rotate_endpoint_secret(endpoint)

    dispatched(record_event(merchant_a))
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(
        previous_secret_expires_at=timezone.now() - timedelta(seconds=1)
    )
    dispatched(record_event(merchant_a))

    during, after = receiver.received
    assert during.header("X-Signature").count("v1=") == 2
    assert verify(new, during.header("X-Signature"), during.body)
    assert verify(old, during.header("X-Signature"), during.body)
    assert after.header("X-Signature").count("v1=") == 1
    assert verify(new, after.header("X-Signature"), after.body)
    assert not verify(old, after.header("X-Signature"), after.body)


def test_an_old_timestamp_fails_the_recipe(merchant_a):
    secret = signing.new_secret()
    body = b'{"id":"pay_x"}'
    stale = int(time.time()) - 301
    assert not verify(secret, signing.signature_header([secret], stale, body), body)
    assert verify(secret, signing.signature_header([secret], int(time.time()), body), body)


def test_secrets_are_encrypted_at_rest(merchant_a):
    endpoint, secret = create_endpoint(merchant_a, False, url="https://hooks.example.org/x", event_types=[])
    stored = WebhookEndpoint.objects.get(pk=endpoint.pk)
    assert secret.encode() not in bytes(stored.secret_encrypted)
    assert signing.valid_secrets(stored) == [secret]
    # bound to its row: another endpoint's ciphertext does not decrypt as this one
    other, _ = create_endpoint(merchant_a, False, url="https://hooks.example.org/y", event_types=[])
    other.secret_encrypted = stored.secret_encrypted
    with pytest.raises(Exception):  # noqa: B017  cryptography's InvalidTag
        signing.valid_secrets(other)
