"""Proof of the ledger (`manage.py check_ledger`, and the tests' tripwire).

Checks, in this order, each with set-based SQL and chunked scans so that it runs over millions
of rows in seconds and constant memory:
1. every ledger transaction has lines and its lines sum to zero;
2. every transaction's merchant net equals the sum of its lines on the merchant's pending,
   available and reserve accounts;
3. every payment's lines match it: a paid payment has exactly one capture of its amount with the
   fee of the schedule it recorded, an unpaid one none; its refunds' lines add up to
   amount_refunded (one per Refund row) and return exactly fee(amount) - fee(amount - refunded);
   a disputed payment has its chargeback of the disputed amount;
4. no merchant's pending, available or payouts-in-transit balance is negative (a negative reserve
   is a chargeback debt, allowed and shown), and payouts in transit equal the open payouts.
The first offender is reported by name.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Count, Sum

from payments.models import Dispute, LedgerAccount, LedgerEntry, LedgerTransaction, Payment, Payout, Refund
from payments.money.ledger import fee_for

Kind = LedgerAccount.Kind
TxKind = LedgerTransaction.Kind
BALANCE_KINDS = [Kind.PENDING, Kind.AVAILABLE, Kind.RESERVE]
CHUNK = 20_000


@dataclass
class Report:
    transactions: int = 0
    payments: int = 0
    accounts: int = 0
    problem: str | None = None

    @property
    def ok(self) -> bool:
        return self.problem is None


def _tx_label(tx_id: int) -> str:
    tx = LedgerTransaction.objects.filter(pk=tx_id).select_related("payment").first()
    if tx is None:
        return f"transaction #{tx_id}"
    about = f" of {tx.payment.public_id}" if tx.payment_id else ""
    return f"transaction {tx.public_id} ({tx.kind}{about}, key {tx.unique_key})"


def check_transactions(report: Report) -> str | None:
    """One pass over the lines, by ranges of transaction ids (the foreign-key index): each
    transaction must have lines, sum to zero, and its merchant net must match its lines on the
    merchant's balance accounts."""
    report.transactions = LedgerTransaction.objects.count()
    balance_accounts = set(
        LedgerAccount.objects.filter(merchant__isnull=False, kind__in=BALANCE_KINDS).values_list("pk", flat=True)
    )
    last = LedgerTransaction.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    low = 0
    while low < last:
        high = low + CHUNK * 10
        nets = dict(LedgerTransaction.objects.filter(pk__gt=low, pk__lte=high).values_list("pk", "net"))
        totals: dict[int, int] = {}
        merchant: dict[int, int] = {}
        lines = LedgerEntry.objects.filter(transaction_id__gt=low, transaction_id__lte=high).values_list(
            "transaction_id", "account_id", "amount"
        )
        for tx_id, account_id, amount in lines.iterator(chunk_size=20_000):
            totals[tx_id] = totals.get(tx_id, 0) + amount
            if account_id in balance_accounts:
                merchant[tx_id] = merchant.get(tx_id, 0) + amount
        for tx_id in sorted(nets):
            if tx_id not in totals:
                return f"{_tx_label(tx_id)}: it has no lines"
            if totals[tx_id] != 0:
                return f"{_tx_label(tx_id)}: its lines sum to {totals[tx_id]}, not zero"
            if nets[tx_id] != merchant.get(tx_id, 0):
                lines_sum = merchant.get(tx_id, 0)
                return f"{_tx_label(tx_id)}: net {nets[tx_id]} but its merchant balance lines sum to {lines_sum}"
        orphans = set(totals) - set(nets)
        if orphans:
            return f"ledger lines of a transaction that does not exist (#{min(orphans)})"
        low = high
    return None


def _payment_problem(p, captures, refund_sums, refund_counts, chargebacks, disputes) -> str | None:
    pk, public_id, status, amount, refunded, dispute = p
    capture = captures.get(pk)
    if status != Payment.Status.PAID:
        if capture is not None:
            return f"payment {public_id}: status {status} but it has a capture posting"
        return None
    if capture is None:
        return f"payment {public_id}: paid but no capture posting"
    count, gross, fee, schedule = capture
    if count != 1:
        return f"payment {public_id}: {count} capture postings"
    if gross != amount:
        return f"payment {public_id}: captured {gross} in the ledger, amount is {amount}"
    expected_fee = fee_for(amount, schedule["bps"], schedule["fixed"])
    if fee != expected_fee:
        return f"payment {public_id}: capture fee {fee}, the schedule gives {expected_fee}"
    ledger_refunded, returned = refund_sums.get(pk, (0, 0))
    if -ledger_refunded != refunded:
        return f"payment {public_id}: refunds in the ledger {-ledger_refunded}, amount_refunded is {refunded}"
    rows, postings = refund_counts.get(pk, (0, 0))
    if rows != postings:
        return f"payment {public_id}: {rows} refunds but {postings} refund postings"
    expected_return = expected_fee - fee_for(amount - refunded, schedule["bps"], schedule["fixed"])
    if -returned != expected_return:
        return f"payment {public_id}: refunds returned {-returned} of fee, the rule gives {expected_return}"
    disputed = disputes.get(pk)
    if dispute and disputed is None:
        return f"payment {public_id}: dispute set but no Dispute row"
    if disputed is not None and chargebacks.get(pk) != -disputed:
        return f"payment {public_id}: chargeback posting {chargebacks.get(pk)}, disputed amount {disputed}"
    return None


