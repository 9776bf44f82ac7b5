"""The double-entry ledger: every cent that moves is written twice, in the transaction that moves it.

Conventions
-----------
* Amounts are integer cents. An entry's amount is signed: positive credits the account (its
  owner holds more), negative debits it. The entries of one LedgerTransaction sum to zero.
* Accounts per merchant and mode: pending, available, reserve, payouts_in_transit. Platform
  accounts per mode: fees (revenue), acquirer_clearing (what the acquirer owes us, so it runs
  negative), disputes (funds held by the card scheme during a dispute), payouts_sent (money that
  left our bank for merchants' banks).
* A balance is always `SUM(amount)` of an account's entries (a covering index answers it); no
  counter is stored anywhere.
* Every posting that touches a merchant's accounts first locks them (`lock_accounts`, rows in
  id order), after the payment's row lock when there is one: concurrent refunds, disputes,
  settlements and payouts of one merchant are serialised, and checks of what the merchant holds
  are made under that lock.

Money flows (merchant side; F = capture fee, f = refund fee, g = dispute fee)
------------------------------------------------------------------------------
capture A       clearing -A, fees +F, pending +(A-F)            (due after the settlement delay)
refund R        clearing +R, fees -(fee returned), merchant -(R - fee returned)
refund fee f    fees +f, merchant -f                             (kind "fee")
chargeback D    disputes +D, merchant -D;   dispute fee g: fees +g, merchant -g
won             disputes -D, merchant +D;   lost: disputes -D, clearing +D
settlement S    pending -S, reserve +r, available +(S-r)
payout P        available -P, in_transit +P;  paid: in_transit -P, payouts_sent +P;
                failed: in_transit -P, merchant +P

"merchant -X" takes from available, then pending, then a positive reserve (`_debit_merchant`);
refunds are refused beforehand when that is not enough (README, "Negative balances"). Only a
chargeback, which the card scheme imposes, may leave the rest as a negative reserve: an explicit
debt, shown on the balance page and repaid first by later settlements and credits.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from django.db import transaction
from django.db.models import Max, Sum
from django.utils import timezone

from merchants.models import Merchant
from payments.models import (
    LedgerAccount,
    LedgerEntry,
    LedgerTransaction,
    MerchantAccountSettings,
    Payment,
)

Kind = LedgerAccount.Kind
TxKind = LedgerTransaction.Kind


class LedgerError(Exception):
    """A posting that would break the ledger's rules (unbalanced, outside a transaction...)."""


class InsufficientFunds(LedgerError):
    def __init__(self, needed: int, held: int):
        self.needed = needed
        self.held = held
        super().__init__(f"needs {needed} cents, the merchant holds {held}")


# --- fees ------------------------------------------------------------------------------------------


def settings_for(merchant) -> MerchantAccountSettings:
    """The merchant's fee schedule and payout settings (created with the defaults on first use)."""
    found = MerchantAccountSettings.objects.filter(merchant=merchant).first()
    if found is not None:
        return found
    MerchantAccountSettings.objects.bulk_create([MerchantAccountSettings(merchant=merchant)], ignore_conflicts=True)
    return MerchantAccountSettings.objects.get(merchant=merchant)


def percentage_of(amount: int, bps: int) -> int:
    """amount x bps / 10 000, rounded half up to the cent, in integers only."""
    return (amount * bps + 5_000) // 10_000


def fee_for(amount: int, bps: int, fixed: int) -> int:
    """The fee on `amount` cents kept by the merchant: percentage (half up) + fixed, never more
    than the amount itself; nothing on nothing (README, "Fees and rounding")."""
    if amount <= 0:
        return 0
    return min(amount, percentage_of(amount, bps) + fixed)


# --- accounts and balances -------------------------------------------------------------------------


def _mode(is_live: bool) -> str:
    return "live" if is_live else "test"


