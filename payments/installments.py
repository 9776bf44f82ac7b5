"""Installment plans (addendum §17): creation, the scheduler's charges, retries, abort, test clock.

A plan is a schedule of 2 to 4 installments. The first is paid by the shopper on the hosted page
of an ordinary payment (`save_card`: the card is kept for the plan); the later ones are charged on
their date by `charge_due` (beat, every minute) as merchant-initiated payments on that card: no
shopper, no 3-D Secure challenge, flagged as such to the acquirer (`shopper_present=False`).

Exactly once. Every change of a plan or an installment happens in a transaction that locks the
plan row first, then the installment row (one order everywhere, so no deadlock). A due
installment is claimed by compare-and-set (`scheduled`/`retrying` and due → `charging`) in the
transaction that also inserts its payment row; the acquirer is called only after that commit,
through payments.services, whose payment state machine refuses a second authorisation of the same
payment. So two scheduler runs, a redelivered task or a worker killed at any point never charge an
installment twice:
* killed before the commit: nothing happened, the installment is still due;
* killed after it, before the acquirer call: the payment is still `created`; `charge_due` charges
  it after STALLED_CHARGE (the payment's own lock and state let only one caller through);
* killed during the acquirer call, or its answer lost: the attempt stays `processing`/`unknown`
  and payments' reconciliation asks the acquirer, as for any payment.
The installment follows its payment: `payment.paid` and `payment.failed` (subscribers in
payments.tasks) settle it, whichever path resolved the payment.

A decline is retried RETRY_AFTER_DAYS after the first decline (1, 3 and 7 days), and each decline
emails the shopper a hosted page to pay that installment with another card (a new payment, which
saves the card for the rest of the plan). After the last retry is declined the plan fails for good:
`is_active` false, `failure` set, the remaining installments canceled.

Test clock (test mode only): `advance_clock` moves the plan's clock forward (`clock_offset`) and
the due times of its installments back by as much, then runs `charge_due` for that plan, the code
path the beat runs. Installment dates are days of the plan's clock in the merchant's time zone;
an installment is due from the start of its day.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.db.models import F
from django.template.loader import render_to_string
from django.utils import timezone, translation

from merchants.services.audit import Actor, audit
from notifications.services.outbox import publish
from payments import amounts, display, representations, services
from payments.acquirers.base import AcquirerUnavailable
from payments.amounts import MAX_AMOUNT, MIN_AMOUNT
from payments.errors import MerchantUnavailable, PaymentError
from payments.models import Card, Installment, InstallmentPlan, Payment
from payplug import dates

logger = logging.getLogger(__name__)
Status = Installment.Status

MIN_INSTALLMENTS, MAX_INSTALLMENTS = 2, 4
MAX_DAYS_AHEAD = 365
# Retries of a declined installment, in days after its first decline; the plan fails after the last.
RETRY_AFTER_DAYS = (1, 3, 7)
# A claimed installment whose payment has not reached the acquirer this long after (the worker
# died between the claim and the charge) is charged by the next run.
STALLED_CHARGE = timedelta(minutes=5)
# When the merchant may not charge now (suspended, live mode off), the charge is tried again later.
MERCHANT_UNAVAILABLE_DELAY = timedelta(days=1)
# The shopper is paying the emailed page right now (3-D Secure): the retry waits this long.
PAGE_BUSY_DELAY = timedelta(hours=1)
BATCH = 500
MAX_CLOCK_DAYS = 366


# --- the plan's clock -------------------------------------------------------------------------------


def plan_today(merchant, offset: timedelta = timedelta(0)) -> date:
    """Today in the plan's clock (real time + offset), in the merchant's time zone."""
    return timezone.localtime(timezone.now() + offset, dates.zone(merchant.time_zone)).date()


def _start_of(day: date, plan: InstallmentPlan) -> datetime:
    """The real moment the plan's clock reaches `day` (midnight, merchant's time zone)."""
    return datetime.combine(day, time(0), tzinfo=dates.zone(plan.merchant.time_zone)) - plan.clock_offset


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
                next_attempt_at=None if index == 1 else _start_of(day, plan),
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


# --- locks ------------------------------------------------------------------------------------------


def _lock_plan(plan_pk: int) -> InstallmentPlan:
    return InstallmentPlan.objects.select_for_update().select_related("merchant").get(pk=plan_pk)


def _lock_installment(plan: InstallmentPlan, index: int) -> Installment:
    return Installment.objects.select_for_update().get(plan=plan, index=index)


# --- the scheduler --------------------------------------------------------------------------------


def charge_due(now=None, *, plan: InstallmentPlan | None = None) -> int:
    """Beat task body: charge every due installment once; returns how many charges were started."""
    now = now or timezone.now()
    due = Installment.objects.filter(status__in=Installment.DUE, next_attempt_at__lte=now, plan__is_active=True)
    stalled = Installment.objects.filter(
        status=Status.CHARGING,
        charge_payment__status=Payment.Status.CREATED,
        charge_payment__created_at__lte=now - STALLED_CHARGE,
    )
    if plan is not None:
        due, stalled = due.filter(plan=plan), stalled.filter(plan=plan)
    started = 0
    for installment_id, plan_id in due.order_by("next_attempt_at", "id").values_list("pk", "plan_id")[:BATCH]:
        payment_id = _claim(installment_id, plan_id, now)
        if payment_id is not None:
            _charge(payment_id)
            started += 1
    for payment_id in stalled.values_list("charge_payment_id", flat=True)[:BATCH]:
        _charge(payment_id)
    return started


def _claim(installment_id: int, plan_id: int, now) -> int | None:
    """Claim a due installment and insert its payment, in one transaction; the payment's id, or
    None when another run claimed it first or nothing is to be charged now."""
    with transaction.atomic():
        plan = _lock_plan(plan_id)
        claimed = Installment.objects.filter(
            pk=installment_id, status__in=Installment.DUE, next_attempt_at__lte=now
        ).update(status=Status.CHARGING, updated_at=now)
        if not claimed:
            return None
        installment = Installment.objects.select_for_update().get(pk=installment_id)
        if not plan.is_active:
            _cancel(installment)
            return None
        if services.merchant_refusal(plan.merchant, plan.is_live) is not None:
            installment.status = Status.RETRYING if installment.attempts else Status.SCHEDULED
            installment.next_attempt_at = now + MERCHANT_UNAVAILABLE_DELAY
            installment.save(update_fields=["status", "next_attempt_at", "updated_at"])
            return None
        page = installment.page_payment
        if page is not None and page.status not in (Payment.Status.CREATED, Payment.Status.FAILED):
            # The shopper is paying (or has just paid) the emailed page: do not charge the card as well.
            installment.status = Status.RETRYING
            installment.next_attempt_at = now + PAGE_BUSY_DELAY
            installment.save(update_fields=["status", "next_attempt_at", "updated_at"])
            return None
        _close_page(installment)
        card = _usable_card(plan)
        if card is None:
            _declined(plan, installment, "card_declined", "The saved card of the plan can no longer be used.", now=now)
            return None
        payment = _installment_payment(
            plan,
            installment,
            saved_card=card,
            initiator="MERCHANT",
            charge_saved_card=False,  # below, once this transaction is committed
        )
        installment.charge_payment = payment
        installment.save(update_fields=["charge_payment", "updated_at"])
    return payment.pk


def _usable_card(plan: InstallmentPlan) -> Card | None:
    if plan.card_id is None:
        return None
    card = Card.objects.filter(pk=plan.card_id, deleted_at__isnull=True).first()
    if card is None or card.is_expired(plan_today(plan.merchant, plan.clock_offset)):
        return None
    return card


def _charge(payment_id: int) -> None:
    """Authorise a claimed installment's payment on the saved card, merchant-initiated."""
    payment = Payment.objects.select_related("merchant").get(pk=payment_id)
    card = Card.objects.filter(
        merchant=payment.merchant, is_live=payment.is_live, public_id=payment.payment_method
    ).first()
    if payment.status != Payment.Status.CREATED or card is None:
        return
    try:
        services.pay_with_saved_card(payment, card, shopper_present=False)
    except services.NotPayable:
        pass  # another run is charging it (or it expired): its outcome settles the installment
    except MerchantUnavailable:
        # Suspended between the claim and the charge: nothing reached the acquirer.
        services.abort(payment)
    except AcquirerUnavailable:
        logger.warning("charge of %s left to reconciliation: acquirer unavailable", payment.public_id)


