"""Installment plans (addendum §17): creation, what the plan does with its installments, abort.

A plan is a schedule of 2 to 4 installments. The first is paid by the shopper on the hosted page
of an ordinary payment (`save_card`: the card is kept for the plan); the later ones are charged on
their date by `charge_due` (beat, every minute) as merchant-initiated payments on that card: no
shopper, no 3-D Secure challenge, flagged as such to the acquirer (`shopper_present=False`).

The charging itself (claim by compare-and-set, exactly once, retries 1, 3 and 7 days after a
decline with an emailed page, the test clock) is payments.recurring's, shared with subscriptions;
this module says what a plan does: it is fully paid when every installment is, and fails for good
when the last retry of one is declined (`is_active` false, `failure` set, the rest canceled).
Installment dates are days of the plan's clock in the merchant's time zone; an installment is due
from the start of its day.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, timedelta

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone, translation

from merchants.services.audit import Actor, audit
from notifications.services.outbox import publish
from payments import amounts, display, recurring, representations, services
from payments.amounts import MAX_AMOUNT, MIN_AMOUNT
from payments.errors import PaymentError
from payments.models import Installment, InstallmentPlan, Payment

logger = logging.getLogger(__name__)
Status = Installment.Status

MIN_INSTALLMENTS, MAX_INSTALLMENTS = 2, 4
MAX_DAYS_AHEAD = 365
RETRY_AFTER_DAYS = recurring.RETRY_AFTER_DAYS
MAX_CLOCK_DAYS = recurring.MAX_CLOCK_DAYS


# --- the plan's clock -------------------------------------------------------------------------------


def plan_today(merchant, offset: timedelta = timedelta(0)) -> date:
    """Today in the plan's clock (real time + offset), in the merchant's time zone."""
    return recurring.today(merchant, offset)


# --- creation -----------------------------------------------------------------------------------------


def _invalid(path: str, nested: dict, message: str) -> PaymentError:
    return PaymentError("invalid_request", f"{path}: {message}", details=nested)


def amount_bounds(merchant) -> tuple[int, int]:
    return max(MIN_AMOUNT, merchant.min_amount), min(MAX_AMOUNT, merchant.max_amount)


def parse_schedule(raw, merchant, today: date) -> list[tuple[date, int]]:
    """The validated schedule [(date, amount)] or PaymentError naming the field (addendum §17.2).

    Items are named by their 0-based position: `schedule[2].date` is the third item's date.
    Every invalid item field is in `details` (`{"schedule": {"2": {"date": "..."}}}`); the message
    names the first.
    """
    if raw is None:
        return _raise_schedule("is required.")
    count_rule = f"must be a list of {MIN_INSTALLMENTS} to {MAX_INSTALLMENTS} installments ({{date, amount}} objects)."
    if not isinstance(raw, list) or not MIN_INSTALLMENTS <= len(raw) <= MAX_INSTALLMENTS:
        return _raise_schedule(count_rule)
    low, high = amount_bounds(merchant)
    latest = today + timedelta(days=MAX_DAYS_AHEAD)
    errors: dict[str, dict[str, str]] = {}
    first: tuple[str, str] | None = None
    parsed: list[tuple[date, int]] = []
    previous: date | None = None

    def fail(index, field, message):
        nonlocal first
        errors.setdefault(str(index), {})[field] = message
        if first is None:
            first = (f"schedule[{index}]" + (f".{field}" if field != "non_field_errors" else ""), message)

    for index, item in enumerate(raw):
        if not isinstance(item, dict):
            fail(index, "non_field_errors", "must be a JSON object with date and amount.")
            previous = None
            continue
        for key in item:
            if key not in ("date", "amount"):
                fail(index, str(key), "is not a known field.")
        day = _parse_day(item.get("date"), index, today, previous, latest, fail)
        amount = item.get("amount")
        if "amount" not in item:
            fail(index, "amount", "is required.")
        elif isinstance(amount, bool) or not isinstance(amount, int):
            fail(index, "amount", "must be an integer (cents).")
        elif not low <= amount <= high:
            fail(index, "amount", f"must be between {low} and {high} cents.")
        previous = day
        if day is not None and isinstance(amount, int):
            parsed.append((day, amount))
    if first is not None:
        path, message = first
        raise _invalid(path, {"schedule": errors}, message)
    return parsed


def _raise_schedule(message: str):
    raise _invalid("schedule", {"schedule": message}, message)


def _parse_day(value, index, today, previous, latest, fail) -> date | None:
    if value is None:
        fail(index, "date", "is required.")
        return None
    if index == 0 and value == "TODAY":
        return today
    try:
        if not isinstance(value, str) or len(value) != 10:
            raise ValueError
        day = date.fromisoformat(value)
    except ValueError:
        fail(index, "date", "must be a date (YYYY-MM-DD)" + (' or "TODAY".' if index == 0 else "."))
        return None
    if index == 0:
        if day != today:
            fail(index, "date", f'must be "TODAY" or today\'s date ({today.isoformat()}).')
            return None
        return day
    if day <= today:
        fail(index, "date", f"must be after today ({today.isoformat()}).")
    elif previous is not None and day <= previous:
        fail(index, "date", f"must be after schedule[{index - 1}].date ({previous.isoformat()}).")
    elif day > latest:
        fail(index, "date", f"must be at most {MAX_DAYS_AHEAD} days ahead ({latest.isoformat()}).")
    else:
        return day
    return None


@dataclass
class NewPlan:
    schedule: list[tuple[date, int]]
    billing: dict
    return_url: str
    currency: str = "EUR"
    shipping: dict | None = None
    cancel_url: str | None = None
    notification_url: str | None = None
    metadata: dict | None = None


def create_plan(merchant, is_live: bool, new: NewPlan) -> InstallmentPlan:
    """The plan, its installments and the first installment's payment (hosted page, card saved)."""
    refusal = services.merchant_refusal(merchant, is_live)
    if refusal is not None:
        raise refusal
    with transaction.atomic():
        plan = InstallmentPlan.objects.create(
            merchant=merchant,
            is_live=is_live,
            currency=new.currency,
            billing=new.billing or {},
            shipping=new.shipping,
            return_url=new.return_url,
            cancel_url=new.cancel_url,
            notification_url=new.notification_url,
            metadata=new.metadata or {},
        )
        plan.merchant = merchant
        installments = [
            Installment(
                plan=plan,
                index=index,
                date=day,
                amount=amount,
                next_attempt_at=None if index == 1 else recurring.start_of(day, plan),
            )
            for index, (day, amount) in enumerate(new.schedule, start=1)
        ]
        Installment.objects.bulk_create(installments)
        first = Installment.objects.get(plan=plan, index=1)
        first.page_payment = _page_payment(plan, first)
        first.save(update_fields=["page_payment", "updated_at"])
        _publish(plan, "installment_plan.created", ipn=False)
    return plan


