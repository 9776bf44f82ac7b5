"""The engine that charges on a schedule: installment plans and subscriptions.

An owner (an installment plan, a subscription) has charges (installments, a subscription's
periods: payments.models.scheduled.ScheduledCharge). The owner's module says, through a `Kind`,
which payments belong to which charge and what happens when a charge is paid or fails for good;
this module does the rest the same way for both.

Exactly once. Every change of an owner or a charge happens in a transaction that locks the owner
row first, then the charge row (one order everywhere, so no deadlock). A due charge is claimed by
compare-and-set (`scheduled`/`retrying` and due → `charging`) in the transaction that also inserts
its payment row; the acquirer is called only after that commit, through payments.services, whose
payment state machine refuses a second authorisation of the same payment. So two scheduler runs, a
redelivered task or a worker killed at any point never charge twice:
* killed before the commit: nothing happened, the charge is still due;
* killed after it, before the acquirer call: the payment is still `created`; `charge_due` charges
  it after STALLED_CHARGE (the payment's own lock and state let only one caller through);
* killed during the acquirer call, or its answer lost: the attempt stays `processing`/`unknown`
  and payments' reconciliation asks the acquirer, as for any payment.
A charge follows its payment: `payment.paid` and `payment.failed` (subscribers in payments.tasks)
settle it, whichever path resolved the payment.

A decline is retried RETRY_AFTER_DAYS after the first decline (1, 3 and 7 days), and each decline
emails the shopper a hosted page to pay that charge with another card (a new payment, which saves
the card for the next charges). After the last retry is declined the owner fails for good.

Test clock (test mode only): `advance_clock` moves the owner's clock forward (`clock_offset`) and
the due times of its charges back by as much, then runs `charge_due` for that owner, the code path
the beat runs.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.db import transaction
from django.db.models import F, Model
from django.utils import timezone

from payments import services
from payments.acquirers.base import AcquirerUnavailable
from payments.errors import MerchantUnavailable, PaymentError
from payments.models import Card, Payment
from payments.models.scheduled import ScheduledCharge
from payplug import dates

logger = logging.getLogger(__name__)
Status = ScheduledCharge.Status

# Retries of a declined charge, in days after its first decline; the owner fails after the last.
RETRY_AFTER_DAYS = (1, 3, 7)
# A claimed charge whose payment has not reached the acquirer this long after (the worker died
# between the claim and the charge) is charged by the next run.
STALLED_CHARGE = timedelta(minutes=5)
# When the merchant may not charge now (suspended, live mode off), the charge is tried again later.
MERCHANT_UNAVAILABLE_DELAY = timedelta(days=1)
# The shopper is paying the emailed page right now (3-D Secure): the retry waits this long.
PAGE_BUSY_DELAY = timedelta(hours=1)
BATCH = 500
MAX_CLOCK_DAYS = 366


@dataclass(frozen=True)
class Kind:
    """What the engine needs to know about one kind of owner."""

    owner_model: type[Model]
    charge_model: type[ScheduledCharge]
    owner_field: str  # the charge's foreign key to its owner: "plan", "subscription"
    number_field: str  # the charge's number in its owner: "index", "period"
    payment_owner_field: str  # Payment's foreign key to the owner: "installment_plan", "subscription"
    payment_number_field: str  # Payment's copy of the number: "installment_index", "subscription_period"
    chargeable: dict  # filter on the owner (through the charge) of the owners being charged
    is_chargeable: Callable[[Model], bool]
    is_over: Callable[[Model], bool]  # nothing more will ever be charged: cancel a claimed charge
    new_payment: Callable[..., Payment]  # (owner, charge, **how) -> a payment of the charge
    paid: Callable  # (owner, charge, payment, now): after the charge was marked paid (rows locked)
    declined: Callable  # (owner, charge, code, message): a decline, to be retried (rows locked)
    failed: Callable  # (owner, code, message): the owner fails for good (rows locked)
    page_failed: Callable  # (owner, charge, payment): the only page of a charge failed for good
    declined_email: Callable[[int, int], bool]  # (charge id, page payment id), after the commit

    def charges(self):
        return self.charge_model.objects

    def lock_owner(self, pk: int):
        return self.owner_model.objects.select_for_update().select_related("merchant").get(pk=pk)

    def lock_charge(self, owner, number: int):
        return self.charges().select_for_update().get(**{self.owner_field: owner, self.number_field: number})


# --- the owner's clock ------------------------------------------------------------------------------


def today(merchant, offset: timedelta = timedelta(0)) -> date:
    """Today in the owner's clock (real time + offset), in the merchant's time zone."""
    return timezone.localtime(timezone.now() + offset, dates.zone(merchant.time_zone)).date()


def start_of(day: date, owner) -> datetime:
    """The real moment the owner's clock reaches `day` (midnight, merchant's time zone)."""
    return datetime.combine(day, time(0), tzinfo=dates.zone(owner.merchant.time_zone)) - owner.clock_offset


# --- the scheduler --------------------------------------------------------------------------------


def charge_due(kind: Kind, now=None, *, owner=None) -> int:
    """Beat task body: charge every due charge once; returns how many charges were started."""
    now = now or timezone.now()
    due = kind.charges().filter(status__in=ScheduledCharge.DUE, next_attempt_at__lte=now, **kind.chargeable)
    stalled = kind.charges().filter(
        status=Status.CHARGING,
        charge_payment__status=Payment.Status.CREATED,
        charge_payment__created_at__lte=now - STALLED_CHARGE,
    )
    if owner is not None:
        due, stalled = due.filter(**{kind.owner_field: owner}), stalled.filter(**{kind.owner_field: owner})
    started = 0
    rows = due.order_by("next_attempt_at", "id").values_list("pk", f"{kind.owner_field}_id")[:BATCH]
    for charge_id, owner_id in rows:
        payment_id = _claim(kind, charge_id, owner_id, now)
        if payment_id is not None:
            _charge(payment_id)
            started += 1
    for payment_id in stalled.values_list("charge_payment_id", flat=True)[:BATCH]:
        _charge(payment_id)
    return started


def _claim(kind: Kind, charge_id: int, owner_id: int, now) -> int | None:
    """Claim a due charge and insert its payment, in one transaction; the payment's id, or None
    when another run claimed it first or nothing is to be charged now."""
    with transaction.atomic():
        owner = kind.lock_owner(owner_id)
        if not kind.is_chargeable(owner):
            if kind.is_over(owner):
                charge = kind.charges().select_for_update().get(pk=charge_id)
                if charge.status in ScheduledCharge.DUE:
                    cancel_charge(charge)
            return None  # paused, for instance: it stays due and is charged once resumed
        claimed = (
            kind.charges()
            .filter(pk=charge_id, status__in=ScheduledCharge.DUE, next_attempt_at__lte=now)
            .update(status=Status.CHARGING, updated_at=now)
        )
        if not claimed:
            return None
        charge = kind.charges().select_for_update().get(pk=charge_id)
        if services.merchant_refusal(owner.merchant, owner.is_live) is not None:
            charge.status = Status.RETRYING if charge.attempts else Status.SCHEDULED
            charge.next_attempt_at = now + MERCHANT_UNAVAILABLE_DELAY
            charge.save(update_fields=["status", "next_attempt_at", "updated_at"])
            return None
        page = charge.page_payment
        if page is not None and page.status not in (Payment.Status.CREATED, Payment.Status.FAILED):
            # The shopper is paying (or has just paid) the emailed page: do not charge the card as well.
            charge.status = Status.RETRYING
            charge.next_attempt_at = now + PAGE_BUSY_DELAY
            charge.save(update_fields=["status", "next_attempt_at", "updated_at"])
            return None
        close_page(charge)
        card = usable_card(owner)
        if card is None:
            declined(kind, owner, charge, "card_declined", "The saved card can no longer be used.", now=now)
            return None
        payment = kind.new_payment(
            owner,
            charge,
            saved_card=card,
            initiator="MERCHANT",
            charge_saved_card=False,  # below, once this transaction is committed
        )
        charge.charge_payment = payment
        charge.save(update_fields=["charge_payment", "updated_at"])
    return payment.pk


def usable_card(owner) -> Card | None:
    if owner.card_id is None:
        return None
    card = Card.objects.filter(pk=owner.card_id, deleted_at__isnull=True).first()
    if card is None or card.is_expired(today(owner.merchant, owner.clock_offset)):
        return None
    return card


def _charge(payment_id: int) -> None:
    """Authorise a claimed charge's payment on the saved card, merchant-initiated."""
    payment = Payment.objects.select_related("merchant").get(pk=payment_id)
    card = Card.objects.filter(
        merchant=payment.merchant, is_live=payment.is_live, public_id=payment.payment_method
    ).first()
    if payment.status != Payment.Status.CREATED or card is None:
        return
    try:
        services.pay_with_saved_card(payment, card, shopper_present=False)
    except services.NotPayable:
        pass  # another run is charging it (or it expired): its outcome settles the charge
    except MerchantUnavailable:
        # Suspended between the claim and the charge: nothing reached the acquirer.
        services.abort(payment)
    except AcquirerUnavailable:
        logger.warning("charge of %s left to reconciliation: acquirer unavailable", payment.public_id)


