"""Accounting reports (spec §11): one CSV line per ledger movement of a merchant's balance.

A report is created `pending`; a Celery task writes the file (streamed from the ledger in chunks,
so memory stays flat whatever the range), marks it `available` for 24 hours behind a signed
temporary URL, and publishes `accounting_report.available` with an IPN to its notification_url.
After 24 hours the status reads `expired` and the URL is gone; the beat task
`payments.delete_expired_report_files` then deletes the file itself (delete_expired_files).
"""

from __future__ import annotations

import io
import json
import logging
import tempfile
from datetime import UTC, date, datetime, time, timedelta

from django.core import signing
from django.core.files import File
from django.db import transaction
from django.db.models import Sum
from django.http import FileResponse, Http404
from django.utils import timezone

from notifications.services.outbox import publish
from payments import amounts, representations
from payments.models import AccountingReport, LedgerAccount, LedgerEntry, LedgerTransaction
from payments.money import ledger
from payments.report_links import FILE_LIFETIME, SIGNING_SALT
from payplug import spreadsheet
from payplug.queue import enqueue_after_commit

logger = logging.getLogger(__name__)
TxKind = LedgerTransaction.Kind

MAX_DAYS = 366
# The API contract's columns (spec §11), in its order: amounts in integer cents, dates ISO 8601 UTC.
CONTRACT_COLUMNS = [
    "operation_date",
    "operation_type",
    "object_id",
    "payment_id",
    "gross_amount",
    "fee",
    "net_amount",
    "balance",
    "currency",
    "metadata",
]
# Then the same amounts for people: decimal euros ('12.34'), as in the dashboard's payments export.
# Documented in docs/api/accounting-reports.md.
EURO_COLUMNS = ["gross_amount_eur", "fee_eur", "net_amount_eur", "balance_eur"]
COLUMNS = CONTRACT_COLUMNS + EURO_COLUMNS
# Movements of the merchant's balance (pending + available + reserve) and their report type;
# settlements, reserve moves and payout confirmations move money between the merchant's own
# accounts or the platform's and are not listed.
OPERATION_TYPES = {
    TxKind.CAPTURE: "payment",
    TxKind.REFUND: "refund",
    TxKind.FEE: "fee",
    TxKind.CHARGEBACK: "chargeback",
    TxKind.CHARGEBACK_REVERSAL: "chargeback",
    TxKind.PAYOUT: "payout",
    TxKind.PAYOUT_FAILED: "payout",
}
BALANCE_KINDS = (LedgerAccount.Kind.PENDING, LedgerAccount.Kind.AVAILABLE, LedgerAccount.Kind.RESERVE)


def day_start(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)


def opening_balance(merchant_id: int, is_live: bool, at: datetime) -> int:
    accounts = ledger.merchant_accounts(merchant_id, is_live)
    ids = [accounts[k].pk for k in BALANCE_KINDS]
    return LedgerEntry.objects.filter(account_id__in=ids, created_at__lt=at).aggregate(s=Sum("amount"))["s"] or 0


def movements(merchant_id: int, is_live: bool, start: datetime, end: datetime):
    """The merchant's balance movements in [start, end), oldest first, streamed in chunks."""
    return (
        LedgerTransaction.objects.filter(
            merchant_id=merchant_id,
            is_live=is_live,
            created_at__gte=start,
            created_at__lt=end,
            kind__in=list(OPERATION_TYPES),
        )
        .select_related("payment", "refund", "dispute", "payout")
        .order_by("created_at", "id")
        .iterator(chunk_size=2000)
    )


def _object_id(tx: LedgerTransaction) -> str:
    if tx.kind in (TxKind.PAYOUT, TxKind.PAYOUT_FAILED) and tx.payout_id:
        return tx.payout.public_id
    if tx.kind in (TxKind.CHARGEBACK, TxKind.CHARGEBACK_REVERSAL) and tx.dispute_id:
        return tx.dispute.public_id
    if tx.refund_id:
        return tx.refund.public_id
    if tx.dispute_id:
        return tx.dispute.public_id
    if tx.payment_id:
        return tx.payment.public_id
    return tx.public_id


def _metadata(tx: LedgerTransaction) -> dict:
    if tx.refund_id and tx.kind == TxKind.REFUND:
        return tx.refund.metadata or {}
    if tx.kind == TxKind.CAPTURE and tx.payment_id:
        return tx.payment.metadata or {}
    if tx.dispute_id:
        return {"reason": tx.dispute.reason}
    if tx.kind == TxKind.PAYOUT_FAILED and tx.payout_id:
        return {"returned": True, "failure_reason": tx.payout.failure_reason}
    return {}


def rows(merchant_id: int, is_live: bool, start: datetime, end: datetime):
    """CSV rows (header first) with the running balance of pending + available + reserve."""
    running = opening_balance(merchant_id, is_live, start)
    yield COLUMNS
    for tx in movements(merchant_id, is_live, start, end):
        running += tx.net
        yield [
            tx.created_at.astimezone(UTC).isoformat().replace("+00:00", "Z"),
            OPERATION_TYPES[tx.kind],
            _object_id(tx),
            tx.payment.public_id if tx.payment_id else "",
            tx.gross,
            tx.fee,
            tx.net,
            running,
            tx.currency,
            json.dumps(_metadata(tx), separators=(",", ":"), ensure_ascii=False, sort_keys=True),
            amounts.decimal_amount(tx.gross),
            amounts.decimal_amount(tx.fee),
            amounts.decimal_amount(tx.net),
            amounts.decimal_amount(running),
        ]


