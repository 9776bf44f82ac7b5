"""The payments part of the dashboard home (issue 12, findings 12 and 13), registered with
merchants.home in payments/apps.py: merchants never imports payments.

* Figures: paid volume and count today and this month, what was refunded this month, the success
  rate, and a 30-day chart. Days are the organisation's (the active time zone). Read from the
  ledger's capture and refund postings (one grouped query on the (merchant, is_live, created_at)
  index) and one conditional COUNT on the payments' status index.
* Balance: available and pending (payments.money.ledger.balances) and the next payout.
* Needs attention: disputes waiting for a response with their deadlines, payments stuck.
* The sidebar's count of disputes that need a response (one COUNT).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, tzinfo

from django.db.models import Count, Min, Q, Sum
from django.db.models.functions import TruncDate
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from merchants.home import Attention
from payments import amounts
from payments.models import Dispute, LedgerTransaction, Payment, Payout
from payments.money import disputes, ledger
from payplug import dates

CHART_DAYS = 30
CHART_WIDTH, CHART_HEIGHT = 300, 100  # the SVG's viewBox: one 10-unit slot per day
STUCK_AFTER = timedelta(minutes=30)  # processing or waiting for the fraud decision this long: stuck
CAPTURE_WARNING = timedelta(hours=24)  # a deferred authorisation expiring this soon: capture it
DISPUTES_LISTED = 5

TxKind = LedgerTransaction.Kind
Status = Payment.Status


# --- figures -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Bar:
    day: date
    volume: int
    count: int
    x: float
    y: float
    width: float
    height: float


@dataclass
class Chart:
    bars: list[Bar]
    peak: int
    total: int
    width: int = CHART_WIDTH
    height: int = CHART_HEIGHT


@dataclass
class Figures:
    today: date
    today_volume: int = 0
    today_count: int = 0
    month_volume: int = 0
    month_count: int = 0
    month_refunded: int = 0
    success_rate: int | None = None  # percent of payments where a card was tried that were paid
    attempted: int = 0
    chart: Chart = field(default_factory=lambda: Chart([], 0, 0))


def _midnight(day: date, zone: tzinfo) -> datetime:
    return datetime.combine(day, time.min).replace(tzinfo=zone)


def figures(merchant_id: int, is_live: bool, now: datetime | None = None) -> Figures:
    """The home's figures for one merchant and mode, in the active time zone. Two queries."""
    zone = timezone.get_current_timezone()
    now = now or timezone.now()
    today = timezone.localtime(now, zone).date()
    first = today - timedelta(days=CHART_DAYS - 1)
    month_start = today.replace(day=1)
    since, until = _midnight(min(first, month_start), zone), _midnight(today + timedelta(days=1), zone)
    rows = (
        LedgerTransaction.objects.filter(
            merchant_id=merchant_id,
            is_live=is_live,
            kind__in=[TxKind.CAPTURE, TxKind.REFUND],
            created_at__gte=since,
            created_at__lt=until,
        )
        .annotate(day=TruncDate("created_at", tzinfo=zone))
        .values("day", "kind")
        .annotate(total=Sum("gross"), n=Count("id"))
        .order_by()
    )
    result = Figures(today=today)
    per_day: dict[date, tuple[int, int]] = {}
    for row in rows:
        day, total, n = row["day"], row["total"] or 0, row["n"]
        if row["kind"] == TxKind.REFUND:
            if day >= month_start:
                result.month_refunded += -total
            continue
        per_day[day] = (total, n)
        if day >= month_start:
            result.month_volume += total
            result.month_count += n
        if day == today:
            result.today_volume, result.today_count = total, n
    outcomes = Payment.objects.filter(
        merchant_id=merchant_id,
        is_live=is_live,
        status__in=[Status.PAID, Status.FAILED],
        created_at__gte=_midnight(first, zone),
        card_last4__isnull=False,
    ).aggregate(attempted=Count("id"), paid=Count("id", filter=Q(status=Status.PAID)))
    result.attempted = outcomes["attempted"] or 0
    if result.attempted:
        result.success_rate = round(100 * (outcomes["paid"] or 0) / result.attempted)
    days = [first + timedelta(days=i) for i in range(CHART_DAYS)]
    result.chart = _chart([(day, *per_day.get(day, (0, 0))) for day in days])
    return result