def _installment_payment(plan: InstallmentPlan, installment: Installment, **how) -> Payment:
    """A payment of `installment`, with what every payment of the plan carries; `how` says how it
    is paid (a hosted page, or the saved card)."""
    return services.create_payment(
        plan.merchant,
        plan.is_live,
        services.NewPayment(
            amount=installment.amount,
            billing=plan.billing,
            shipping=plan.shipping,
            notification_url=plan.notification_url,
            metadata=plan.metadata,
            installment_plan=plan,
            installment_index=installment.index,
            **how,
        ),
    )


def _page_payment(plan: InstallmentPlan, installment: Installment) -> Payment:
    """A hosted-page payment of `installment`; the card it is paid with is saved for the plan."""
    return _installment_payment(
        plan, installment, return_url=plan.return_url, cancel_url=plan.cancel_url, save_card=True
    )


# --- what the API shows -----------------------------------------------------------------------------


def plan_object(plan: InstallmentPlan) -> dict:
    """The installment plan object (addendum §17.1), as GET /v1/installment_plans/{id} returns it."""
    installments = list(plan.installments.select_related("page_payment").order_by("index"))
    payment_ids: dict[int, list[str]] = {}
    rows = Payment.objects.filter(installment_plan=plan).order_by("created_at", "id")
    for index, public_id in rows.values_list("installment_index", "public_id"):
        payment_ids.setdefault(index, []).append(public_id)
    first = next((item for item in installments if item.index == 1), None)
    page = first.page_payment if first is not None else None
    url = representations.hosted_payment_url(page) if page is not None else None
    return representations.installment_plan(plan, installments, payment_ids, url)


def _publish(plan: InstallmentPlan, event_type: str, *, ipn: bool) -> None:
    publish(
        merchant=plan.merchant,
        is_live=plan.is_live,
        type=event_type,
        object_type="installment_plan",
        object_id=plan.public_id,
        payload=plan_object(plan),
        ipn_url=plan.notification_url if ipn else None,
    )


def record_ipn_response(public_id: str, status_code: int) -> None:
    """The IPN delivery reports each attempt's HTTP status onto the plan (`notification.response_code`)."""
    if public_id.startswith("inst_"):
        InstallmentPlan.objects.filter(public_id=public_id).update(notification_response_code=status_code)


# --- what the engine needs to know (payments.recurring) ----------------------------------------


def _paid(plan: InstallmentPlan, installment: Installment, payment: Payment, now) -> None:
    if plan.is_active and not Installment.objects.filter(plan=plan).exclude(status=Status.PAID).exists():
        plan.is_fully_paid = True
        plan.is_active = False
        plan.ended_at = now
        plan.save()
        _publish(plan, "installment_plan.fully_paid", ipn=True)
    else:
        plan.save()