def account_code(merchant_id: int | None, is_live: bool, kind: str) -> str:
    owner = f"m{merchant_id}" if merchant_id is not None else "platform"
    return f"{owner}:{_mode(is_live)}:{kind}"


def _ensure(codes: dict[str, tuple[int | None, bool, str]]) -> dict[str, LedgerAccount]:
    found = {a.code: a for a in LedgerAccount.objects.filter(code__in=list(codes))}
    missing = [c for c in codes if c not in found]
    if missing:
        LedgerAccount.objects.bulk_create(
            [LedgerAccount(code=c, merchant_id=codes[c][0], is_live=codes[c][1], kind=codes[c][2]) for c in missing],
            ignore_conflicts=True,
        )
        found = {a.code: a for a in LedgerAccount.objects.filter(code__in=list(codes))}
    return found


def merchant_accounts(merchant_id: int, is_live: bool) -> dict[str, LedgerAccount]:
    codes = {account_code(merchant_id, is_live, k): (merchant_id, is_live, k) for k in LedgerAccount.MERCHANT_KINDS}
    by_code = _ensure(codes)
    return {by_code[c].kind: by_code[c] for c in codes}


def platform_account(is_live: bool, kind: str) -> LedgerAccount:
    code = account_code(None, is_live, kind)
    return _ensure({code: (None, is_live, kind)})[code]


def lock_accounts(merchant_id: int, is_live: bool) -> dict[str, LedgerAccount]:
    """Lock the merchant's accounts (one mode) in a stable order; must run inside a transaction."""
    if not transaction.get_connection().in_atomic_block:
        raise LedgerError("lock_accounts() must run inside a transaction")
    accounts = merchant_accounts(merchant_id, is_live)
    ids = sorted(a.pk for a in accounts.values())
    list(LedgerAccount.objects.select_for_update().filter(pk__in=ids).order_by("pk").values_list("pk", flat=True))
    return accounts


def balance(account: LedgerAccount | int) -> int:
    account_id = account if isinstance(account, int) else account.pk
    return LedgerEntry.objects.filter(account_id=account_id).aggregate(s=Sum("amount"))["s"] or 0


@dataclass
class Balances:
    pending: int = 0
    available: int = 0
    reserve: int = 0
    in_transit: int = 0

    @property
    def held(self) -> int:
        """What the merchant holds with us (a negative reserve is a debt and counts against it)."""
        return self.pending + self.available + self.reserve

    @property
    def debt(self) -> int:
        return max(0, -self.reserve)


def balances(merchant_id: int, is_live: bool) -> Balances:
    accounts = merchant_accounts(merchant_id, is_live)
    by_id = {a.pk: k for k, a in accounts.items()}
    rows = (
        LedgerEntry.objects.filter(account_id__in=list(by_id)).values("account_id").annotate(s=Sum("amount")).order_by()
    )
    sums = {by_id[r["account_id"]]: r["s"] or 0 for r in rows}
    return Balances(
        pending=sums.get(Kind.PENDING, 0),
        available=sums.get(Kind.AVAILABLE, 0),
        reserve=sums.get(Kind.RESERVE, 0),
        in_transit=sums.get(Kind.PAYOUTS_IN_TRANSIT, 0),
    )


# --- posting ---------------------------------------------------------------------------------------


@dataclass
class Line:
    account: LedgerAccount
    amount: int
    available_on: object = None


def post(
    *,
    kind: str,
    unique_key: str,
    merchant_id: int,
    is_live: bool,
    lines: list[Line],
    gross: int = 0,
    fee: int = 0,
    net: int = 0,
    now=None,
    **links,
) -> LedgerTransaction:
    """Write one balanced transaction. Raises LedgerError when the lines do not sum to zero,
    or when called outside a database transaction (a posting belongs to a state change)."""
    if not transaction.get_connection().in_atomic_block:
        raise LedgerError("ledger postings must run inside the transaction of the state change")
    lines = [line for line in lines if line.amount]
    total = sum(line.amount for line in lines)
    if total != 0:
        raise LedgerError(f"{kind} {unique_key}: lines sum to {total}, not zero")
    now = now or timezone.now()
    tx = LedgerTransaction.objects.create(
        kind=kind,
        unique_key=unique_key,
        merchant_id=merchant_id,
        is_live=is_live,
        gross=gross,
        fee=fee,
        net=net,
        created_at=now,
        **links,
    )
    LedgerEntry.objects.bulk_create(
        [
            LedgerEntry(
                transaction=tx,
                account=line.account,
                amount=line.amount,
                available_on=line.available_on or now,
                created_at=now,
            )
            for line in lines
        ]
    )
    return tx