def check_payments(report: Report) -> str | None:
    last = Payment.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    low = 0
    while low < last:
        high = low + CHUNK
        payments = list(
            Payment.objects.filter(pk__gt=low, pk__lte=high)
            .order_by("pk")
            .values_list("pk", "public_id", "status", "amount", "amount_refunded", "dispute")
        )
        in_range = {"payment_id__gt": low, "payment_id__lte": high}
        txs = LedgerTransaction.objects.filter(**in_range)
        captures = {}
        for payment_id, gross, fee, metadata in txs.filter(kind=TxKind.CAPTURE).values_list(
            "payment_id", "gross", "fee", "metadata"
        ):
            count = captures[payment_id][0] + 1 if payment_id in captures else 1
            captures[payment_id] = (count, gross, fee, (metadata or {}).get("schedule", {"bps": 0, "fixed": 0}))
        refund_sums = {
            row["payment_id"]: (row["gross"] or 0, row["fee"] or 0)
            for row in txs.filter(kind=TxKind.REFUND)
            .values("payment_id")
            .annotate(gross=Sum("gross"), fee=Sum("fee"), n=Count("pk"))
            .order_by()
        }
        postings = dict(
            txs.filter(kind=TxKind.REFUND)
            .values("payment_id")
            .annotate(n=Count("pk"))
            .order_by()
            .values_list("payment_id", "n")
        )
        rows = dict(
            Refund.objects.filter(**in_range)
            .values("payment_id")
            .annotate(n=Count("pk"))
            .order_by()
            .values_list("payment_id", "n")
        )
        refund_counts = {pid: (rows.get(pid, 0), postings.get(pid, 0)) for pid in set(rows) | set(postings)}
        chargebacks = dict(txs.filter(kind=TxKind.CHARGEBACK).values_list("payment_id", "gross"))
        disputes = dict(Dispute.objects.filter(**in_range).values_list("payment_id", "amount"))
        for p in payments:
            problem = _payment_problem(p, captures, refund_sums, refund_counts, chargebacks, disputes)
            if problem:
                return problem
        orphan = set(captures) - {p[0] for p in payments}
        if orphan:
            return f"capture posting for a payment that does not exist (#{min(orphan)})"
        report.payments += len(payments)
        low = high
    return None


def check_balances(report: Report) -> str | None:
    sums = (
        LedgerEntry.objects.filter(account__merchant__isnull=False)
        .values("account_id", "account__code", "account__kind")
        .annotate(total=Sum("amount"))
        .order_by("account_id")
    )
    in_transit = {}
    for row in sums:
        report.accounts += 1
        if row["account__kind"] != Kind.RESERVE and row["total"] < 0:
            return f"account {row['account__code']}: negative balance {row['total']}"
        if row["account__kind"] == Kind.PAYOUTS_IN_TRANSIT:
            in_transit[row["account__code"]] = row["total"]
    open_payouts = (
        Payout.objects.filter(status__in=[Payout.Status.PENDING, Payout.Status.IN_TRANSIT])
        .values("merchant_id", "is_live")
        .annotate(total=Sum("amount"))
        .order_by()
    )
    expected = {
        f"m{row['merchant_id']}:{'live' if row['is_live'] else 'test'}:{Kind.PAYOUTS_IN_TRANSIT}": row["total"]
        for row in open_payouts
    }
    for code in sorted(set(expected) | set(in_transit)):
        if (expected.get(code) or 0) != (in_transit.get(code) or 0):
            return (
                f"account {code}: {in_transit.get(code) or 0} in transit, open payouts total {expected.get(code) or 0}"
            )
    return None


def run() -> Report:
    report = Report()
    for check in (check_transactions, check_payments, check_balances):
        report.problem = check(report)
        if report.problem:
            break
    return report