def _fail_plan(plan: InstallmentPlan, code: str, message: str) -> None:
    now = timezone.now()
    plan.is_active = False
    plan.failure_code = code[:40]
    plan.failure_message = (message or "")[:255]
    plan.ended_at = now
    plan.save()
    recurring.end_open(KIND, plan)
    _publish(plan, "installment_plan.failed", ipn=True)


def _first_page_failed(plan: InstallmentPlan, installment: Installment, payment: Payment) -> None:
    """The first installment was never paid (declined for good, or the page timed out): the plan
    never started."""
    _fail_plan(plan, payment.failure_code or "timeout", payment.failure_message or "")


KIND = recurring.Kind(
    owner_model=InstallmentPlan,
    charge_model=Installment,
    owner_field="plan",
    number_field="index",
    payment_owner_field="installment_plan",
    payment_number_field="installment_index",
    chargeable={"plan__is_active": True},
    is_chargeable=lambda plan: plan.is_active,
    is_over=lambda plan: not plan.is_active,
    new_payment=_installment_payment,
    paid=_paid,
    declined=lambda plan, installment, code, message: None,
    failed=_fail_plan,
    page_failed=_first_page_failed,
    declined_email=lambda installment_id, page_id: send_declined_email(installment_id, page_id),
)


def charge_due(now=None, *, plan: InstallmentPlan | None = None) -> int:
    """Beat task body: charge every due installment once; returns how many charges were started."""
    return recurring.charge_due(KIND, now, owner=plan)


def on_payment_paid(payment_id: int) -> None:
    """Subscriber of `payment.paid`: an installment's payment went through."""
    recurring.on_payment_paid(KIND, payment_id)


def on_payment_failed(payment_id: int) -> None:
    """Subscriber of `payment.failed`: a decline of an installment's charge, or its page failing."""
    recurring.on_payment_failed(KIND, payment_id)


def abort_plan(plan: InstallmentPlan, actor: Actor | None = None) -> InstallmentPlan:
    """PATCH {"aborted": true} (addendum §17.3): nothing more is charged; paid installments stay
    paid. An inactive plan is returned unchanged. `actor`: a dashboard user, written to the audit
    log (the API's abort is the integrator's, as for payments)."""
    with transaction.atomic():
        plan = KIND.lock_owner(plan.pk)
        if not plan.is_active:
            return plan
        now = timezone.now()
        plan.is_active = False
        plan.aborted_at = plan.ended_at = now
        plan.save()
        recurring.end_open(KIND, plan)
        _publish(plan, "installment_plan.aborted", ipn=True)
        if actor is not None:
            audit(
                plan.merchant,
                actor,
                "installment_plan.aborted",
                obj_type="installment_plan",
                obj_id=plan.public_id,
                is_live=plan.is_live,
            )
    return plan


def advance_clock(plan: InstallmentPlan, days: int) -> InstallmentPlan:
    """Test mode: move the plan's clock `days` forward and charge what became due, now."""
    return recurring.advance_clock(KIND, plan, days)


# --- the shopper's email after a decline -------------------------------------------------------------


def send_declined_email(installment_id: int, page_payment_id: int) -> bool:
    """Tell the shopper an installment was declined, with a page to pay it with another card."""
    installment = Installment.objects.select_related("plan__merchant").get(pk=installment_id)
    page = Payment.objects.get(pk=page_payment_id)
    plan = installment.plan
    email = (plan.billing or {}).get("email")
    url = representations.hosted_payment_url(page)
    if not email or not url or page.status != Payment.Status.CREATED:
        return False
    language = display.shopper_language(None, (plan.billing or {}).get("language"), None)
    merchant = plan.merchant
    with translation.override(language):
        context = {
            "merchant": merchant,
            "merchant_name": merchant.display_name,
            "amount_text": amounts.format_amount(installment.amount, plan.currency, language),
            "index": installment.index,
            "count": plan.installments.count(),
            "url": url,
            "retry_at": installment.next_attempt_at + plan.clock_offset if installment.next_attempt_at else None,
            "is_test": not plan.is_live,
            "support_email": merchant.support_email,
            "language": language,
        }
        subject = " ".join(render_to_string("emails/installment_declined_subject.txt", context).split())
        text = render_to_string("emails/installment_declined_body.txt", context)
        html = render_to_string("emails/installment_declined_body.html", context)
    message = EmailMultiAlternatives(subject, text, settings.DEFAULT_FROM_EMAIL, [email])
    if merchant.support_email:
        message.reply_to = [merchant.support_email]
    message.attach_alternative(html, "text/html")
    try:
        message.send()
    except OSError as exc:  # the link is also in the payment; the next decline sends another
        logger.warning("decline email of installment %s not sent: %s", installment, exc)
        return False
    return True
