"""Payouts: each day, every merchant's available balance (at or above its minimum) goes to its
verified IBAN by SEPA credit transfer; the day's payouts are written as one pain.001.001.03 file.

Life of a payout: `pending` (created; the money moved available -> payouts_in_transit) ->
`in_transit` (in a batch file handed to the bank) -> `paid` (the bank confirmed) or `failed`
(rejected: the money goes back to the merchant's balance). One payout per merchant, mode and
day (unique constraint, checked again under the merchant's ledger lock), so running the job
twice on one day never pays twice.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import date, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone
from sepaxml import SepaTransfer

from merchants.models import Merchant
from merchants.validators import clean_iban
from notifications.services.outbox import publish
from payments.models import LedgerAccount, LedgerEntry, LedgerTransaction, Payout, PayoutBatch
from payments.money import ledger
from payments.representations import ts

logger = logging.getLogger(__name__)
Kind = LedgerAccount.Kind
Status = Payout.Status

# Test mode's sandbox bank confirms transfers this long after the file was written.
SANDBOX_CONFIRM_AFTER = timedelta(minutes=getattr(settings, "SANDBOX_PAYOUT_CONFIRM_MINUTES", 10))


def debtor() -> dict:
    """The platform's own account that pays merchants (operator settings; test values by default)."""
    return {
        "name": getattr(settings, "PAYOUT_DEBTOR_NAME", "PayPlatform SAS"),
        "IBAN": getattr(settings, "PAYOUT_DEBTOR_IBAN", "FR7630006000011234567890189"),
        "BIC": getattr(settings, "PAYOUT_DEBTOR_BIC", "AGRIFRPPXXX"),
        "batch": True,
        "currency": "EUR",
    }


class PayoutError(Exception):
    def __init__(self, code: str, message: str):
        self.code = code
        self.message = message
        super().__init__(message)


def _masked(iban: str) -> str:
    return f"{iban[:4]}…{iban[-4:]}" if len(iban) > 8 else iban


def verified_account(merchant: Merchant, is_live: bool) -> tuple[str, str]:
    """(IBAN, BIC) to pay, or PayoutError saying why this merchant cannot be paid.

    The IBAN must be on the profile and valid (schwifty, SEPA zone); in live mode it must also
    have been verified by staff, which approval does (a changed IBAN sends the merchant back to
    review). A suspended merchant is never paid.
    """
    if merchant.status == Merchant.Status.SUSPENDED:
        raise PayoutError("account_suspended", f"{merchant.name}: the account is suspended; payouts are held.")
    if not merchant.iban:
        raise PayoutError("iban_missing", f"{merchant.name}: no payout IBAN on the profile.")
    try:
        iban, bic = clean_iban(merchant.iban)
    except ValidationError:
        raise PayoutError(
            "iban_invalid", f"{merchant.name}: the payout IBAN {_masked(merchant.iban)} is malformed."
        ) from None
    if is_live and merchant.status != Merchant.Status.APPROVED:
        raise PayoutError(
            "iban_not_verified", f"{merchant.name}: the payout IBAN is not verified yet (the profile awaits approval)."
        )
    return iban, merchant.bic or bic


def create_payout(merchant: Merchant, is_live: bool, day: date, now=None) -> Payout | None:
    """Move the merchant's available balance into a new pending payout. None when there is
    nothing to pay (below the minimum) or the day's payout exists. PayoutError when the merchant
    cannot be paid; nothing changes then."""
    now = now or timezone.now()
    iban, bic = verified_account(merchant, is_live)
    schedule = ledger.settings_for(merchant)
    if schedule.payouts_paused:
        raise PayoutError("payouts_paused", f"{merchant.name}: payouts are paused by the platform.")
    try:
        with transaction.atomic():
            accounts = ledger.lock_accounts(merchant.pk, is_live)
            tenant = Payout.objects.filter(merchant=merchant, is_live=is_live)
            if tenant.filter(payout_date=day).exists():
                return None
            available = ledger.balance(accounts[Kind.AVAILABLE])
            if available <= 0 or available < schedule.payout_minimum:
                return None
            previous = tenant.order_by("-created_at", "-id").first()
            last_entry = LedgerEntry.objects.filter(account=accounts[Kind.AVAILABLE]).aggregate(m=Max("id"))["m"] or 0
            last_settlement = (
                LedgerTransaction.objects.filter(
                    merchant=merchant, is_live=is_live, kind=LedgerTransaction.Kind.SETTLEMENT
                )
                .order_by("-created_at", "-id")
                .values_list("created_at", flat=True)
                .first()
            )
            payout = Payout.objects.create(
                merchant=merchant,
                is_live=is_live,
                amount=available,
                payout_date=day,
                iban=iban,
                bic=bic,
                holder_name=merchant.name,
                first_entry_id=previous.last_entry_id if previous else 0,
                last_entry_id=last_entry,
                settled_from=previous.settled_through if previous else None,
                settled_through=last_settlement,
                created_at=now,
            )
            ledger.post(
                kind=LedgerTransaction.Kind.PAYOUT,
                unique_key=f"payout:{payout.pk}",
                merchant_id=merchant.pk,
                is_live=is_live,
                payout=payout,
                gross=-available,
                net=-available,
                now=now,
                lines=[
                    ledger.Line(accounts[Kind.AVAILABLE], -available),
                    ledger.Line(accounts[Kind.PAYOUTS_IN_TRANSIT], available),
                ],
            )
    except IntegrityError:  # the same day's payout committed concurrently
        return None
    return payout