def _latest_due(pending: LedgerAccount, now) -> object:
    """A debit taken from pending falls due with the latest money still pending, so that no
    settlement window can ever sum to less than zero (README, "Settlement")."""
    latest = LedgerEntry.objects.filter(account=pending, available_on__gt=now).aggregate(m=Max("available_on"))["m"]
    return max(latest, now) if latest else now


def _debit_merchant(accounts, amount: int, now, *, allow_debt: bool) -> list[Line]:
    """Take `amount` from available, then pending, then a positive reserve. With allow_debt the
    rest is left as a negative reserve (chargebacks only); otherwise InsufficientFunds."""
    if amount <= 0:
        return []
    current = {k: balance(accounts[k]) for k in (Kind.AVAILABLE, Kind.PENDING, Kind.RESERVE)}
    held = current[Kind.AVAILABLE] + current[Kind.PENDING] + current[Kind.RESERVE]
    if amount > held and not allow_debt:
        raise InsufficientFunds(amount, max(held, 0))
    lines, rest = [], amount
    for kind in (Kind.AVAILABLE, Kind.PENDING, Kind.RESERVE):
        take = min(rest, max(current[kind], 0))
        if take:
            due = _latest_due(accounts[kind], now) if kind == Kind.PENDING else now
            lines.append(Line(accounts[kind], -take, due))
            rest -= take
    if rest:
        lines.append(Line(accounts[Kind.RESERVE], -rest))
    return lines


def _credit_merchant(accounts, amount: int) -> list[Line]:
    """Money back to the merchant (dispute won, failed payout): repays a negative reserve first."""
    debt = max(0, -balance(accounts[Kind.RESERVE]))
    repay = min(debt, amount)
    return [Line(accounts[Kind.RESERVE], repay), Line(accounts[Kind.AVAILABLE], amount - repay)]


def refund_debit(p: Payment, refund_amount: int, refunded_before: int, schedule: dict) -> tuple[int, int]:
    """(fee returned, what leaves the merchant) for a refund: fees follow the kept amount."""
    before = fee_for(p.amount - refunded_before, schedule["bps"], schedule["fixed"])
    after = fee_for(p.amount - refunded_before - refund_amount, schedule["bps"], schedule["fixed"])
    returned = before - after
    return returned, refund_amount - returned


def capture_schedule(p: Payment) -> dict:
    """The fee schedule applied when the payment was captured (kept on its capture posting)."""
    tx = LedgerTransaction.objects.filter(unique_key=f"capture:{p.pk}").only("metadata").first()
    if tx is None:  # captured before the ledger existed: nothing of it is held, refunds need the balance
        return {"bps": 0, "fixed": 0}
    return tx.metadata["schedule"]


