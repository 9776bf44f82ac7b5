"""Dashboard pages of subscriptions (recurring donations and memberships): the figures (active
subscribers, monthly recurring revenue, churn, failing payments), the list with its filters, a
subscription's terms, consent, card, charges and payments, pause / resume / cancel, the test
clock, and the home's "needs attention" line for past-due subscriptions (registered in
payments/apps.py).

Every query is scoped by the request's merchant and mode. The list is a keyset page on
(created_at, id) like the payments list; its rows' next charges are read in one more query.
State changes go through payments.subscriptions; the views only parse, authorise and render.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db.models import Count
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from merchants import roles
from merchants.decorators import dashboard_view
from merchants.home import Attention
from merchants.services.audit import Actor
from payments import amounts, recurring, subscriptions
from payments.dashboard import queries
from payments.errors import PaymentError
from payments.models import Payment, Subscription, SubscriptionCharge
from payplug import dates

Status = Subscription.Status
ChargeStatus = SubscriptionCharge.Status
# Who may pause, resume or cancel a subscription or move its test clock: those who may refund its
# payments, as for installment plans (payments.dashboard.installments.MANAGE_PLANS).
MANAGE_SUBSCRIPTIONS = roles.REFUND
CHURN_WINDOW = timedelta(days=30)
MAX_CLOCK_DAYS = recurring.MAX_CLOCK_DAYS  # what payments.subscriptions.advance_clock accepts
SEARCH_LENGTH = 254

BADGES = {
    Status.INCOMPLETE: "",
    Status.ACTIVE: "ok",
    Status.PAST_DUE: "warn",
    Status.PAUSED: "",
    Status.CANCELED: "danger",
    Status.ENDED: "",
}
CHARGE_BADGES = {
    ChargeStatus.SCHEDULED: "",
    ChargeStatus.CHARGING: "",
    ChargeStatus.PAID: "ok",
    ChargeStatus.RETRYING: "warn",
    ChargeStatus.FAILED: "danger",
    ChargeStatus.CANCELED: "",
}


def _tenant(request, model):
    return model.objects.for_tenant(request.dashboard.merchant, request.dashboard.is_live)


def terms_label(amount: int, currency: str, interval: str, interval_count: int) -> str:
    """'€10.00 / month', '€50.00 every 2 months', '€30.00 / year', '€60.00 every 2 years'."""
    money = amounts.format_money(amount, currency)
    if interval == Subscription.Interval.YEAR:
        if interval_count == 1:
            return _("%(amount)s / year") % {"amount": money}
        return ngettext("%(amount)s every %(count)d year", "%(amount)s every %(count)d years", interval_count) % {
            "amount": money,
            "count": interval_count,
        }
    if interval_count == 1:
        return _("%(amount)s / month") % {"amount": money}
    return ngettext("%(amount)s every %(count)d month", "%(amount)s every %(count)d months", interval_count) % {
        "amount": money,
        "count": interval_count,
    }


def _terms(sub: Subscription) -> str:
    return terms_label(sub.amount, sub.currency, sub.interval, sub.interval_count)


# --- figures -----------------------------------------------------------------------------------------


@dataclass
class Figures:
    subscribers: int  # active and past due
    monthly_revenue: int  # cents: the sum of their monthly_amount()
    churned: int  # canceled in the last 30 days (not counting first payments never made)
    churn_base: int  # subscribers 30 days ago
    past_due: int

    @property
    def churn_percent(self) -> float | None:
        """None when there was nobody to lose 30 days ago."""
        if not self.churn_base:
            return None
        return 100 * self.churned / self.churn_base


def figures(merchant, is_live: bool, now: datetime | None = None) -> Figures:
    """The list's figures for one merchant and mode. Three queries, none reading whole rows.

    Churn: of the subscribers 30 days ago (started by then: their first payment went through, and
    neither canceled nor ended by then), the share canceled since. Subscribers who joined and left
    within the window are not in it (so it never exceeds 100 %); neither are first payments never
    made (they were never subscribers).
    """
    now = now or timezone.now()
    since = now - CHURN_WINDOW
    subs = Subscription.objects.filter(merchant=merchant, is_live=is_live)
    chargeable = subs.filter(status__in=Subscription.CHARGEABLE)
    by_terms = chargeable.values("status", "amount", "interval", "interval_count").annotate(n=Count("id")).order_by()
    subscribers = past_due = revenue = 0
    for row in by_terms:
        subscribers += row["n"]
        if row["status"] == Status.PAST_DUE:
            past_due += row["n"]
        # The model's own arithmetic (and rounding), once per distinct terms.
        terms = Subscription(amount=row["amount"], interval=row["interval"], interval_count=row["interval_count"])
        revenue += row["n"] * terms.monthly_amount()
    churned = (
        subs.filter(status=Status.CANCELED, canceled_at__gte=since, canceled_at__lte=now, activated_at__lte=since)
        .exclude(canceled_by=Subscription.CanceledBy.FIRST_PAYMENT)
        .count()
    )
    base = subs.filter(activated_at__lte=since).exclude(canceled_at__lt=since).exclude(ended_at__lt=since).count()
    return Figures(subscribers, revenue, churned, base, past_due)


# --- the list ----------------------------------------------------------------------------------------


@dataclass
class SubscriptionRow:
    sub: Subscription
    next_charge: SubscriptionCharge | None

    @property
    def terms(self) -> str:
        return _terms(self.sub)

    @property
    def badge(self) -> str:
        return BADGES.get(self.sub.status, "")

    @property
    def next_date(self) -> date | None:
        return charge_day(self.sub, self.next_charge)

    @property
    def subscriber_name(self) -> str:
        billing = self.sub.billing or {}
        return " ".join(part for part in (billing.get("first_name"), billing.get("last_name")) if part)

    @property
    def subscriber_email(self) -> str:
        return (self.sub.billing or {}).get("email") or ""


def charge_day(sub: Subscription, charge: SubscriptionCharge | None) -> date | datetime | None:
    """When the open charge is taken: its date, or for a declined one its next try, as the
    subscription's clock reads it (the test clock moves it forward). None when nothing is to be
    charged (paused, canceled, ended)."""
    if charge is None or sub.status not in Subscription.CHARGEABLE:
        return None
    if charge.status == ChargeStatus.RETRYING and charge.next_attempt_at is not None:
        return charge.next_attempt_at + sub.clock_offset
    return charge.date


def filter_subscriptions(queryset, status: str, email: str):
    if status:
        queryset = queryset.filter(status=status)
    if email:
        queryset = queryset.filter(billing__email__icontains=email)
    return queryset


def _rows(subs: list[Subscription]) -> list[SubscriptionRow]:
    open_charges: dict[int, SubscriptionCharge] = {}
    charges = SubscriptionCharge.objects.filter(
        subscription__in=[sub.pk for sub in subs], status__in=SubscriptionCharge.OPEN
    ).order_by("-period")
    for charge in charges:  # the lowest open period last, so it wins
        open_charges[charge.subscription_id] = charge
    return [SubscriptionRow(sub, open_charges.get(sub.pk)) for sub in subs]


@dashboard_view(roles.VIEW_PAYMENTS)
def subscription_list(request):
    status = request.GET.get("status", "")
    status = status if status in Status.values else ""
    email = request.GET.get("email", "").strip()[:SEARCH_LENGTH]
    queryset = filter_subscriptions(_tenant(request, Subscription), status, email)
    page, next_cursor = queries.keyset_page(queryset, request.GET.get("after"))
    filter_items = [(name, value) for name, value in (("status", status), ("email", email)) if value]
    return render(
        request,
        "dashboard/subscriptions.html",
        {
            "figures": figures(request.dashboard.merchant, request.dashboard.is_live),
            "rows": _rows(page),
            "next_cursor": next_cursor,
            "is_first_page": not request.GET.get("after"),
            "status": status,
            "email": email,
            "filter_items": filter_items,
            "statuses": Status.choices,
            "past_due_status": Status.PAST_DUE,
        },
    )


# --- the detail --------------------------------------------------------------------------------------


@dataclass
class ChargeLine:
    charge: SubscriptionCharge
    payments: list[Payment]
    retry_at: datetime | None

    @property
    def badge(self) -> str:
        return CHARGE_BADGES.get(self.charge.status, "")


def _get_subscription(request, sub_id: str) -> Subscription:
    queryset = _tenant(request, Subscription).select_related("merchant", "card", "link")
    return get_object_or_404(queryset, public_id=sub_id)


def _charge_lines(sub: Subscription, charges: list[SubscriptionCharge], payments: list[Payment]) -> list[ChargeLine]:
    by_pk = {payment.pk: payment for payment in payments}
    lines = []
    for charge in charges:
        linked = []
        for pk in (charge.page_payment_id, charge.charge_payment_id, charge.paid_payment_id):
            payment = by_pk.get(pk)
            if payment is not None and payment not in linked:
                linked.append(payment)
        # A declined charge's earlier tries are payments of its period too.
        for payment in payments:
            if payment.subscription_period == charge.period and payment not in linked:
                linked.append(payment)
        linked.sort(key=lambda payment: (payment.created_at, payment.pk))
        retry_at = None
        if charge.status == ChargeStatus.RETRYING and charge.next_attempt_at is not None:
            retry_at = charge.next_attempt_at + sub.clock_offset
        lines.append(ChargeLine(charge, linked, retry_at))
    return lines


def _detail_context(request, sub: Subscription, **extra) -> dict:
    charges = list(sub.charges.order_by("period"))
    payments = list(_tenant(request, Payment).filter(subscription=sub).order_by("created_at", "pk"))
    next_charge = subscriptions.next_charge(sub)
    can_manage = request.dashboard.can(MANAGE_SUBSCRIPTIONS)
    context = {
        "sub": sub,
        "terms": _terms(sub),
        "badge": BADGES.get(sub.status, ""),
        "next_charge": next_charge,
        "next_date": charge_day(sub, next_charge),
        "charges": _charge_lines(sub, charges, payments),
        "payments": payments,
        "subscriber": SubscriptionRow(sub, next_charge),
        "can_pause": can_manage and sub.status in Subscription.CHARGEABLE,
        "can_resume": can_manage and sub.status == Status.PAUSED,
        "can_cancel": can_manage and sub.is_open,
        "can_advance": can_manage and not sub.is_live and not request.dashboard.is_live and sub.is_open,
        "clock_now": sub.now(),
        "clock_days": sub.clock_offset.days,
        "max_clock_days": MAX_CLOCK_DAYS,
        "action_error": None,
        "clock_error": None,
    }
    context.update(extra)
    return context


def _render_detail(request, sub: Subscription, template="dashboard/subscription_detail.html", status=200, **extra):
    return render(request, template, _detail_context(request, sub, **extra), status=status)


@dashboard_view(roles.VIEW_PAYMENTS)
def subscription_detail(request, sub_id):
    return _render_detail(request, _get_subscription(request, sub_id))


def _change(request, sub_id: str, change, done: str):
    """POST pause or resume: the service call, a message, back to the detail. A refusal is shown
    next to the buttons, on the detail page answered with 400."""
    sub = _get_subscription(request, sub_id)
    try:
        sub = change(sub, by=Subscription.CanceledBy.MERCHANT, actor=Actor.from_request(request))
    except PaymentError as exc:
        return _render_detail(request, sub, status=400, action_error=exc.message)
    messages.success(request, done)
    return redirect("dashboard:subscription", sub.public_id)


@require_POST
@dashboard_view(MANAGE_SUBSCRIPTIONS)
def subscription_pause(request, sub_id):
    return _change(request, sub_id, subscriptions.pause, _("Subscription paused: nothing is charged until resumed."))


@require_POST
@dashboard_view(MANAGE_SUBSCRIPTIONS)
def subscription_resume(request, sub_id):
    return _change(request, sub_id, subscriptions.resume, _("Subscription resumed: the next charges are scheduled."))


@dashboard_view(MANAGE_SUBSCRIPTIONS)
def subscription_cancel(request, sub_id):
    """GET: the confirmation; POST: cancel (nothing more is charged, paid charges stay paid)."""
    sub = _get_subscription(request, sub_id)
    if not sub.is_open:
        messages.error(request, _("This subscription has ended: there is nothing left to cancel."))
        return redirect("dashboard:subscription", sub.public_id)
    template = "dashboard/subscription_cancel.html"
    if request.method == "POST":
        try:
            subscriptions.cancel(sub, by=Subscription.CanceledBy.MERCHANT, actor=Actor.from_request(request))
        except PaymentError as exc:
            return _render_detail(request, sub, template, status=400, action_error=exc.message)
        messages.success(request, _("Subscription canceled: nothing more will be charged."))
        return redirect("dashboard:subscription", sub.public_id)
    return _render_detail(request, sub, template)


@require_POST
@dashboard_view(MANAGE_SUBSCRIPTIONS)
def subscription_test_clock(request, sub_id):
    """Test mode only: advance the subscription's clock by N days and charge what became due."""
    sub = _get_subscription(request, sub_id)
    if sub.is_live or request.dashboard.is_live:
        raise PermissionDenied
    raw = request.POST.get("days", "").strip()
    days = int(raw) if raw.isdigit() else None
    if days is None or not 1 <= days <= MAX_CLOCK_DAYS:
        error = _("Enter a number of days between 1 and %(max)d.") % {"max": MAX_CLOCK_DAYS}
        return _render_detail(request, sub, status=400, clock_error=error)
    try:
        sub = subscriptions.advance_clock(sub, days)
    except PaymentError as exc:
        return _render_detail(request, sub, status=400, clock_error=exc.message)
    messages.success(
        request,
        ngettext(
            "Test clock advanced by %(days)d day: the subscription's date is now %(today)s.",
            "Test clock advanced by %(days)d days: the subscription's date is now %(today)s.",
            days,
        )
        % {"days": days, "today": dates.format_date(sub.now())},
    )
    return redirect("dashboard:subscription", sub.public_id)


# --- needs attention ---------------------------------------------------------------------------------


def attention_items(dashboard) -> list[Attention]:
    """Past-due subscriptions: a charge was declined and is being retried. One COUNT."""
    past_due = Subscription.objects.filter(
        merchant=dashboard.merchant, is_live=dashboard.is_live, status=Status.PAST_DUE
    ).count()
    if not past_due:
        return []
    return [
        Attention(
            title=ngettext(
                "%(count)d subscription has a declined payment to be retried",
                "%(count)d subscriptions have a declined payment to be retried",
                past_due,
            )
            % {"count": past_due},
            url=f"{reverse('dashboard:subscriptions')}?status={Status.PAST_DUE}",
            detail=_(
                "The subscriber was emailed a link to pay with another card; the subscription is canceled "
                "after the last retry."
            ),
        )
    ]
