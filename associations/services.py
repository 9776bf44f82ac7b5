"""Campaigns: creating and changing them, starting a gift, and what each one raised.

A one-off gift is an ordinary payment (payments.services.create_payment, source "campaign"); a
monthly or yearly gift is a subscription (payments.subscriptions.create_subscription, source
"campaign"), whose hosted page asks for the donor's consent. Either way the donor then pays on
the hosted page, and the Gift row ties the donor's details to that payment or subscription.

What a campaign raised comes from the ledger: the gross of every posting on the campaign's
payments (captures, minus refunds, minus chargebacks, plus chargebacks won), so a refund or a
chargeback lowers the progress bar the moment it is posted. `net` is the same less the platform's
fees (what the association keeps).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Count, Q, Sum
from django.db.models.functions import TruncDate
from django.urls import reverse
from django.utils import timezone

from associations.models import Campaign, Gift
from merchants.services.audit import Actor, audit, save_changes
from payments import links, recurring, representations, services, subscriptions
from payments.errors import PaymentError
from payments.models import LedgerTransaction, Subscription
from payplug import dates

SOURCE = "campaign"
ONCE = links.ONCE
FREQUENCIES = links.FREQUENCIES
EDITABLE = (
    "title",
    "story",
    "picture",
    "goal",
    "suggested_amounts",
    "min_amount",
    "max_amount",
    "frequencies",
    "show_donors",
    "end_date",
)
# Recurring donors are those whose subscription still runs (a paused one may resume).
RUNNING = (Subscription.Status.ACTIVE, Subscription.Status.PAST_DUE, Subscription.Status.PAUSED)
MONEY_KINDS = (
    LedgerTransaction.Kind.CAPTURE,
    LedgerTransaction.Kind.REFUND,
    LedgerTransaction.Kind.FEE,
    LedgerTransaction.Kind.CHARGEBACK,
    LedgerTransaction.Kind.CHARGEBACK_REVERSAL,
)
CHART_DAYS = 30


def public_url(campaign: Campaign) -> str:
    return settings.PUBLIC_BASE_URL + reverse("campaigns:page", args=[campaign.slug])


def frequencies_of(campaign: Campaign) -> list[str]:
    try:
        return links.clean_frequencies(campaign.frequencies or [])
    except (TypeError, ValueError):
        return [ONCE]


def amount_bounds(campaign: Campaign) -> tuple[int, int]:
    """The amounts a donor may give (each period for a recurring gift)."""
    low, high = links.merchant_bounds(campaign.merchant)
    return max(low, campaign.min_amount or low), min(high, campaign.max_amount or high)


def today(campaign: Campaign) -> date:
    return recurring.today(campaign.merchant)


def has_ended(campaign: Campaign) -> bool:
    return campaign.end_date is not None and today(campaign) > campaign.end_date


def is_open(campaign: Campaign) -> bool:
    return campaign.is_active and not has_ended(campaign)


# --- dashboard ----------------------------------------------------------------------------------------


def create_campaign(merchant, is_live: bool, actor: Actor, fields: dict) -> Campaign:
    with transaction.atomic():
        campaign = Campaign(merchant=merchant, is_live=is_live, created_by=actor.user)
        for name in EDITABLE:
            if name in fields:
                setattr(campaign, name, fields[name])
        campaign.save()
        audit(merchant, actor, "campaign.created", obj_type="campaign", obj_id=campaign.public_id, is_live=is_live)
    return campaign


def update_campaign(campaign: Campaign, actor: Actor, fields: dict) -> Campaign:
    with transaction.atomic():
        locked = Campaign.objects.select_for_update().get(pk=campaign.pk)
        save_changes(locked, actor, "campaign.updated", obj_type="campaign", editable=EDITABLE, fields=fields)
    return locked


def set_active(campaign: Campaign, actor: Actor, active: bool) -> Campaign:
    with transaction.atomic():
        if Campaign.objects.filter(pk=campaign.pk, is_active=not active).update(is_active=active):
            audit(
                campaign.merchant,
                actor,
                "campaign.activated" if active else "campaign.deactivated",
                obj_type="campaign",
                obj_id=campaign.public_id,
                is_live=campaign.is_live,
            )
    campaign.refresh_from_db()
    return campaign


# --- a gift -------------------------------------------------------------------------------------------


@dataclass
class Donor:
    """A donor's validated input (the campaign page's form builds it)."""

    amount: int
    frequency: str
    first_name: str
    last_name: str
    email: str = ""
    address_line1: str = ""
    postcode: str = ""
    city: str = ""
    country: str = ""
    public: bool = False
    public_name: str = ""


class CampaignClosed(PaymentError):
    def __init__(self):
        super().__init__("campaign_closed", "This campaign no longer takes gifts.", status=410)


def _invalid(name: str, message: str) -> PaymentError:
    return PaymentError("invalid_request", message, details={name: message})


def check_gift(campaign: Campaign, donor: Donor) -> None:
    """Raise CampaignClosed, or PaymentError invalid_request naming the field."""
    if not is_open(campaign):
        raise CampaignClosed()
    if donor.frequency not in frequencies_of(campaign):
        raise _invalid("frequency", "This campaign does not offer that frequency.")
    low, high = amount_bounds(campaign)
    if not isinstance(donor.amount, int) or not low <= donor.amount <= high:
        raise _invalid("amount", f"The amount must be between {low} and {high} cents.")
    if not donor.first_name.strip() or not donor.last_name.strip():
        raise _invalid("first_name", "The donor's name is required.")
    if links.is_recurring(donor.frequency) and not donor.email:
        raise _invalid("email", "An email address is required for a monthly or yearly gift.")


def start_gift(campaign: Campaign, donor: Donor, ip: str | None, language: str | None) -> str:
    """The payment (once) or subscription (month, year) of one gift, and its Gift row, in one
    transaction; returns the hosted page the donor pays on. Raises CampaignClosed, PaymentError
    (invalid_request naming the field, feature_not_enabled...) and MerchantUnavailable; nothing
    is created then."""
    check_gift(campaign, donor)
    billing = {
        key: value
        for key, value in {
            "first_name": donor.first_name,
            "last_name": donor.last_name,
            "email": donor.email,
            "address1": donor.address_line1,
            "postcode": donor.postcode,
            "city": donor.city,
            "country": donor.country,
            "language": language,
        }.items()
        if value
    }
    gift = Gift(
        merchant=campaign.merchant,
        is_live=campaign.is_live,
        campaign=campaign,
        frequency=donor.frequency,
        amount=donor.amount,
        first_name=donor.first_name,
        last_name=donor.last_name,
        email=donor.email,
        address_line1=donor.address_line1,
        postcode=donor.postcode,
        city=donor.city,
        country=donor.country,
        public=donor.public,
        public_name=donor.public_name if donor.public else "",
    )
    metadata = {"campaign": campaign.public_id, "gift": gift.public_id}
    back = public_url(campaign)
    with transaction.atomic():
        if links.is_recurring(donor.frequency):
            gift.subscription = subscriptions.create_subscription(
                campaign.merchant,
                campaign.is_live,
                subscriptions.NewSubscription(
                    amount=donor.amount,
                    interval=donor.frequency,
                    billing=billing,
                    return_url=back,
                    cancel_url=back,
                    description=campaign.title[:255],
                    metadata=metadata,
                    source=SOURCE,
                    shopper_ip=ip,
                    shopper_language=language,
                ),
            )
            url = subscriptions.hosted_url(gift.subscription)
        else:
            gift.payment = services.create_payment(
                campaign.merchant,
                campaign.is_live,
                services.NewPayment(
                    amount=donor.amount,
                    billing=billing,
                    return_url=back,
                    cancel_url=back,
                    description=campaign.title[:255],
                    metadata=metadata,
                    source=SOURCE,
                    shopper_ip=ip,
                    shopper_language=language,
                ),
            )
            url = representations.hosted_payment_url(gift.payment)
        gift.save()
    return url


# --- what a campaign raised ---------------------------------------------------------------------------


@dataclass
class Progress:
    raised: int = 0  # cents given, refunds and chargebacks deducted (ledger gross)
    net: int = 0  # the same less the platform's fees (ledger net)
    donors: int = 0  # gifts with money kept: paid and not wholly refunded or charged back
    recurring_donors: int = 0  # of those, monthly or yearly gifts whose subscription still runs
    goal: int | None = None
    paid_gift_ids: set[int] = field(default_factory=set)

    @property
    def goal_percent(self) -> int | None:
        if not self.goal:
            return None
        return max(0, min(100, self.raised * 100 // self.goal))


def _campaign_gifts(campaigns):
    return Gift.objects.filter(campaign__in=campaigns, merchant_id__in={c.merchant_id for c in campaigns})


def _ledger_of(gifts):
    """The money postings of the gifts' payments: one-off payments and every period's payment of
    the recurring gifts' subscriptions (card checks never reach the ledger)."""
    return LedgerTransaction.objects.filter(kind__in=MONEY_KINDS).filter(
        Q(payment_id__in=gifts.filter(payment__isnull=False).values("payment_id"))
        | Q(payment__subscription_id__in=gifts.filter(subscription__isnull=False).values("subscription__public_id"))
    )


