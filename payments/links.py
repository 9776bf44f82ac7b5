"""Payment links: creating and changing them, and starting the payment of one visit.

A link is a page (/l/<slug>/) that a merchant shares as a URL or a QR code; every visit that
submits it creates its own payment (source "link") through services.create_payment, then the
shopper pays it on the hosted page like any other payment.

A link may also offer "month" and "year" (PaymentLink.frequencies): a visit that chooses one starts
a subscription (payments.subscriptions, source "link") instead, whose hosted page asks for the
subscriber's consent; a membership or a monthly donation without code.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.db.models import Count, Q, Sum
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from merchants.services.audit import Actor, audit, save_changes
from payments import services, subscriptions
from payments.amounts import MAX_AMOUNT, MIN_AMOUNT
from payments.errors import PaymentError
from payments.models import Payment, PaymentLink, Subscription

EDITABLE = (
    "description",
    "amount",
    "min_amount",
    "max_amount",
    "ask_quantity",
    "max_quantity",
    "collect_name",
    "collect_email",
    "collect_address",
    "return_url",
    "frequencies",
)
SUCCEEDED = (Payment.Status.PAID, Payment.Status.CAPTURABLE)


# How often a link or the pay button lets the shopper pay: "once" is an ordinary payment, the
# others start a subscription with that interval. In this order on every page.
ONCE = "once"
FREQUENCIES = (ONCE, *Subscription.Interval.values)
FREQUENCY_LABELS = {"once": _("One-off"), "month": _("Monthly"), "year": _("Yearly")}
EVERY = {"month": _("every month"), "year": _("every year")}


def clean_frequencies(values) -> list[str]:
    """Known frequencies, without repeats, in the order of FREQUENCIES; raises ValueError on an
    unknown one or on none at all."""
    chosen = {value.strip().lower() if isinstance(value, str) else repr(value) for value in values}
    unknown = sorted(value for value in chosen if value not in FREQUENCIES)
    if unknown or not chosen:
        raise ValueError(unknown)
    return [value for value in FREQUENCIES if value in chosen]


def frequencies_of(link: PaymentLink) -> list[str]:
    """What the link offers (an unreadable stored value counts as one-off only)."""
    try:
        return clean_frequencies(link.frequencies or [])
    except (TypeError, ValueError):
        return [ONCE]


def is_recurring(frequency: str) -> bool:
    return frequency in EVERY


def frequencies_text(frequencies) -> str:
    return ", ".join(str(FREQUENCY_LABELS[value]) for value in frequencies if value in FREQUENCY_LABELS)


def merchant_bounds(merchant) -> tuple[int, int]:
    return max(MIN_AMOUNT, merchant.min_amount), min(MAX_AMOUNT, merchant.max_amount)


def amount_bounds(link: PaymentLink) -> tuple[int, int]:
    """The unit amounts a visitor may give on a free-amount link."""
    low, high = merchant_bounds(link.merchant)
    return max(low, link.min_amount or low), min(high, link.max_amount or high)


def public_url(link: PaymentLink) -> str:
    return settings.PUBLIC_BASE_URL + reverse("links:page", args=[link.slug])


# --- dashboard ------------------------------------------------------------------------------------


def create_link(merchant, is_live: bool, actor: Actor, fields: dict) -> PaymentLink:
    with transaction.atomic():
        link = PaymentLink.objects.create(
            merchant=merchant,
            is_live=is_live,
            created_by=actor.user,
            **{name: fields[name] for name in EDITABLE if name in fields},
        )
        audit(merchant, actor, "payment_link.created", obj_type="payment_link", obj_id=link.public_id, is_live=is_live)
    return link


def update_link(link: PaymentLink, actor: Actor, fields: dict) -> PaymentLink:
    with transaction.atomic():
        locked = PaymentLink.objects.select_for_update().get(pk=link.pk)
        save_changes(locked, actor, "payment_link.updated", obj_type="payment_link", editable=EDITABLE, fields=fields)
    return locked


def set_active(link: PaymentLink, actor: Actor, active: bool) -> PaymentLink:
    with transaction.atomic():
        updated = PaymentLink.objects.filter(pk=link.pk, is_active=not active).update(is_active=active)
        if updated:
            audit(
                link.merchant,
                actor,
                "payment_link.activated" if active else "payment_link.deactivated",
                obj_type="payment_link",
                obj_id=link.public_id,
                is_live=link.is_live,
            )
    link.refresh_from_db()
    return link


def with_totals(queryset):
    """Each link with its payment count, paid count and paid total (cents)."""
    paid = Q(payments__status__in=SUCCEEDED)
    return queryset.annotate(
        payment_count=Count("payments", distinct=True),
        paid_count=Count("payments", filter=paid, distinct=True),
        paid_total=Sum("payments__amount", filter=paid),
    )


# --- a visit ----------------------------------------------------------------------------------------


@dataclass
class Visit:
    unit_amount: int
    quantity: int = 1
    billing: dict | None = None
    shopper_ip: str | None = None
    language: str | None = None


class LinkInactive(PaymentError):
    def __init__(self):
        super().__init__("payment_link_inactive", "This payment link is no longer active.")


def start_payment(link: PaymentLink, visit: Visit) -> Payment:
    """The payment of one visit; the caller has validated the amount, quantity and fields."""
    if not link.is_active:
        raise LinkInactive()
    total = visit.unit_amount * visit.quantity
    low, high = merchant_bounds(link.merchant)
    if not low <= total <= high:
        raise PaymentError("invalid_amount", f"The total must be between {low} and {high} cents.")
    description = link.description
    if link.ask_quantity and visit.quantity > 1:
        description = f"{description} \u00d7 {visit.quantity}"
    back = link.return_url or public_url(link)
    with transaction.atomic():
        payment = services.create_payment(
            link.merchant,
            link.is_live,
            services.NewPayment(
                amount=total,
                billing={**(visit.billing or {}), "language": visit.language},
                return_url=back,
                cancel_url=public_url(link),
                description=description[:255],
                metadata={"payment_link": link.public_id, "quantity": visit.quantity},
                source="link",
                shopper_ip=visit.shopper_ip,
                shopper_language=visit.language,
            ),
        )
        # Which link a payment came from (for the link's list and totals); same transaction.
        Payment.objects.filter(pk=payment.pk).update(link=link)
    payment.link = link
    return payment


def start_subscription(link: PaymentLink, visit: Visit, interval: str) -> Subscription:
    """The subscription of one visit that chose "month" or "year" (no quantity: one unit each
    period); the caller has validated the amount and the fields, an email address among them.
    Raises PaymentError (LinkInactive, invalid_request from payments.subscriptions.validate)."""
    if not link.is_active:
        raise LinkInactive()
    if not is_recurring(interval) or interval not in frequencies_of(link):
        raise PaymentError(
            "invalid_request", "This link does not offer that frequency.", details={"frequency": "not offered"}
        )
    return subscriptions.create_subscription(
        link.merchant,
        link.is_live,
        subscriptions.NewSubscription(
            amount=visit.unit_amount,
            interval=interval,
            billing={**(visit.billing or {}), "language": visit.language},
            return_url=link.return_url or public_url(link),
            cancel_url=public_url(link),
            description=link.description[:255],
            metadata={"payment_link": link.public_id},
            source="link",
            link=link,
            shopper_ip=visit.shopper_ip,
            shopper_language=visit.language,
        ),
    )
