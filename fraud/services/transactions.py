"""Payments as fraud.features sees them: one Transaction per payment, keys carrying the mode."""

from __future__ import annotations

from django.utils import timezone
from redis.exceptions import RedisError

from fraud.features import Transaction
from payments.models import Payment
from payments.vault import fingerprint
from payplug import geoip

SANDBOX_FRAUD_CARD = "4100000000000019"
STORE_ERRORS = (RedisError, OSError)


def device_of(payment: Payment) -> str | None:
    context = payment.payment_context if isinstance(payment.payment_context, dict) else {}
    for key in ("device_fingerprint", "device_id", "device"):
        value = context.get(key)
        if isinstance(value, str | int) and str(value):
            return str(value)[:200]
    return None


def transaction_of(payment: Payment) -> Transaction:
    """The payment as fraud.features sees it. Keys carry the mode: test data never feeds live."""
    mode = "live" if payment.is_live else "test"
    billing = payment.billing if isinstance(payment.billing, dict) else {}
    email = billing.get("email")
    device = device_of(payment)
    moment = payment.authorized_at or payment.created_at or timezone.now()
    return Transaction(
        id=payment.public_id,
        time=moment.timestamp(),
        amount=int(payment.amount),
        merchant=f"{mode}:{payment.merchant_id}",
        card=f"{mode}:{payment.card_fingerprint}" if payment.card_fingerprint else None,
        email=f"{mode}:{email}" if isinstance(email, str) and email else None,
        ip=f"{mode}:{payment.shopper_ip}" if payment.shopper_ip else None,
        device=f"{mode}:{device}" if device else None,
        card_country=payment.card_country or None,
        ip_country=geoip.country_of(payment.shopper_ip),
        billing_country=(billing.get("country") or None) if isinstance(billing.get("country"), str) else None,
        attempt_failures=int(payment.failed_attempts or 0),
        currency=payment.currency,
    )


def card_bin(payment: Payment) -> str | None:
    """The card's BIN when payments records it (see the report: payments has no BIN field yet)."""
    value = getattr(payment, "card_bin", None)
    return value or None


def is_sandbox_fraud_card(payment: Payment) -> bool:
    return not payment.is_live and payment.card_fingerprint == fingerprint(SANDBOX_FRAUD_CARD)