def progress_of(campaigns) -> dict[int, Progress]:
    """Progress of each campaign (by pk), in two queries whatever their number."""
    campaigns = list(campaigns)
    result = {c.pk: Progress(goal=c.goal) for c in campaigns}
    if not campaigns:
        return result
    gifts = _campaign_gifts(campaigns)
    rows = list(gifts.values("pk", "campaign_id", "payment_id", "subscription__public_id", "subscription__status"))
    by_payment = {row["payment_id"]: row for row in rows if row["payment_id"]}
    by_subscription = {row["subscription__public_id"]: row for row in rows if row["subscription__public_id"]}
    kept: dict[int, int] = {}
    sums = (
        _ledger_of(gifts)
        .values("payment_id", "payment__subscription_id")
        .annotate(gross=Sum("gross"), net=Sum("net"))
        .order_by()
    )
    for line in sums:
        row = by_payment.get(line["payment_id"]) or by_subscription.get(line["payment__subscription_id"])
        if row is None:
            continue
        progress = result[row["campaign_id"]]
        progress.raised += line["gross"] or 0
        progress.net += line["net"] or 0
        kept[row["pk"]] = kept.get(row["pk"], 0) + (line["gross"] or 0)
    for row in rows:
        if kept.get(row["pk"], 0) <= 0:
            continue
        progress = result[row["campaign_id"]]
        progress.donors += 1
        progress.paid_gift_ids.add(row["pk"])
        if row["subscription__status"] in RUNNING:
            progress.recurring_donors += 1
    return result


