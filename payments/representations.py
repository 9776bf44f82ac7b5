"""The API's resource objects (spec §7-§10), exactly as the retrieve routes return them.

Used by the API views and by the outbox (an event carries the resource as the API shows it).
"""

from __future__ import annotations

import functools
from datetime import datetime

from django.conf import settings
from django.urls import get_script_prefix, reverse

from payments.report_links import temporary_url

ADDRESS_KEYS = (
    "title",
    "first_name",
    "last_name",
    "email",
    "company_name",
    "mobile_phone_number",
    "landline_phone_number",
    "address1",
    "address2",
    "postcode",
    "city",
    "state",
    "country",
    "language",
)
SHIPPING_KEYS = (*ADDRESS_KEYS, "delivery_type")


def ts(value: datetime | None) -> int | None:
    return int(value.timestamp()) if value else None


def address(data: dict | None, keys=ADDRESS_KEYS) -> dict:
    data = data or {}
    return {key: data.get(key) for key in keys}


def hosted_payment_url(payment) -> str | None:
    token = payment.hosted_token
    if not token:
        return None
    if not token.isascii() or not token.isalnum():
        return settings.PUBLIC_BASE_URL + reverse("checkout:pay", args=[token])
    # Tokens are base62, which reverse() leaves as they are: its result for one placeholder, once
    # per script prefix, and the token put in its place (reverse() is 4 % of a create's CPU).
    before, after = _pay_path_around_token(get_script_prefix())
    return settings.PUBLIC_BASE_URL + before + token + after


_PLACEHOLDER = "0token0"


@functools.lru_cache(maxsize=16)
def _pay_path_around_token(script_prefix: str) -> tuple[str, str]:
    before, _, after = reverse("checkout:pay", args=[_PLACEHOLDER]).partition(_PLACEHOLDER)
    return before, after


def payment(p) -> dict:
    card_meta = None
    if p.card_public_id and p.card_id and p.card is not None:
        card_meta = p.card.metadata
    authorization = None
    if p.is_deferred:
        authorization = {
            "authorized_amount": p.amount,
            "authorized_at": ts(p.authorized_at) if p.authorization_expires_at else None,
            "expires_at": ts(p.authorization_expires_at),
        }
    failure = None
    if p.failure_code and not p.is_paid:
        failure = {"code": p.failure_code, "message": p.failure_message or ""}
    return {
        "id": p.public_id,
        "object": "payment",
        "is_live": p.is_live,
        "amount": p.amount,
        "amount_refunded": p.amount_refunded,
        "currency": p.currency,
        "created_at": ts(p.created_at),
        "is_paid": p.is_paid,
        "paid_at": ts(p.paid_at),
        "is_refunded": p.is_refunded,
        "is_3ds": p.is_3ds,
        "save_card": p.save_card,
        "allow_save_card": p.allow_save_card,
        "refundable_after": ts(p.refundable_after),
        "refundable_until": ts(p.refundable_until),
        "authorization": authorization,
        "card": {
            "id": p.card_public_id,
            "last4": p.card_last4,
            "country": p.card_country,
            "exp_month": p.card_exp_month,
            "exp_year": p.card_exp_year,
            "brand": p.card_brand,
            "metadata": card_meta,
        },
        "billing": address(p.billing),
        "shipping": address(p.shipping, SHIPPING_KEYS) if p.shipping is not None else None,
        "hosted_payment": {
            "payment_url": hosted_payment_url(p),
            "return_url": p.return_url,
            "cancel_url": p.cancel_url,
            "paid_at": ts(p.hosted_paid_at),
            "sent_by": p.sent_by,
        },
        "notification": {"url": p.notification_url, "response_code": p.notification_response_code},
        "failure": failure,
        "description": p.description,
        "metadata": p.metadata or {},
        "payment_method": None,
        "installment_plan_id": p.installment_plan_id,  # the plan's public id (a to_field key): no join
        "customer_id": p.customer_public_id,
        "payment_context": p.payment_context,
        "dispute": p.dispute,
    }


def refund(r) -> dict:
    return {
        "id": r.public_id,
        "object": "refund",
        "is_live": r.is_live,
        "payment_id": r.payment.public_id,
        "amount": r.amount,
        "currency": r.currency,
        "created_at": ts(r.created_at),
        "metadata": r.metadata or {},
    }


def customer(c) -> dict:
    return {
        "id": c.public_id,
        "object": "customer",
        "is_live": c.is_live,
        "created_at": ts(c.created_at),
        "email": c.email,
        "first_name": c.first_name,
        "last_name": c.last_name,
        "address1": c.address1,
        "address2": c.address2,
        "postcode": c.postcode,
        "city": c.city,
        "country": c.country,
        "metadata": c.metadata or {},
    }


def card(c) -> dict:
    return {
        "id": c.public_id,
        "object": "card",
        "is_live": c.is_live,
        "created_at": ts(c.created_at),
        "customer_id": c.customer.public_id if c.customer_id else None,
        "last4": c.last4,
        "brand": c.brand,
        "exp_month": c.exp_month,
        "exp_year": c.exp_year,
        "country": c.country,
        "metadata": c.metadata or {},
    }


def accounting_report(r, now=None) -> dict:
    """Spec §11. `temporary_url` only while the file is available (24 h), then `expired`."""
    status = r.current_status(now)
    available = status == "available"
    return {
        "id": r.public_id,
        "object": "accounting_report",
        "is_live": r.is_live,
        "created_at": ts(r.created_at),
        "start_date": r.start_date.isoformat(),
        "end_date": r.end_date.isoformat(),
        "notification_url": r.notification_url,
        "status": status,
        "temporary_url": temporary_url(r) if available else None,
        "file_available_until": ts(r.file_available_until),
    }


def installment_plan(plan, installments, payment_ids: dict[int, list[str]], payment_url: str | None) -> dict:
    """Addendum §17.1. `installments` in index order; `payment_ids` maps an installment's index to
    its payments' ids, oldest first; `payment_url` is the first installment's hosted page."""
    failure = None
    if plan.failure_code:
        failure = {"code": plan.failure_code, "message": plan.failure_message or ""}
    return {
        "id": plan.public_id,
        "object": "installment_plan",
        "is_live": plan.is_live,
        "currency": plan.currency,
        "created_at": ts(plan.created_at),
        "is_active": plan.is_active,
        "is_fully_paid": plan.is_fully_paid,
        "schedule": [
            {"date": item.date.isoformat(), "amount": item.amount, "payment_ids": payment_ids.get(item.index, [])}
            for item in installments
        ],
        "failure": failure,
        "billing": address(plan.billing),
        "shipping": address(plan.shipping, SHIPPING_KEYS) if plan.shipping is not None else None,
        "hosted_payment": {"payment_url": payment_url, "return_url": plan.return_url, "cancel_url": plan.cancel_url},
        "notification": {"url": plan.notification_url, "response_code": plan.notification_response_code},
        "metadata": plan.metadata or {},
    }