def post_capture(p: Payment, now=None) -> LedgerTransaction:
    """Payment captured: gross to clearing, fee to the platform, net to the merchant's pending."""
    now = now or timezone.now()
    schedule_row = settings_for(p.merchant)
    schedule = {"bps": schedule_row.fee_percent_bps, "fixed": schedule_row.fee_fixed}
    fee = fee_for(p.amount, schedule["bps"], schedule["fixed"])
    accounts = lock_accounts(p.merchant_id, p.is_live)
    due = now + timedelta(days=schedule_row.settlement_delay_days)
    tx = post(
        kind=TxKind.CAPTURE,
        unique_key=f"capture:{p.pk}",
        merchant_id=p.merchant_id,
        is_live=p.is_live,
        payment=p,
        gross=p.amount,
        fee=fee,
        net=p.amount - fee,
        now=now,
        # The schedule travels with the posting: later refunds return fees by the same rule.
        metadata={"schedule": schedule},
        lines=[
            Line(platform_account(p.is_live, Kind.ACQUIRER_CLEARING), -p.amount),
            Line(platform_account(p.is_live, Kind.FEES), fee),
            Line(accounts[Kind.PENDING], p.amount - fee, due),
        ],
    )
    return tx


def check_refund(p: Payment, amount: int) -> None:
    """Raise InsufficientFunds when the merchant does not hold what the refund takes (call under
    the payment's lock, before asking the acquirer)."""
    schedule = capture_schedule(p)
    _returned, debit = refund_debit(p, amount, p.amount_refunded, schedule)
    refund_fee = settings_for(p.merchant).refund_fee
    accounts = lock_accounts(p.merchant_id, p.is_live)
    held = sum(balance(accounts[k]) for k in (Kind.AVAILABLE, Kind.PENDING, Kind.RESERVE))
    if debit + refund_fee > held:
        raise InsufficientFunds(debit + refund_fee, max(held, 0))


def post_refund(refund, refunded_before: int, now=None) -> LedgerTransaction:
    """Refund: the amount goes back through the acquirer; the fee follows the kept amount."""
    p = refund.payment
    now = now or timezone.now()
    schedule = capture_schedule(p)
    returned, debit = refund_debit(p, refund.amount, refunded_before, schedule)
    accounts = lock_accounts(p.merchant_id, p.is_live)
    refund_fee = settings_for(p.merchant).refund_fee
    lines = _debit_merchant(accounts, debit, now, allow_debt=False)
    tx = post(
        kind=TxKind.REFUND,
        unique_key=f"refund:{refund.pk}",
        merchant_id=p.merchant_id,
        is_live=p.is_live,
        payment=p,
        refund=refund,
        gross=-refund.amount,
        fee=-returned,
        net=-debit,
        now=now,
        lines=[
            Line(platform_account(p.is_live, Kind.ACQUIRER_CLEARING), refund.amount),
            Line(platform_account(p.is_live, Kind.FEES), -returned),
            *lines,
        ],
    )
    if refund_fee:
        post_fee(
            p.merchant_id,
            p.is_live,
            refund_fee,
            unique_key=f"refund_fee:{refund.pk}",
            allow_debt=False,
            now=now,
            payment=p,
            refund=refund,
        )
    return tx


def post_fee(merchant_id, is_live, amount, *, unique_key, allow_debt, now=None, **links) -> LedgerTransaction:
    now = now or timezone.now()
    accounts = lock_accounts(merchant_id, is_live)
    return post(
        kind=TxKind.FEE,
        unique_key=unique_key,
        merchant_id=merchant_id,
        is_live=is_live,
        gross=0,
        fee=amount,
        net=-amount,
        now=now,
        lines=[
            Line(platform_account(is_live, Kind.FEES), amount),
            *_debit_merchant(accounts, amount, now, allow_debt=allow_debt),
        ],
        **links,
    )


def post_chargeback(dispute, now=None) -> LedgerTransaction:
    """A chargeback arrived: the disputed amount leaves the merchant (the scheme holds it), then
    the dispute fee. Imposed by the scheme: never refused, a shortfall becomes a negative reserve."""
    p = dispute.payment
    now = now or timezone.now()
    accounts = lock_accounts(p.merchant_id, p.is_live)
    tx = post(
        kind=TxKind.CHARGEBACK,
        unique_key=f"chargeback:{dispute.pk}",
        merchant_id=p.merchant_id,
        is_live=p.is_live,
        payment=p,
        dispute=dispute,
        gross=-dispute.amount,
        fee=0,
        net=-dispute.amount,
        now=now,
        lines=[
            Line(platform_account(p.is_live, Kind.DISPUTES), dispute.amount),
            *_debit_merchant(accounts, dispute.amount, now, allow_debt=True),
        ],
    )
    if dispute.fee:
        post_fee(
            p.merchant_id,
            p.is_live,
            dispute.fee,
            unique_key=f"dispute_fee:{dispute.pk}",
            allow_debt=True,
            now=now,
            payment=p,
            dispute=dispute,
        )
    return tx