# --- what the payments' outcomes do --------------------------------------------------------------


def _installment_of(payment_id: int):
    row = (
        Payment.objects.filter(pk=payment_id, installment_plan__isnull=False)
        .values_list("installment_plan__pk", "installment_index")
        .first()
    )
    return row if row else (None, None)


def on_payment_paid(payment_id: int) -> None:
    """Subscriber of `payment.paid`: an installment's payment went through."""
    plan_pk, index = _installment_of(payment_id)
    if plan_pk is None:
        return
    with transaction.atomic():
        plan = _lock_plan(plan_pk)
        installment = _lock_installment(plan, index)
        payment = Payment.objects.get(pk=payment_id)
        if payment.status != Payment.Status.PAID:
            return
        if installment.status == Status.PAID:
            if installment.paid_payment_id != payment.pk:
                logger.warning("installment %s paid twice (payment %s): refund one", installment, payment.public_id)
            return
        now = timezone.now()
        installment.status = Status.PAID
        installment.paid_at = now
        installment.paid_payment = payment
        installment.next_attempt_at = None
        installment.charge_payment = None
        if payment.card_id and plan.is_active:
            plan.card_id = payment.card_id  # the card the shopper chose is the plan's from now on
        _close_page(installment, keep=payment)
        installment.save()
        if plan.is_active and not Installment.objects.filter(plan=plan).exclude(status=Status.PAID).exists():
            plan.is_fully_paid = True
            plan.is_active = False
            plan.ended_at = now
            plan.save()
            _publish(plan, "installment_plan.fully_paid", ipn=True)
        else:
            plan.save()