def write_batch(payouts: list[Payout], is_live: bool, execution_date: date) -> PayoutBatch | None:
    """The SEPA credit transfer file of these pending payouts, validated against the ISO 20022
    schema (pain.001.001.03) that sepaxml ships; the payouts become in transit with it.

    The payouts are locked first (SKIP LOCKED): a concurrent run takes the others, never the same
    ones. None when another run already holds them all."""
    with transaction.atomic():
        claimed = list(
            Payout.objects.select_for_update(skip_locked=True)
            .filter(pk__in=[p.pk for p in payouts], status=Status.PENDING, batch__isnull=True)
            .order_by("pk")
        )
        if not claimed:
            return None
        sepa = SepaTransfer(debtor(), clean=True)
        for payout in claimed:
            entry = {
                "name": payout.holder_name,
                "IBAN": payout.iban,
                "amount": payout.amount,
                "execution_date": execution_date,
                "description": f"Payout {payout.public_id}",
                "endtoend_id": payout.public_id[:35],
            }
            if payout.bic:
                entry["BIC"] = payout.bic
            sepa.add_payment(entry)
        xml = sepa.export(validate=True).decode("utf-8")
        now = timezone.now()
        batch = PayoutBatch.objects.create(
            is_live=is_live,
            execution_date=execution_date,
            message_id=sepa.msg_id,
            payout_count=len(claimed),
            total=sum(p.amount for p in claimed),
            xml=xml,
            created_at=now,
        )
        Payout.objects.filter(pk__in=[p.pk for p in claimed]).update(status=Status.IN_TRANSIT, batch=batch, sent_at=now)
    return batch


@dataclass
class RunResult:
    day: date
    created: list[Payout] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)  # merchant public id -> reason
    batches: list[PayoutBatch] = field(default_factory=list)


def run_payouts(day: date | None = None, now=None) -> RunResult:
    """Beat task body (daily): settle, pay every merchant's available balance, write the files."""
    now = now or timezone.now()
    day = day or now.date()
    ledger.settle_due(now)
    result = RunResult(day=day)
    accounts = LedgerAccount.objects.filter(kind=Kind.AVAILABLE, merchant__isnull=False).select_related("merchant")
    for account in accounts.order_by("pk"):
        if ledger.balance(account) <= 0:
            continue
        try:
            payout = create_payout(account.merchant, account.is_live, day, now)
        except PayoutError as exc:
            result.skipped[account.merchant.public_id] = exc.message
            logger.warning("payout skipped: %s", exc.message)
            continue
        if payout is not None:
            result.created.append(payout)
    for is_live in (False, True):
        waiting = list(Payout.objects.filter(is_live=is_live, status=Status.PENDING, batch__isnull=True).order_by("pk"))
        batch = write_batch(waiting, is_live, day) if waiting else None
        if batch is not None:
            result.batches.append(batch)
    return result


def payout_payload(payout: Payout) -> dict:
    """The payout as the dashboard and the `payout.paid` webhook show it."""
    return {
        "id": payout.public_id,
        "object": "payout",
        "is_live": payout.is_live,
        "amount": payout.amount,
        "currency": payout.currency,
        "status": payout.status,
        "payout_date": payout.payout_date.isoformat(),
        "iban_last4": payout.iban[-4:],
        "created_at": ts(payout.created_at),
        "paid_at": ts(payout.paid_at),
        "failure_reason": payout.failure_reason or None,
    }


