"""Dashboard pages of installment plans (addendum §17, issue 13 items 1 and 6): the list with its
state filters, a plan's schedule with its payments and attempts, abort, the test clock, and the
home's "needs attention" lines for failing plans (registered in payments/apps.py).

Every query is scoped by the request's merchant and mode. The list is a keyset page on
(created_at, id) like the payments list; its rows' installments are read in one more query.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db.models import Exists, OuterRef
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_POST

from merchants import roles
from merchants.decorators import dashboard_view
from merchants.home import Attention
from merchants.services.audit import Actor
from payments import installments
from payments.dashboard import queries
from payments.errors import PaymentError
from payments.models import Installment, InstallmentPlan, Payment, PaymentAttempt
from payplug import dates

Status = Installment.Status
# Who may abort a plan or move its test clock: those who may refund its payments.
MANAGE_PLANS = roles.REFUND
# A plan that failed this recently is on the home's "needs attention".
FAILED_RECENTLY = timedelta(days=7)

ACTIVE, FULLY_PAID, FAILING, FAILED, ABORTED = "active", "fully_paid", "failing", "failed", "aborted"
STATES = {
    ACTIVE: gettext_lazy("Active"),
    FULLY_PAID: gettext_lazy("Fully paid"),
    FAILING: gettext_lazy("Failing"),
    FAILED: gettext_lazy("Failed"),
    ABORTED: gettext_lazy("Aborted"),
}
BADGES = {ACTIVE: "", FULLY_PAID: "ok", FAILING: "warn", FAILED: "danger", ABORTED: ""}
INSTALLMENT_BADGES = {
    Status.SCHEDULED: "",
    Status.CHARGING: "",
    Status.PAID: "ok",
    Status.RETRYING: "warn",
    Status.FAILED: "danger",
    Status.CANCELED: "",
}


def _tenant(request, model):
    return model.objects.for_tenant(request.dashboard.merchant, request.dashboard.is_live)


def _retrying():
    return Installment.objects.filter(plan=OuterRef("pk"), status=Status.RETRYING)


def filter_plans(queryset, state: str):
    """The list's filter: one of STATES, or all plans for anything else."""
    if state == ACTIVE:
        return queryset.filter(is_active=True)
    if state == FULLY_PAID:
        return queryset.filter(is_fully_paid=True)
    if state == FAILING:
        return queryset.filter(is_active=True).filter(Exists(_retrying()))
    if state == FAILED:
        return queryset.filter(is_active=False, failure_code__isnull=False, aborted_at__isnull=True)
    if state == ABORTED:
        return queryset.filter(aborted_at__isnull=False)
    return queryset


def _plan_state(plan: InstallmentPlan, items: list[Installment]) -> str:
    if plan.is_fully_paid:
        return FULLY_PAID
    if plan.aborted_at is not None:
        return ABORTED
    if plan.failure_code:
        return FAILED
    if any(item.status == Status.RETRYING for item in items):
        return FAILING
    return ACTIVE


def _plan_day(moment: datetime | None, plan: InstallmentPlan) -> datetime | None:
    """A real moment as the plan's clock reads it (the test clock moves it forward)."""
    return moment + plan.clock_offset if moment is not None else None


@dataclass
class PlanRow:
    plan: InstallmentPlan
    items: list[Installment]
    state: str
    total: int
    paid: int
    next_item: Installment | None
    next_date: date | datetime | None

    @property
    def state_label(self) -> str:
        return str(STATES[self.state])

    @property
    def badge(self) -> str:
        return BADGES[self.state]

    @property
    def customer_name(self) -> str:
        billing = self.plan.billing or {}
        return " ".join(part for part in (billing.get("first_name"), billing.get("last_name")) if part)

    @property
    def customer_email(self) -> str:
        return (self.plan.billing or {}).get("email") or ""


def plan_row(plan: InstallmentPlan, items: list[Installment]) -> PlanRow:
    items = sorted(items, key=lambda item: item.index)
    upcoming = [item for item in items if item.status in Installment.OPEN] if plan.is_active else []
    next_item = upcoming[0] if upcoming else None
    next_date = None
    if next_item is not None:
        retry = next_item.status == Status.RETRYING and next_item.next_attempt_at is not None
        next_date = _plan_day(next_item.next_attempt_at, plan) if retry else next_item.date
    return PlanRow(
        plan=plan,
        items=items,
        state=_plan_state(plan, items),
        total=sum(item.amount for item in items),
        paid=sum(item.amount for item in items if item.status == Status.PAID),
        next_item=next_item,
        next_date=next_date,
    )


def _rows(plans: list[InstallmentPlan]) -> list[PlanRow]:
    by_plan: dict[int, list[Installment]] = {plan.pk: [] for plan in plans}
    for item in Installment.objects.filter(plan__in=[plan.pk for plan in plans]):
        by_plan[item.plan_id].append(item)
    return [plan_row(plan, by_plan[plan.pk]) for plan in plans]


# --- the list ----------------------------------------------------------------------------------------


@dashboard_view(roles.VIEW_PAYMENTS)
def plan_list(request):
    state = request.GET.get("state", "")
    state = state if state in STATES else ""
    queryset = filter_plans(_tenant(request, InstallmentPlan), state)
    page, next_cursor = queries.keyset_page(queryset, request.GET.get("after"))
    return render(
        request,
        "dashboard/installment_plans.html",
        {
            "rows": _rows(page),
            "next_cursor": next_cursor,
            "is_first_page": not request.GET.get("after"),
            "state": state,
            "filter_items": [("state", state)] if state else [],
            "states": list(STATES.items()),
        },
    )