def on_payment_failed(payment_id: int) -> None:
    """Subscriber of `payment.failed`: a decline of an installment's charge, or its page failing."""
    plan_pk, index = _installment_of(payment_id)
    if plan_pk is None:
        return
    with transaction.atomic():
        plan = _lock_plan(plan_pk)
        installment = _lock_installment(plan, index)
        payment = Payment.objects.get(pk=payment_id)
        if payment.status != Payment.Status.FAILED:
            return  # an attempt failed on the page, which stays payable
        if installment.status == Status.CHARGING and installment.charge_payment_id == payment.pk:
            if payment.failure_code == "aborted":  # never reached the acquirer (merchant suspended)
                installment.status = Status.RETRYING if installment.attempts else Status.SCHEDULED
                installment.next_attempt_at = timezone.now() + MERCHANT_UNAVAILABLE_DELAY
                installment.charge_payment = None
                installment.save()
                return
            _declined(plan, installment, payment.failure_code or "card_declined", payment.failure_message or "")
        elif (
            installment.index == 1
            and installment.status == Status.SCHEDULED
            and installment.page_payment_id == payment.pk
            and plan.is_active
            and payment.failure_code != "aborted"
        ):
            # The first installment was never paid (declined for good, or the page timed out): the
            # plan never started.
            installment.status = Status.FAILED
            installment.save()
            _fail_plan(plan, payment.failure_code or "timeout", payment.failure_message or "")
        # Otherwise: an emailed page that failed or expired; the scheduled retries go on.