# --- what the payments' outcomes do --------------------------------------------------------------


def _charge_of(kind: Kind, payment_id: int):
    linked = {f"{kind.payment_owner_field}__isnull": False, f"{kind.payment_number_field}__isnull": False}
    row = (
        Payment.objects.filter(pk=payment_id, **linked)
        .values_list(f"{kind.payment_owner_field}__pk", kind.payment_number_field)
        .first()
    )
    return row if row else (None, None)


def on_payment_paid(kind: Kind, payment_id: int) -> None:
    """Subscriber of `payment.paid`: a charge's payment went through."""
    owner_pk, number = _charge_of(kind, payment_id)
    if owner_pk is None:
        return
    with transaction.atomic():
        owner = kind.lock_owner(owner_pk)
        charge = kind.lock_charge(owner, number)
        payment = Payment.objects.get(pk=payment_id)
        if payment.status != Payment.Status.PAID:
            return
        if charge.status == Status.PAID:
            if charge.paid_payment_id != payment.pk:
                logger.warning("charge %s paid twice (payment %s): refund one", charge, payment.public_id)
            return
        now = timezone.now()
        charge.status = Status.PAID
        charge.paid_at = now
        charge.paid_payment = payment
        charge.next_attempt_at = None
        charge.charge_payment = None
        if payment.card_id and not kind.is_over(owner):
            owner.card_id = payment.card_id  # the card the shopper chose is the owner's from now on
        close_page(charge, keep=payment)
        charge.save()
        kind.paid(owner, charge, payment, now)