def progress(campaign: Campaign) -> Progress:
    return progress_of([campaign])[campaign.pk]


def public_donors(campaign: Campaign, paid: Progress, limit: int = 50) -> list[Gift]:
    """The latest donors who agreed to appear, whose gift was paid (and not taken back)."""
    if not campaign.show_donors or not paid.paid_gift_ids:
        return []
    candidates = campaign.gifts.filter(public=True).order_by("-created_at", "-id")[: limit * 4]
    return [gift for gift in candidates if gift.pk in paid.paid_gift_ids][:limit]


def gifts_per_day(campaign: Campaign, now=None, days: int = CHART_DAYS) -> list[dict]:
    """Paid gifts (captures) per day over the last `days` days, in the merchant's time zone,
    oldest first, a row for every day: {"day", "count", "amount"}."""
    now = now or timezone.now()
    zone = dates.zone(campaign.merchant.time_zone)
    last = timezone.localtime(now, zone).date()
    first = last - timedelta(days=days - 1)
    gifts = _campaign_gifts([campaign])
    rows = (
        _ledger_of(gifts)
        .filter(kind=LedgerTransaction.Kind.CAPTURE, created_at__gte=now - timedelta(days=days + 1))
        .annotate(day=TruncDate("created_at", tzinfo=zone))
        .values("day")
        .annotate(count=Count("id"), amount=Sum("gross"))
        .order_by("day")
    )
    found = {row["day"]: row for row in rows}
    series = []
    for offset in range(days):
        day = first + timedelta(days=offset)
        row = found.get(day, {})
        series.append({"day": day, "count": row.get("count", 0), "amount": row.get("amount") or 0})
    return series