class Echo:
    """A file-like that returns what is written (csv.writer into a streaming response)."""

    def write(self, value):
        return value


def stream_csv(row_iter):
    writer = spreadsheet.writer(Echo())  # cells a spreadsheet will not run as formulas
    for row in row_iter:
        yield writer.writerow(row)


# --- life cycle ------------------------------------------------------------------------------------


def create_report(
    merchant, is_live: bool, start: date, end: date, notification_url: str | None, created_by=""
) -> AccountingReport:
    with transaction.atomic():
        report = AccountingReport.objects.create(
            merchant=merchant,
            is_live=is_live,
            start_date=start,
            end_date=end,
            notification_url=notification_url or None,
            created_by=created_by[:255],
        )
        # Broker down: the beat sweep (generate_pending) writes pending reports later.
        enqueue_after_commit("payments.generate_accounting_report", [report.pk])
    return report


def generate(report_id: int, now=None) -> AccountingReport | None:
    """Write the report's file (idempotent: only a pending report is generated)."""
    report = AccountingReport.objects.select_related("merchant").filter(pk=report_id).first()
    if report is None or report.status != AccountingReport.Status.PENDING:
        return report
    start, end = day_start(report.start_date), day_start(report.end_date + timedelta(days=1))
    count = 0
    try:
        with tempfile.TemporaryFile() as raw:
            text = io.TextIOWrapper(raw, encoding="utf-8", newline="")
            writer = spreadsheet.writer(text)  # cells a spreadsheet will not run as formulas
            for row in rows(report.merchant_id, report.is_live, start, end):
                writer.writerow(row)
                count += 1
            text.flush()
            raw.seek(0)
            name = f"{report.public_id}.csv"
            with transaction.atomic():
                locked = AccountingReport.objects.select_for_update().get(pk=report.pk)
                if locked.status != AccountingReport.Status.PENDING:
                    return locked
                locked.file.save(name, File(raw, name=name), save=False)
                now = now or timezone.now()
                locked.status = AccountingReport.Status.AVAILABLE
                locked.row_count = count - 1
                locked.generated_at = now
                locked.file_available_until = now + FILE_LIFETIME
                locked.save()
                publish(
                    merchant=locked.merchant,
                    is_live=locked.is_live,
                    type="accounting_report.available",
                    object_type="accounting_report",
                    object_id=locked.public_id,
                    payload=representations.accounting_report(locked, now),
                    ipn_url=locked.notification_url,
                )
            text.detach()
    except OSError as exc:
        logger.exception("accounting report %s failed", report.public_id)
        AccountingReport.objects.filter(pk=report.pk, status=AccountingReport.Status.PENDING).update(
            status=AccountingReport.Status.FAILED, failure_message=str(exc)[:255]
        )
    return AccountingReport.objects.get(pk=report.pk)


def generate_pending(older_than_seconds: int = 60) -> int:
    """Beat task body: generate reports whose task was lost (broker down at creation)."""
    cutoff = timezone.now() - timedelta(seconds=older_than_seconds)
    ids = AccountingReport.objects.filter(status=AccountingReport.Status.PENDING, created_at__lte=cutoff)
    done = 0
    for report_id in list(ids.values_list("pk", flat=True)[:50]):
        generate(report_id)
        done += 1
    return done


def delete_expired_files(now=None, batch: int = 500) -> int:
    """Beat task body: delete from storage the file of every report whose 24 hours are over, and
    mark the report `expired` with no file. Safe to run twice: a second run finds nothing, and a
    file already gone from storage is only cleared from the row. Returns how many were cleared."""
    now = now or timezone.now()
    due = AccountingReport.objects.filter(
        status__in=(AccountingReport.Status.AVAILABLE, AccountingReport.Status.EXPIRED),
        file_available_until__lte=now,
    ).exclude(file="")
    done = 0
    for report_id in list(due.values_list("pk", flat=True)[:batch]):
        with transaction.atomic():
            # Locked and checked again: another run may have cleared it meanwhile.
            report = due.select_for_update().filter(pk=report_id).first()
            if report is None:
                continue
            # The file first: if the row's update were lost, the next run deletes nothing and clears it.
            report.file.storage.delete(report.file.name)
            report.file = ""
            report.status = AccountingReport.Status.EXPIRED
            report.save(update_fields=["file", "status"])
            done += 1
    return done


# --- the temporary link -----------------------------------------------------------------------------


def report_for_token(token: str, now=None) -> AccountingReport | None:
    """The report a temporary link points to, while its file is available; None otherwise."""
    now = now or timezone.now()
    try:
        data = signing.loads(token, salt=SIGNING_SALT, max_age=FILE_LIFETIME.total_seconds() + 60)
    except signing.BadSignature:
        return None
    if not isinstance(data, dict) or int(data.get("u", 0)) <= now.timestamp():
        return None
    report = AccountingReport.objects.filter(public_id=data.get("r")).first()
    if report is None or report.current_status(now) != AccountingReport.Status.AVAILABLE or not report.file:
        return None
    return report


def file_response(report: AccountingReport) -> FileResponse:
    """The report's CSV file as a download (the dashboard's button and the temporary link)."""
    response = FileResponse(report.file.open("rb"), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="accounting-report-{report.public_id}.csv"'
    return response


def serve_temporary_link(token: str) -> FileResponse:
    """What the temporary link serves: no login and no API key, a signature that expires with the
    file (24 h); 404 once it has expired or when it is not valid."""
    report = report_for_token(token)
    if report is None:
        raise Http404("This link has expired or is not valid.")
    response = file_response(report)
    response["Cache-Control"] = "private, no-store"
    return response