# --- the detail --------------------------------------------------------------------------------------


@dataclass
class ScheduleItem:
    installment: Installment
    payments: list[Payment]
    retry_at: datetime | None

    @property
    def badge(self) -> str:
        return INSTALLMENT_BADGES.get(self.installment.status, "")


def _get_plan(request, plan_id: str) -> InstallmentPlan:
    return get_object_or_404(_tenant(request, InstallmentPlan).select_related("merchant"), public_id=plan_id)


def _schedule(plan: InstallmentPlan, items: list[Installment]) -> list[ScheduleItem]:
    payments = list(Payment.objects.filter(installment_plan=plan).order_by("created_at", "pk"))
    attempts: dict[int, list[PaymentAttempt]] = {}
    for attempt in PaymentAttempt.objects.filter(payment__in=[p.pk for p in payments]).order_by("created_at", "pk"):
        attempts.setdefault(attempt.payment_id, []).append(attempt)
    by_index: dict[int, list[Payment]] = {}
    for payment in payments:
        payment.attempt_list = attempts.get(payment.pk, [])
        by_index.setdefault(payment.installment_index, []).append(payment)
    schedule = []
    for item in items:
        retry_at = _plan_day(item.next_attempt_at, plan) if item.status == Status.RETRYING else None
        schedule.append(ScheduleItem(item, by_index.get(item.index, []), retry_at))
    return schedule


def _detail_context(request, plan: InstallmentPlan) -> dict:
    items = list(plan.installments.order_by("index"))
    row = plan_row(plan, items)
    can_manage = request.dashboard.can(MANAGE_PLANS)
    return {
        "plan": plan,
        "row": row,
        "schedule": _schedule(plan, items),
        "can_abort": can_manage and plan.is_active,
        "can_advance": can_manage and not plan.is_live and plan.is_active,
        "clock_today": installments.plan_today(plan.merchant, plan.clock_offset),
        "clock_days": plan.clock_offset.days,
        "max_clock_days": installments.MAX_CLOCK_DAYS,
    }


@dashboard_view(roles.VIEW_PAYMENTS)
def plan_detail(request, plan_id):
    plan = _get_plan(request, plan_id)
    return render(request, "dashboard/installment_plan_detail.html", _detail_context(request, plan))


@dashboard_view(MANAGE_PLANS)
def plan_abort(request, plan_id):
    """GET: the confirmation; POST: abort (nothing more is charged, paid installments stay paid)."""
    plan = _get_plan(request, plan_id)
    if not plan.is_active:
        messages.error(request, _("This plan has ended: there is nothing left to abort."))
        return redirect("dashboard:installment_plan", plan.public_id)
    if request.method == "POST":
        installments.abort_plan(plan, Actor.from_request(request))
        messages.success(request, _("Plan aborted: nothing more will be charged."))
        return redirect("dashboard:installment_plan", plan.public_id)
    return render(request, "dashboard/installment_plan_abort.html", _detail_context(request, plan))


@require_POST
@dashboard_view(MANAGE_PLANS)
def plan_test_clock(request, plan_id):
    """Test mode only: advance the plan's clock by N days and charge what became due."""
    plan = _get_plan(request, plan_id)
    if plan.is_live or request.dashboard.is_live:
        raise PermissionDenied
    raw = request.POST.get("days", "").strip()
    days = int(raw) if raw.isdigit() else None
    if days is None or not 1 <= days <= installments.MAX_CLOCK_DAYS:
        messages.error(
            request,
            _("Enter a number of days between 1 and %(max)d.") % {"max": installments.MAX_CLOCK_DAYS},
        )
        return redirect("dashboard:installment_plan", plan.public_id)
    try:
        plan = installments.advance_clock(plan, days)
    except PaymentError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(
            request,
            ngettext(
                "Test clock advanced by %(days)d day: the plan's date is now %(today)s.",
                "Test clock advanced by %(days)d days: the plan's date is now %(today)s.",
                days,
            )
            % {"days": days, "today": dates.format_date(installments.plan_today(plan.merchant, plan.clock_offset))},
        )
    return redirect("dashboard:installment_plan", plan.public_id)


# --- needs attention ---------------------------------------------------------------------------------


def attention_items(dashboard) -> list[Attention]:
    """Plans with a declined installment to be retried, and plans that failed in the last 7 days."""
    plans = InstallmentPlan.objects.filter(merchant=dashboard.merchant, is_live=dashboard.is_live)
    url = reverse("dashboard:installment_plans")
    items = []
    failing = filter_plans(plans, FAILING).count()
    if failing:
        items.append(
            Attention(
                title=ngettext(
                    "%(count)d installment plan has a declined installment to be retried",
                    "%(count)d installment plans have a declined installment to be retried",
                    failing,
                )
                % {"count": failing},
                url=f"{url}?state={FAILING}",
                detail=_(
                    "The shopper was emailed a link to pay with another card; the plan fails after the last retry."
                ),
            )
        )
    since = timezone.now() - FAILED_RECENTLY
    failed = filter_plans(plans, FAILED).filter(ended_at__gte=since).count()
    if failed:
        items.append(
            Attention(
                title=ngettext(
                    "%(count)d installment plan failed in the last 7 days",
                    "%(count)d installment plans failed in the last 7 days",
                    failed,
                )
                % {"count": failed},
                url=f"{url}?state={FAILED}",
                detail=_("Nothing more is charged on them: contact the shoppers about what remains to be paid."),
                severity="danger",
            )
        )
    return items