def mark_paid(payout: Payout, now=None) -> Payout:
    """The bank confirmed the transfer (staff, or the sandbox bank in test mode)."""
    now = now or timezone.now()
    with transaction.atomic():
        locked = Payout.objects.select_for_update().get(pk=payout.pk)
        if locked.status == Status.PAID:
            return locked
        if locked.status != Status.IN_TRANSIT:
            raise PayoutError("payout_not_in_transit", f"{locked.public_id} is {locked.status}, not in transit.")
        accounts = ledger.lock_accounts(locked.merchant_id, locked.is_live)
        ledger.post(
            kind=LedgerTransaction.Kind.PAYOUT_PAID,
            unique_key=f"payout_paid:{locked.pk}",
            merchant_id=locked.merchant_id,
            is_live=locked.is_live,
            payout=locked,
            now=now,
            lines=[
                ledger.Line(accounts[Kind.PAYOUTS_IN_TRANSIT], -locked.amount),
                ledger.Line(ledger.platform_account(locked.is_live, Kind.PAYOUTS_SENT), locked.amount),
            ],
        )
        locked.status = Status.PAID
        locked.paid_at = now
        locked.save(update_fields=["status", "paid_at"])
        publish(
            merchant=locked.merchant,
            is_live=locked.is_live,
            type="payout.paid",
            object_type="payout",
            object_id=locked.public_id,
            payload=payout_payload(locked),
        )
    return locked


def mark_failed(payout: Payout, reason: str, now=None) -> Payout:
    """The bank rejected the transfer: the money goes back to the merchant's balance."""
    now = now or timezone.now()
    reason = (reason or "rejected by the bank").strip()[:255]
    with transaction.atomic():
        locked = Payout.objects.select_for_update().get(pk=payout.pk)
        if locked.status == Status.FAILED:
            return locked
        if locked.status not in (Status.PENDING, Status.IN_TRANSIT):
            raise PayoutError("payout_already_paid", f"{locked.public_id} is already paid.")
        accounts = ledger.lock_accounts(locked.merchant_id, locked.is_live)
        ledger.post(
            kind=LedgerTransaction.Kind.PAYOUT_FAILED,
            unique_key=f"payout_failed:{locked.pk}",
            merchant_id=locked.merchant_id,
            is_live=locked.is_live,
            payout=locked,
            gross=locked.amount,
            net=locked.amount,
            now=now,
            lines=[
                ledger.Line(accounts[Kind.PAYOUTS_IN_TRANSIT], -locked.amount),
                *ledger._credit_merchant(accounts, locked.amount),
            ],
        )
        locked.status = Status.FAILED
        locked.failed_at = now
        locked.failure_reason = reason
        locked.save(update_fields=["status", "failed_at", "failure_reason"])
    return locked


def confirm_sandbox_payouts(now=None) -> int:
    """Beat task body: test mode's bank confirms transfers a few minutes after the file."""
    now = now or timezone.now()
    due = Payout.objects.filter(is_live=False, status=Status.IN_TRANSIT, sent_at__lte=now - SANDBOX_CONFIRM_AFTER)
    count = 0
    for payout in due.order_by("pk")[:1000]:
        mark_paid(payout, now)
        count += 1
    return count


def payout_lines(payout: Payout) -> list[LedgerTransaction]:
    """What a payout contains: the movements that reached the available balance since the
    previous payout (settled payments, refunds, chargebacks, fees, returned payouts)."""
    accounts = ledger.merchant_accounts(payout.merchant_id, payout.is_live)
    pending_due = LedgerEntry.objects.filter(account=accounts[Kind.PENDING]).exclude(
        transaction__kind=LedgerTransaction.Kind.SETTLEMENT
    )
    if payout.settled_through is None:
        pending_due = pending_due.none()
    else:
        pending_due = pending_due.filter(available_on__lte=payout.settled_through)
        if payout.settled_from is not None:
            pending_due = pending_due.filter(available_on__gt=payout.settled_from)
    direct = LedgerEntry.objects.filter(
        account=accounts[Kind.AVAILABLE], id__gt=payout.first_entry_id, id__lte=payout.last_entry_id
    ).exclude(transaction__kind__in=[LedgerTransaction.Kind.SETTLEMENT, LedgerTransaction.Kind.PAYOUT])
    ids = set(pending_due.values_list("transaction_id", flat=True)) | set(
        direct.values_list("transaction_id", flat=True)
    )
    return list(
        LedgerTransaction.objects.filter(pk__in=ids)
        .select_related("payment", "refund", "dispute")
        .order_by("created_at", "pk")
    )