def _declined(plan, installment, code: str, message: str, *, now=None) -> None:
    """A merchant-initiated charge of `installment` was declined (both rows locked)."""
    now = now or timezone.now()
    installment.attempts += 1
    installment.charge_payment = None
    retry = installment.attempts - 1  # 0 for the first retry
    if retry >= len(RETRY_AFTER_DAYS) or not plan.is_active:
        installment.status = Status.FAILED
        installment.next_attempt_at = None
        installment.save()
        _fail_plan(plan, code, message)
        return
    gap = RETRY_AFTER_DAYS[retry] - (RETRY_AFTER_DAYS[retry - 1] if retry else 0)
    installment.status = Status.RETRYING
    installment.next_attempt_at = now + timedelta(days=gap)
    _close_page(installment)
    page = _page_payment(plan, installment)
    installment.page_payment = page
    installment.save()
    transaction.on_commit(lambda: send_declined_email(installment.pk, page.pk))


def _close_page(installment: Installment, keep: Payment | None = None) -> None:
    """Abort the installment's hosted page if still unpaid (the charge or another page settles it)."""
    page = installment.page_payment
    if page is None or (keep is not None and page.pk == keep.pk):
        return
    page = Payment.objects.get(pk=page.pk)
    if page.status == Payment.Status.CREATED:
        services.abort(page)


def _cancel(installment: Installment) -> None:
    installment.status = Status.CANCELED
    installment.next_attempt_at = None
    installment.save()
    _close_page(installment)


def _end_open(plan: InstallmentPlan) -> None:
    """Cancel what is left to charge (locked rows), and close the pages still payable."""
    for installment in Installment.objects.select_for_update().filter(plan=plan, status__in=Installment.OPEN):
        if installment.status == Status.CHARGING and installment.charge_payment_id:
            charge = Payment.objects.get(pk=installment.charge_payment_id)
            if charge.status == Payment.Status.CREATED:  # claimed, never sent to the acquirer
                services.abort(charge)
        _cancel(installment)


def _fail_plan(plan: InstallmentPlan, code: str, message: str) -> None:
    now = timezone.now()
    plan.is_active = False
    plan.failure_code = code[:40]
    plan.failure_message = (message or "")[:255]
    plan.ended_at = now
    plan.save()
    _end_open(plan)
    _publish(plan, "installment_plan.failed", ipn=True)


def abort_plan(plan: InstallmentPlan, actor: Actor | None = None) -> InstallmentPlan:
    """PATCH {"aborted": true} (addendum §17.3): nothing more is charged; paid installments stay
    paid. An inactive plan is returned unchanged. `actor`: a dashboard user, written to the audit
    log (the API's abort is the integrator's, as for payments)."""
    with transaction.atomic():
        plan = _lock_plan(plan.pk)
        if not plan.is_active:
            return plan
        now = timezone.now()
        plan.is_active = False
        plan.aborted_at = plan.ended_at = now
        plan.save()
        _end_open(plan)
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


# --- the test clock ---------------------------------------------------------------------------------


def advance_clock(plan: InstallmentPlan, days: int) -> InstallmentPlan:
    """Test mode: move the plan's clock `days` forward and charge what became due, now."""
    if plan.is_live:
        raise PaymentError("feature_not_enabled", "Test clocks exist in test mode only.", status=403)
    if isinstance(days, bool) or not isinstance(days, int) or not 1 <= days <= MAX_CLOCK_DAYS:
        raise _invalid(
            "advance_days",
            {"advance_days": f"must be an integer between 1 and {MAX_CLOCK_DAYS}."},
            f"must be an integer between 1 and {MAX_CLOCK_DAYS}.",
        )
    delta = timedelta(days=days)
    with transaction.atomic():
        plan = _lock_plan(plan.pk)
        plan.clock_offset += delta
        plan.save(update_fields=["clock_offset", "updated_at"])
        Installment.objects.filter(plan=plan, next_attempt_at__isnull=False).update(
            next_attempt_at=F("next_attempt_at") - delta
        )
    charge_due(plan=plan)
    return InstallmentPlan.objects.select_related("merchant").get(pk=plan.pk)


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