def _chart(days: list[tuple[date, int, int]]) -> Chart:
    peak = max([volume for _day, volume, _n in days] or [0])
    slot = CHART_WIDTH / max(len(days), 1)
    bars = []
    for i, (day, volume, n) in enumerate(days):
        height = 0.0
        if volume and peak:
            height = max(round(CHART_HEIGHT * volume / peak, 1), 1.0)  # a small day stays visible
        bars.append(
            Bar(
                day=day,
                volume=volume,
                count=n,
                x=round(i * slot + slot * 0.1, 1),
                y=round(CHART_HEIGHT - height, 1),
                width=round(slot * 0.8, 1),
                height=height,
            )
        )
    return Chart(bars=bars, peak=peak, total=sum(volume for _day, volume, _n in days))


def payments_panel(dashboard) -> dict:
    return {"figures": figures(dashboard.merchant.pk, dashboard.is_live)}


# --- balance and next payout -------------------------------------------------------------------------


@dataclass
class NextPayout:
    amount: int | None = None  # None: no payout is coming
    day: date | None = None
    payout: Payout | None = None  # the payout already on its way
    paused: bool = False
    needs_iban: bool = False
    minimum: int = 0


def next_payout(merchant, is_live: bool, now: datetime | None = None, available: int | None = None) -> NextPayout:
    """The payout on its way, else what the daily payout job (payments.money.payouts, UTC days)
    will pay next from the available balance, else why nothing is coming."""
    now = now or timezone.now()
    latest = Payout.objects.filter(merchant=merchant, is_live=is_live).order_by("-payout_date", "-id").first()
    if latest is not None and latest.status in (Payout.Status.PENDING, Payout.Status.IN_TRANSIT):
        return NextPayout(amount=latest.amount, day=latest.payout_date, payout=latest)
    schedule = ledger.settings_for(merchant)
    if schedule.payouts_paused:
        return NextPayout(paused=True, minimum=schedule.payout_minimum)
    if available is None:
        available = ledger.balances(merchant.pk, is_live).available
    if available <= 0 or available < schedule.payout_minimum:
        return NextPayout(minimum=schedule.payout_minimum)
    if not merchant.iban:
        return NextPayout(needs_iban=True, minimum=schedule.payout_minimum)
    utc_today = now.astimezone(UTC).date()
    day = utc_today + timedelta(days=1) if latest is not None and latest.payout_date >= utc_today else utc_today
    return NextPayout(amount=available, day=day, minimum=schedule.payout_minimum)


def balance_panel(dashboard) -> dict:
    merchant, is_live = dashboard.merchant, dashboard.is_live
    balances = ledger.balances(merchant.pk, is_live)
    return {"balances": balances, "next_payout": next_payout(merchant, is_live, available=balances.available)}


# --- needs attention -----------------------------------------------------------------------------------