def post_dispute_won(dispute, now=None) -> LedgerTransaction:
    """Won: the scheme gives the amount back to the merchant (the dispute fee is not returned)."""
    p = dispute.payment
    accounts = lock_accounts(p.merchant_id, p.is_live)
    return post(
        kind=TxKind.CHARGEBACK_REVERSAL,
        unique_key=f"chargeback_reversal:{dispute.pk}",
        merchant_id=p.merchant_id,
        is_live=p.is_live,
        payment=p,
        dispute=dispute,
        gross=dispute.amount,
        net=dispute.amount,
        now=now,
        lines=[
            Line(platform_account(p.is_live, Kind.DISPUTES), -dispute.amount),
            *_credit_merchant(accounts, dispute.amount),
        ],
    )


def post_dispute_lost(dispute, now=None) -> LedgerTransaction:
    """Lost: final; the held funds go back to the cardholder through the acquirer."""
    p = dispute.payment
    return post(
        kind=TxKind.CHARGEBACK_LOST,
        unique_key=f"chargeback_lost:{dispute.pk}",
        merchant_id=p.merchant_id,
        is_live=p.is_live,
        payment=p,
        dispute=dispute,
        now=now,
        lines=[
            Line(platform_account(p.is_live, Kind.DISPUTES), -dispute.amount),
            Line(platform_account(p.is_live, Kind.ACQUIRER_CLEARING), dispute.amount),
        ],
    )


# --- settlement ------------------------------------------------------------------------------------


def settle(merchant_id: int, is_live: bool, now=None) -> LedgerTransaction | None:
    """Move what fell due from pending to the reserve (up to its target, debts first) and to
    available. Cumulative, so a missed run is caught up by the next one and a second run in a row
    moves nothing: due = (sum of pending entries due by now, settlements excluded) - settled so far."""
    now = now or timezone.now()
    with transaction.atomic():
        accounts = lock_accounts(merchant_id, is_live)
        pending = accounts[Kind.PENDING]
        # Settlement entries are dated at their run, so this sum is "due so far - settled so far".
        due = LedgerEntry.objects.filter(account=pending, available_on__lte=now).aggregate(s=Sum("amount"))["s"] or 0
        amount = min(due, balance(pending))
        if amount <= 0:
            return None
        reserve_target = settings_for(Merchant(pk=merchant_id)).reserve_amount
        to_reserve = min(amount, max(0, reserve_target - balance(accounts[Kind.RESERVE])))
        return post(
            kind=TxKind.SETTLEMENT,
            unique_key=f"settlement:{merchant_id}:{_mode(is_live)}:{now.isoformat()}",
            merchant_id=merchant_id,
            is_live=is_live,
            now=now,
            metadata={"settled_through": now.isoformat()},
            lines=[
                Line(pending, -amount, now),
                Line(accounts[Kind.RESERVE], to_reserve),
                Line(accounts[Kind.AVAILABLE], amount - to_reserve),
            ],
        )


def settle_due(now=None) -> int:
    """Beat task body: settle every merchant and mode with money due in pending."""
    now = now or timezone.now()
    count = 0
    pending_accounts = LedgerAccount.objects.filter(kind=Kind.PENDING, merchant__isnull=False).order_by("pk")
    for merchant_id, is_live in list(pending_accounts.values_list("merchant_id", "is_live")):
        if settle(merchant_id, is_live, now) is not None:
            count += 1
    return count