def on_payment_failed(kind: Kind, payment_id: int) -> None:
    """Subscriber of `payment.failed`: a decline of a charge, or its page failing."""
    owner_pk, number = _charge_of(kind, payment_id)
    if owner_pk is None:
        return
    with transaction.atomic():
        owner = kind.lock_owner(owner_pk)
        charge = kind.lock_charge(owner, number)
        payment = Payment.objects.get(pk=payment_id)
        if payment.status != Payment.Status.FAILED:
            return  # an attempt failed on the page, which stays payable
        if charge.status == Status.CHARGING and charge.charge_payment_id == payment.pk:
            if payment.failure_code == "aborted":  # never reached the acquirer (merchant suspended)
                charge.status = Status.RETRYING if charge.attempts else Status.SCHEDULED
                charge.next_attempt_at = timezone.now() + MERCHANT_UNAVAILABLE_DELAY
                charge.charge_payment = None
                charge.save()
                return
            declined(kind, owner, charge, payment.failure_code or "card_declined", payment.failure_message or "")
        elif (
            charge.status == Status.SCHEDULED
            and charge.next_attempt_at is None  # paid on its page only (a first payment)
            and charge.page_payment_id == payment.pk
            and not kind.is_over(owner)
            and payment.failure_code != "aborted"
        ):
            # Declined for good, or the page timed out: the owner never started.
            charge.status = Status.FAILED
            charge.save()
            kind.page_failed(owner, charge, payment)
        # Otherwise: an emailed page that failed or expired; the scheduled retries go on.