def dispute_items(dashboard) -> list[Attention]:
    """Each dispute that needs a response, nearest deadline first; urgent in its last days."""
    now = timezone.now()
    waiting = Dispute.objects.for_tenant(dashboard.merchant, dashboard.is_live).filter(
        status=Dispute.Status.NEEDS_RESPONSE
    )
    listed = list(waiting.select_related("payment").order_by("evidence_due_by", "id")[: DISPUTES_LISTED + 1])
    items = []
    for dispute in listed[:DISPUTES_LISTED]:
        items.append(
            Attention(
                title=_("Dispute of %(amount)s: respond by %(deadline)s")
                % {
                    "amount": amounts.format_money(dispute.amount, dispute.currency),
                    "deadline": dates.format_datetime(dispute.evidence_due_by),
                },
                url=reverse("dashboard:dispute", args=[dispute.public_id]),
                detail=_("%(reason)s · payment %(payment)s · without evidence by then, the dispute is lost")
                % {"reason": dispute.get_reason_display(), "payment": dispute.payment.public_id},
                due_at=dispute.evidence_due_by,
                severity="danger" if dispute.evidence_due_by <= now + disputes.REMINDER_BEFORE else "warning",
            )
        )
    if len(listed) > DISPUTES_LISTED:
        more = waiting.count() - DISPUTES_LISTED
        items.append(
            Attention(
                title=ngettext(
                    "%(count)d more dispute needs a response", "%(count)d more disputes need a response", more
                )
                % {"count": more},
                url=reverse("dashboard:disputes"),
            )
        )
    return items


def stuck_items(dashboard) -> list[Attention]:
    """Payments stuck: processing or waiting for the fraud decision for STUCK_AFTER, and deferred
    authorisations that expire within CAPTURE_WARNING. One conditional COUNT."""
    now = timezone.now()
    cutoff = now - STUCK_AFTER
    counts = Payment.objects.filter(
        merchant=dashboard.merchant,
        is_live=dashboard.is_live,
        status__in=[Status.PENDING, Status.AUTHORIZED, Status.CAPTURABLE],
    ).aggregate(
        processing=Count("id", filter=Q(status=Status.PENDING, updated_at__lt=cutoff)),
        deciding=Count("id", filter=Q(status=Status.AUTHORIZED, updated_at__lt=cutoff)),
        expiring=Count("id", filter=Q(status=Status.CAPTURABLE, authorization_expires_at__lt=now + CAPTURE_WARNING)),
        first_expiry=Min("authorization_expires_at", filter=Q(status=Status.CAPTURABLE)),
    )
    payments_url = reverse("dashboard:payments")
    minutes = int(STUCK_AFTER.total_seconds() // 60)
    items = []
    if counts["processing"]:
        n = counts["processing"]
        items.append(
            Attention(
                title=ngettext(
                    "%(count)d payment has been processing for more than %(minutes)d minutes",
                    "%(count)d payments have been processing for more than %(minutes)d minutes",
                    n,
                )
                % {"count": n, "minutes": minutes},
                url=f"{payments_url}?status={Status.PENDING}",
                detail=_("We keep asking the bank for the answer; contact us if it stays this way."),
            )
        )
    if counts["deciding"]:
        n = counts["deciding"]
        items.append(
            Attention(
                title=ngettext(
                    "%(count)d authorised payment has been waiting for the fraud check for more than "
                    "%(minutes)d minutes",
                    "%(count)d authorised payments have been waiting for the fraud check for more than "
                    "%(minutes)d minutes",
                    n,
                )
                % {"count": n, "minutes": minutes},
                url=f"{payments_url}?status={Status.AUTHORIZED}",
                detail=_("Contact us if they stay this way: the money is not collected until they are decided."),
            )
        )
    if counts["expiring"]:
        n = counts["expiring"]
        items.append(
            Attention(
                title=ngettext(
                    "%(count)d authorised payment expires soon: capture it",
                    "%(count)d authorised payments expire soon: capture them",
                    n,
                )
                % {"count": n},
                url=f"{payments_url}?status={Status.CAPTURABLE}",
                detail=_("Not captured by %(deadline)s, an authorisation expires and the money is not collected.")
                % {"deadline": dates.format_datetime(counts["first_expiry"])},
                due_at=counts["first_expiry"],
                severity="danger",
            )
        )
    return items


def open_disputes(dashboard) -> int:
    """The sidebar's count: disputes that need a response, in this mode. One COUNT."""
    return Dispute.objects.filter(
        merchant=dashboard.merchant, is_live=dashboard.is_live, status=Dispute.Status.NEEDS_RESPONSE
    ).count()
