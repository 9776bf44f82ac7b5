"""The signed link to a subscriber's own page (payments.checkout.subscriber): the signature is the
key, no account. Every receipt and reminder email carries a fresh one.

A link is good for LIFETIME (a yearly member's receipt still opens the page when the next year's
reminder comes). An older one is "expired": its signature still proves which subscription it
names, so the page offers to email a fresh link to the subscription's own address, and shows
nothing else. A tampered one names nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.core import signing
from django.urls import reverse

SALT = "payments.subscription.manage"
LIFETIME = timedelta(days=400)


@dataclass(frozen=True)
class Reading:
    public_id: str
    expired: bool


def token(public_id: str) -> str:
    return signing.TimestampSigner(salt=SALT).sign(public_id)


def url(public_id: str) -> str:
    return settings.PUBLIC_BASE_URL + reverse("checkout:subscriber", args=[token(public_id)])


def read(value: str) -> Reading | None:
    """Which subscription a link names, and whether it expired; None when tampered with."""
    signer = signing.TimestampSigner(salt=SALT)
    try:
        return Reading(signer.unsign(value, max_age=LIFETIME), expired=False)
    except signing.SignatureExpired:
        return Reading(signer.unsign(value), expired=True)
    except signing.BadSignature:
        return None