def declined(kind: Kind, owner, charge, code: str, message: str, *, now=None) -> None:
    """A merchant-initiated charge was declined (both rows locked): retry, or fail for good."""
    now = now or timezone.now()
    charge.attempts += 1
    charge.charge_payment = None
    retry = charge.attempts - 1  # 0 for the first retry
    if retry >= len(RETRY_AFTER_DAYS) or kind.is_over(owner):
        charge.status = Status.FAILED
        charge.next_attempt_at = None
        charge.save()
        kind.failed(owner, code, message)
        return
    gap = RETRY_AFTER_DAYS[retry] - (RETRY_AFTER_DAYS[retry - 1] if retry else 0)
    charge.status = Status.RETRYING
    charge.next_attempt_at = now + timedelta(days=gap)
    close_page(charge)
    page = kind.new_payment(owner, charge, return_url=owner.return_url, cancel_url=owner.cancel_url, save_card=True)
    charge.page_payment = page
    charge.save()
    kind.declined(owner, charge, code, message)
    transaction.on_commit(lambda: kind.declined_email(charge.pk, page.pk))


def close_page(charge: ScheduledCharge, keep: Payment | None = None) -> None:
    """Abort the charge's hosted page if still unpaid (the charge or another page settles it)."""
    page = charge.page_payment
    if page is None or (keep is not None and page.pk == keep.pk):
        return
    page = Payment.objects.get(pk=page.pk)
    if page.status == Payment.Status.CREATED:
        services.abort(page)


def cancel_charge(charge: ScheduledCharge) -> None:
    charge.status = Status.CANCELED
    charge.next_attempt_at = None
    charge.save()
    close_page(charge)


def end_open(kind: Kind, owner) -> None:
    """Cancel what is left to charge (locked rows), and close the pages still payable."""
    open_charges = (
        kind.charges().select_for_update().filter(**{kind.owner_field: owner}, status__in=ScheduledCharge.OPEN)
    )
    for charge in open_charges:
        if charge.status == Status.CHARGING and charge.charge_payment_id:
            payment = Payment.objects.get(pk=charge.charge_payment_id)
            if payment.status == Payment.Status.CREATED:  # claimed, never sent to the acquirer
                services.abort(payment)
        cancel_charge(charge)


# --- the test clock ---------------------------------------------------------------------------------


def advance_clock(kind: Kind, owner, days: int):
    """Test mode: move the owner's clock `days` forward and charge what became due, now."""
    if owner.is_live:
        raise PaymentError("feature_not_enabled", "Test clocks exist in test mode only.", status=403)
    if isinstance(days, bool) or not isinstance(days, int) or not 1 <= days <= MAX_CLOCK_DAYS:
        message = f"must be an integer between 1 and {MAX_CLOCK_DAYS}."
        raise PaymentError("invalid_request", f"advance_days: {message}", details={"advance_days": message})
    delta = timedelta(days=days)
    with transaction.atomic():
        owner = kind.lock_owner(owner.pk)
        owner.clock_offset += delta
        owner.save(update_fields=["clock_offset", "updated_at"])
        kind.charges().filter(**{kind.owner_field: owner}, next_attempt_at__isnull=False).update(
            next_attempt_at=F("next_attempt_at") - delta
        )
    charge_due(kind, owner=owner)
    return kind.owner_model.objects.select_related("merchant").get(pk=owner.pk)
