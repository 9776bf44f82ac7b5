"""The one feature pipeline: online scoring and backtests compute features with this code only.

A transaction is seen through its entities: the card fingerprint, the shopper's email, IP and
device (when known) and the merchant. For each entity a FeatureStore keeps, with bounded memory:

- its payments of the last 30 days (time, amount in cents), at most EVENT_CAP of them: counts and
  amount sums over 1 h, 1 day, 7 days and 30 days, the sum of squares, median and maximum over
  30 days, the time of the previous payment, and the payments of the "mature" windows
  (now - 7 days - w, now - 7 days] for w = 1 and 7 days: payments old enough for their fraud
  reports to be in (the handbook's delayed terminal-risk windows);
- its declined attempts of the last 30 days (at most SMALL_CAP): declines over 1 day;
- the fraud labels that concern it, by the time each became known (at most SMALL_CAP, 30 days),
  each with its payment's time and amount: frauds reported over 1, 7 and 30 days, known frauds
  among its payments of the last 28 and 30 days (with their amounts, so that the card's spending
  can be measured without them) and of the mature windows, the time of its earliest and latest
  known fraudulent payments (how old the fraud episode is);
- per (card, merchant) pair, whether the card paid there in the last 180 days.

Windows are half-open: an event at time e is in the window w at time t when t - w < e <= t.
A label is only known at time t when it was reported at or before t: the store is fed label
events at their report time, and reads (now - 30 days, now] by report time, so a label from the
future cannot reach a feature (tests/fraud/test_features.py proves it).

Two stores give the same numbers: MemoryFeatureStore (the embedded default and backtests:
incremental sliding windows over per-entity lists) and RedisFeatureStore (production: per-entity
sorted sets trimmed by time and rank with a TTL, read by one Lua script and written by one
pipeline, so two round trips per payment).
"""

from __future__ import annotations

import hashlib
import math
import threading
from bisect import bisect_left, bisect_right
from collections.abc import Iterable
from dataclasses import dataclass

import redis
from django.conf import settings

HOUR = 3600.0
DAY = 86400.0
WINDOWS = (HOUR, DAY, 7 * DAY, 30 * DAY)
WINDOW_NAMES = ("1h", "1d", "7d", "30d")
HORIZON = WINDOWS[-1]
FRAUD_TX_WINDOW = 28 * DAY
PAIR_HORIZON = 180 * DAY
EVENT_CAP = 512
SMALL_CAP = 128
SWEEP_EVERY = 7 * DAY
ENTITY_KINDS = ("card", "email", "ip", "device", "merchant")
NAN = math.nan

# Layout of one entity's statistics (a plain tuple: this runs 20,000+ times a second).
(
    C_1H,
    C_1D,
    C_7D,
    C_30D,
    S_1H,
    S_1D,
    S_7D,
    S_30D,
    SUMSQ_30D,
    MAX_30D,
    LAST_TIME,
    DECLINES_1D,
    REPORTS_1D,
    REPORTS_7D,
    REPORTS_30D,
    FRAUD_TX_28D,
    LAST_FRAUD_TX,
    FIRST_FRAUD_TX,
    MATURE_SINCE_FIRST_FRAUD,
    MEDIAN_30D,
    FRAUD_TX_30D,
    FRAUD_SUM_30D,
    FRAUD_SUMSQ_30D,
    MATURE_1D,
    MATURE_FRAUD_1D,
    MATURE_7D,
    MATURE_FRAUD_7D,
) = range(27)
EMPTY_STATS = (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, NAN, 0, 0, 0, 0, 0, NAN, NAN, 0, NAN, 0, 0, 0, 0, 0, 0, 0)
MATURITY = 7 * DAY  # a payment this old has most likely had its fraud report, if any
# Mature windows: the payments of (now - MATURITY - w, now - MATURITY], whose fraud reports are in.
MATURE_WINDOWS = (DAY, 7 * DAY)


@dataclass(slots=True)
class Transaction:
    """What the features need to know about one payment. Amounts are integer minor units."""

    id: str
    time: float  # seconds since the epoch, UTC
    amount: int
    merchant: str
    card: str | None = None
    email: str | None = None
    ip: str | None = None
    device: str | None = None
    card_country: str | None = None
    ip_country: str | None = None
    billing_country: str | None = None
    attempt_failures: int = 0
    currency: str = "EUR"

    def entities(self) -> list[tuple[str, str]]:
        """(kind, key) of every entity this transaction has, in ENTITY_KINDS order."""
        out = []
        if self.card:
            out.append(("card", self.card))
        # Emails, IPs and devices are personal data: the store only ever sees a digest.
        if self.email:
            out.append(("email", digest(self.email.strip().lower())))
        if self.ip:
            out.append(("ip", digest(self.ip)))
        if self.device:
            out.append(("device", digest(self.device)))
        out.append(("merchant", self.merchant))
        return out


def digest(value: str) -> str:
    return hashlib.blake2b(value.encode(), digest_size=12).hexdigest()


# --- feature vector ---------------------------------------------------------------------------

_PER_SHOPPER_ENTITY = ("count_1h", "count_1d", "count_30d", "declines_1d", "fraud_reports_30d")
FEATURE_NAMES: tuple[str, ...] = (
    "amount",
    "hour",
    "is_night",
    "is_weekend",
    "card_count_1h",
    "card_count_1d",
    "card_count_7d",
    "card_count_30d",
    "card_mean_1d",
    "card_mean_7d",
    "card_mean_30d",
    "card_amount_ratio_30d",
    "card_amount_zscore_30d",
    "card_amount_ratio_max_30d",
    "card_hours_since_previous",
    "card_first_use_at_merchant",
    "card_declines_1d",
    "card_fraud_reports_30d",
    "card_fraud_tx_28d",
    "card_days_since_first_fraud_tx",
    "card_amount_ratio_median_30d",
    "card_amount_ratio_genuine_30d",
    "card_amount_zscore_genuine_30d",
    "card_fraud_share_30d",
    "card_mature_fraud_rate_7d",
    "card_days_since_last_fraud_tx",
    "merchant_count_1h",
    "merchant_count_1d",
    "merchant_count_7d",
    "merchant_count_30d",
    "merchant_mean_30d",
    "merchant_amount_ratio_30d",
    "merchant_fraud_reports_1d",
    "merchant_fraud_reports_7d",
    "merchant_fraud_reports_30d",
    "merchant_fraud_rate_30d",
    "merchant_fraud_tx_28d",
    "merchant_days_since_fraud_tx",
    "merchant_days_since_first_fraud_tx",
    "merchant_mature_fraud_rate",
    "merchant_fraud_share_since_first_fraud",
    "merchant_mature_count_1d",
    "merchant_mature_fraud_rate_1d",
    "merchant_mature_count_7d",
    "merchant_mature_fraud_rate_7d",
    "merchant_fraud_amount_ratio_30d",
    *(f"{kind}_{name}" for kind in ("email", "ip", "device") for name in _PER_SHOPPER_ENTITY),
    "card_ip_country_mismatch",
    "card_billing_country_mismatch",
    "ip_billing_country_mismatch",
    "attempt_failures",
)
FEATURE_INDEX = {name: i for i, name in enumerate(FEATURE_NAMES)}


def _mean(total, count):
    return total / count / 100.0 if count else NAN


def _mismatch(a, b):
    return 1.0 if a and b and a != b else 0.0


def build_features(tx: Transaction, stats: dict[str, tuple], first_use: bool) -> list[float]:
    """The feature vector (FEATURE_NAMES order) of `tx` from the store's view just before it."""
    t = tx.time
    amount = tx.amount / 100.0
    hour = int(t % DAY // HOUR)
    weekday = (int(t // DAY) + 3) % 7  # 1970-01-01 was a Thursday
    card = stats.get("card", EMPTY_STATS)
    merchant = stats.get("merchant", EMPTY_STATS)

    c30 = card[C_30D]
    if c30:
        mean30 = card[S_30D] / c30
        variance = max(card[SUMSQ_30D] / c30 - mean30 * mean30, 0.0)
        std = math.sqrt(variance)
        ratio30 = tx.amount / mean30 if mean30 else NAN
        zscore = (tx.amount - mean30) / std if std > 0 else 0.0
        ratio_max = tx.amount / card[MAX_30D] if card[MAX_30D] else NAN
        since = (t - card[LAST_TIME]) / HOUR
    else:
        ratio30 = zscore = ratio_max = since = NAN
    # The card's own spending, without its payments already known to be fraudulent.
    genuine = c30 - card[FRAUD_TX_30D]
    ratio_genuine = zscore_genuine = NAN
    if genuine > 0:
        g_sum = card[S_30D] - card[FRAUD_SUM_30D]
        g_mean = g_sum / genuine
        if g_mean > 0:
            ratio_genuine = tx.amount / g_mean
            g_std = math.sqrt(max((card[SUMSQ_30D] - card[FRAUD_SUMSQ_30D]) / genuine - g_mean * g_mean, 0.0))
            zscore_genuine = (tx.amount - g_mean) / g_std if g_std > 0 else 0.0
    median = card[MEDIAN_30D]
    m30 = merchant[C_30D]
    merchant_mean = merchant[S_30D] / m30 if m30 else 0
    last_fraud = merchant[LAST_FRAUD_TX]
    first_fraud = merchant[FIRST_FRAUD_TX]
    card_first_fraud = card[FIRST_FRAUD_TX]
    mature = m30 - merchant[C_7D]  # payments old enough for most fraud reports to have come in

    out = [
        amount,
        float(hour),
        1.0 if hour < 6 else 0.0,
        1.0 if weekday >= 5 else 0.0,
        card[C_1H],
        card[C_1D],
        card[C_7D],
        c30,
        _mean(card[S_1D], card[C_1D]),
        _mean(card[S_7D], card[C_7D]),
        _mean(card[S_30D], c30),
        ratio30,
        zscore,
        ratio_max,
        since,
        1.0 if (tx.card and first_use) else 0.0,
        card[DECLINES_1D],
        card[REPORTS_30D],
        card[FRAUD_TX_28D],
        (t - card_first_fraud) / DAY if card_first_fraud == card_first_fraud else NAN,
        tx.amount / median if median > 0 else NAN,  # NaN-safe: nan > 0 is false
        ratio_genuine,
        zscore_genuine,
        card[FRAUD_TX_30D] / c30 if c30 else NAN,
        card[MATURE_FRAUD_7D] / card[MATURE_7D] if card[MATURE_7D] else NAN,
        (t - card[LAST_FRAUD_TX]) / DAY if card[LAST_FRAUD_TX] == card[LAST_FRAUD_TX] else NAN,
        merchant[C_1H],
        merchant[C_1D],
        merchant[C_7D],
        m30,
        merchant_mean / 100.0 if m30 else NAN,
        tx.amount / merchant_mean if merchant_mean else NAN,
        merchant[REPORTS_1D],
        merchant[REPORTS_7D],
        merchant[REPORTS_30D],
        merchant[REPORTS_30D] / m30 if m30 else 0.0,
        merchant[FRAUD_TX_28D],
        (t - last_fraud) / DAY if last_fraud == last_fraud else NAN,  # NaN-safe: nan != nan
        (t - first_fraud) / DAY if first_fraud == first_fraud else NAN,
        merchant[FRAUD_TX_28D] / mature if mature > 0 else 0.0,
        merchant[FRAUD_TX_28D] / merchant[MATURE_SINCE_FIRST_FRAUD] if merchant[MATURE_SINCE_FIRST_FRAUD] else NAN,
        merchant[MATURE_1D],
        merchant[MATURE_FRAUD_1D] / merchant[MATURE_1D] if merchant[MATURE_1D] else NAN,
        merchant[MATURE_7D],
        merchant[MATURE_FRAUD_7D] / merchant[MATURE_7D] if merchant[MATURE_7D] else NAN,
        # Frauds of ordinary amounts point at the merchant itself, outsized ones at stolen cards.
        merchant[FRAUD_SUM_30D] / merchant[FRAUD_TX_30D] / merchant_mean
        if merchant[FRAUD_TX_30D] and merchant_mean
        else NAN,
    ]
    for kind in ("email", "ip", "device"):
        s = stats.get(kind)
        if s is None:
            out += (NAN, NAN, NAN, NAN, NAN)
        else:
            out += (s[C_1H], s[C_1D], s[C_30D], s[DECLINES_1D], s[REPORTS_30D])
    out += (
        _mismatch(tx.card_country, tx.ip_country),
        _mismatch(tx.card_country, tx.billing_country),
        _mismatch(tx.ip_country, tx.billing_country),
        tx.attempt_failures,
    )
    return out


def as_dict(vector: Iterable[float]) -> dict[str, float | None]:
    """Named features (NaN becomes None: rules treat it as unknown, JSON can store it)."""
    return {name: (None if value != value else value) for name, value in zip(FEATURE_NAMES, vector, strict=True)}


# --- stores -----------------------------------------------------------------------------------


class FeatureStore:
    """Where entity histories live. Implementations must return identical statistics."""

    def snapshot(self, entities: list[tuple[str, str]], now: float, pair: tuple[str, str] | None):
        """({kind: stats tuple}, first_use) as seen at `now`, before the transaction itself."""
        raise NotImplementedError

    def record_payment(self, entities, now: float, amount: int, ref: str, pair) -> None:
        raise NotImplementedError

    def record_label(self, entities, reported_at: float, tx_time: float, ref: str, amount: int = 0) -> None:
        """A payment (made at `tx_time`, of `amount` minor units) became known as fraudulent at `reported_at`."""
        raise NotImplementedError

    def record_decline(self, entities, now: float, ref: str) -> None:
        raise NotImplementedError


class _Entity:
    """One entity's history in memory: sliding windows as moving start indices into lists."""

    __slots__ = ("advanced", "amounts", "declines", "labels", "last", "ptr", "sums", "sumsq", "times")

    def __init__(self):
        self.times: list[float] = []
        self.amounts: list[int] = []
        self.ptr = [0, 0, 0, 0]  # first index inside each window (the last one is also the head)
        self.sums = [0, 0, 0, 0]
        self.sumsq = 0
        self.declines: list[float] = []
        self.labels: list[tuple[float, float, str, int]] = []  # (reported_at, tx_time, ref, amount), by report time
        self.last = 0.0  # time of the latest event of any kind, for eviction
        self.advanced = -math.inf

    def advance(self, now: float) -> None:
        if now == self.advanced:  # stats() then add() at the same time: the windows are already there
            return
        self.advanced = now
        times, amounts, ptr, sums = self.times, self.amounts, self.ptr, self.sums
        n = len(times)
        for w in (0, 1, 2, 3):
            cut = now - WINDOWS[w]
            i = ptr[w]
            if i < n and times[i] <= cut:
                total = sums[w]
                while i < n and times[i] <= cut:
                    a = amounts[i]
                    total -= a
                    if w == 3:
                        self.sumsq -= a * a
                    i += 1
                ptr[w] = i
                sums[w] = total
        head = ptr[3]
        if head > 256 and head * 2 > n:
            del times[:head], amounts[:head]
            ptr[0] -= head
            ptr[1] -= head
            ptr[2] -= head
            ptr[3] = 0

    def stats(self, now: float) -> tuple:
        self.advance(now)
        times, ptr, sums = self.times, self.ptr, self.sums
        n = len(times)
        head = ptr[3]
        declines = 0
        if self.declines:
            cut = now - DAY
            declines = sum(1 for d in self.declines if cut < d <= now)
        # Mature windows (the same expressions as RedisFeatureStore's arguments: identical floats).
        m_end = now - MATURITY
        m_cut1 = now - MATURITY - MATURE_WINDOWS[0]
        m_cut7 = now - MATURITY - MATURE_WINDOWS[1]
        r1 = r7 = r30 = recent = f30 = fsum = fsumsq = mf1 = mf7 = 0
        last_fraud = first_fraud = NAN
        if self.labels:
            c1, c7, c30, c28 = now - DAY, now - 7 * DAY, now - HORIZON, now - FRAUD_TX_WINDOW
            for reported, tx_time, _ref, amount in self.labels:
                if c30 < reported <= now:
                    r30 += 1
                    if reported > c7:
                        r7 += 1
                        if reported > c1:
                            r1 += 1
                    if tx_time > c28:
                        recent += 1
                    if tx_time > c30:
                        f30 += 1
                        fsum += amount
                        fsumsq += amount * amount
                    if m_cut7 < tx_time <= m_end:
                        mf7 += 1
                        if tx_time > m_cut1:
                            mf1 += 1
                    if not last_fraud >= tx_time:  # also true while last_fraud is NaN
                        last_fraud = tx_time
                    if not first_fraud <= tx_time:
                        first_fraud = tx_time
        if n == head:
            return (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, NAN, declines, r1, r7, r30, recent, last_fraud, first_fraud, 0,
                    NAN, f30, fsum, fsumsq, 0, mf1, 0, mf7)  # fmt: skip
        mature = 0
        if first_fraud == first_fraud:
            # Payments from the first known fraud on that are at least MATURITY old.
            mature = bisect_right(times, m_end, head) - bisect_left(times, first_fraud, head)
            mature = max(mature, 0)
        end = bisect_right(times, m_end, head)
        ordered = sorted(self.amounts[head:])
        k = len(ordered)
        return (
            n - ptr[0],
            n - ptr[1],
            n - ptr[2],
            k,
            sums[0],
            sums[1],
            sums[2],
            sums[3],
            self.sumsq,
            ordered[-1],
            times[-1],
            declines,
            r1,
            r7,
            r30,
            recent,
            last_fraud,
            first_fraud,
            mature,
            (ordered[(k - 1) // 2] + ordered[k // 2]) / 2,
            f30,
            fsum,
            fsumsq,
            end - bisect_right(times, m_cut1, head),
            mf1,
            end - bisect_right(times, m_cut7, head),
            mf7,
        )

    def add(self, now: float, amount: int) -> None:
        self.advance(now)
        self.times.append(now)
        self.amounts.append(amount)
        sums = self.sums
        sums[0] += amount
        sums[1] += amount
        sums[2] += amount
        sums[3] += amount
        self.sumsq += amount * amount
        self.last = now
        ptr = self.ptr
        if len(self.times) - ptr[3] > EVENT_CAP:  # drop the oldest, from every window holding it
            head = ptr[3]
            a = self.amounts[head]
            for w in (0, 1, 2, 3):
                if ptr[w] == head:
                    ptr[w] = head + 1
                    sums[w] -= a
            self.sumsq -= a * a

    def add_label(self, reported_at: float, tx_time: float, ref: str, amount: int) -> None:
        labels = self.labels
        if any(label[2] == ref for label in labels):
            return  # a payment is fraudulent once: its first report counts
        labels.append((reported_at, tx_time, ref, amount))
        if len(labels) > 1 and labels[-2][0] > reported_at:
            labels.sort()
        cut = reported_at - HORIZON
        if labels[0][0] <= cut:
            labels[:] = [x for x in labels if x[0] > cut]
        if len(labels) > SMALL_CAP:
            del labels[: len(labels) - SMALL_CAP]
        self.last = max(self.last, reported_at)

    def add_decline(self, now: float) -> None:
        declines = self.declines
        declines.append(now)
        cut = now - HORIZON
        if declines[0] <= cut:
            declines[:] = [d for d in declines if d > cut]
        if len(declines) > SMALL_CAP:
            del declines[: len(declines) - SMALL_CAP]
        self.last = max(self.last, now)


class MemoryFeatureStore(FeatureStore):
    """In-process store: the embedded default (one process) and the backtests.

    Entities idle for longer than the 30-day horizon are evicted once a (simulated) week, and
    (card, merchant) pairs after 180 days, so memory follows the active population, not history.
    """

    def __init__(self):
        self.entities: dict[tuple[str, str], _Entity] = {}
        self.pairs: dict[tuple[str, str], float] = {}
        self._next_sweep = None
        self._lock = threading.Lock()

    def _get(self, kind: str, key: str) -> _Entity:
        entity = self.entities.get((kind, key))
        if entity is None:
            entity = self.entities[(kind, key)] = _Entity()
        return entity

    def snapshot(self, entities, now, pair=None):
        with self._lock:
            stats = {}
            get = self.entities.get
            for kind, key in entities:
                entity = get((kind, key))
                stats[kind] = EMPTY_STATS if entity is None else entity.stats(now)
            first_use = True
            if pair is not None:
                seen = self.pairs.get(pair)
                first_use = seen is None or seen <= now - PAIR_HORIZON
            return stats, first_use

    def record_payment(self, entities, now, amount, ref, pair=None):
        with self._lock:
            for kind, key in entities:
                self._get(kind, key).add(now, amount)
            if pair is not None:
                self.pairs[pair] = now
            self._maybe_sweep(now)

    def record_label(self, entities, reported_at, tx_time, ref, amount=0):
        with self._lock:
            for kind, key in entities:
                self._get(kind, key).add_label(reported_at, tx_time, ref, amount)

    def record_decline(self, entities, now, ref):
        with self._lock:
            for kind, key in entities:
                self._get(kind, key).add_decline(now)

    def _maybe_sweep(self, now: float) -> None:
        if self._next_sweep is None:
            self._next_sweep = now + SWEEP_EVERY
        elif now >= self._next_sweep:
            self._next_sweep = now + SWEEP_EVERY
            self.sweep(now)

    def sweep(self, now: float) -> None:
        cut = now - HORIZON
        self.entities = {k: e for k, e in self.entities.items() if e.last > cut}
        pair_cut = now - PAIR_HORIZON
        self.pairs = {k: t for k, t in self.pairs.items() if t > pair_cut}

    def clear(self) -> None:
        with self._lock:
            self.entities.clear()
            self.pairs.clear()
            self._next_sweep = None


# The read script: every statistic of every entity, computed next to the data (one round trip).
# KEYS: per entity its events, declines and labels sorted sets; then the (card, merchant) pair key.
# ARGV: now, then the lower bounds (exclusive) of the windows, formatted by Python.
_READ_SCRIPT = """
local now = tonumber(ARGV[1])
local n = tonumber(ARGV[2])
local cuts = {tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5]), tonumber(ARGV[6])}
local cut28 = tonumber(ARGV[7])
local maturity = tonumber(ARGV[8])
local mcut1 = tonumber(ARGV[9])
local mcut7 = tonumber(ARGV[10])
local out = {}
local function num(x) return string.format('%.17g', x) end
for i = 0, n - 1 do
  local ev = redis.call('ZRANGEBYSCORE', KEYS[3*i+1], '(' .. ARGV[6], ARGV[1], 'WITHSCORES')
  local c = {0, 0, 0, 0}
  local s = {0, 0, 0, 0}
  local sumsq, last = 0, nil
  local amounts = {}
  local m1, m7 = 0, 0
  for j = 1, #ev, 2 do
    local t = tonumber(ev[j+1])
    local a = tonumber(string.match(ev[j], '|(%-?%d+)$'))
    for w = 1, 4 do
      if t > cuts[w] then c[w] = c[w] + 1; s[w] = s[w] + a end
    end
    sumsq = sumsq + a * a
    amounts[#amounts+1] = a
    if last == nil or t > last then last = t end
    if t <= maturity and t > mcut7 then
      m7 = m7 + 1
      if t > mcut1 then m1 = m1 + 1 end
    end
  end
  table.sort(amounts)
  local k = #amounts
  local maxa, median = 0, ''
  if k > 0 then
    maxa = amounts[k]
    median = num((amounts[math.floor((k - 1) / 2) + 1] + amounts[math.floor(k / 2) + 1]) / 2)
  end
  local declines = redis.call('ZCOUNT', KEYS[3*i+2], '(' .. ARGV[4], ARGV[1])
  local labels = redis.call('ZRANGEBYSCORE', KEYS[3*i+3], '(' .. ARGV[6], ARGV[1], 'WITHSCORES')
  local r1, r7, r30, recent, lastf, firstf = 0, 0, 0, 0, nil, nil
  local f30, fsum, fsumsq, mf1, mf7 = 0, 0, 0, 0, 0
  for j = 1, #labels, 2 do
    local reported = tonumber(labels[j+1])
    local fa, txs = string.match(labels[j], '|(%-?%d+)|([^|]+)$')
    if txs == nil then fa = 0; txs = string.match(labels[j], '|([^|]+)$') end
    local txt = tonumber(txs)
    fa = tonumber(fa)
    r30 = r30 + 1
    if reported > cuts[3] then r7 = r7 + 1 end
    if reported > cuts[2] then r1 = r1 + 1 end
    if txt > cut28 then recent = recent + 1 end
    if txt > cuts[4] then f30 = f30 + 1; fsum = fsum + fa; fsumsq = fsumsq + fa * fa end
    if txt <= maturity and txt > mcut7 then
      mf7 = mf7 + 1
      if txt > mcut1 then mf1 = mf1 + 1 end
    end
    if lastf == nil or txt > lastf then lastf = txt end
    if firstf == nil or txt < firstf then firstf = txt end
  end
  local mature = 0
  if firstf ~= nil then
    for j = 1, #ev, 2 do
      local t = tonumber(ev[j+1])
      if t >= firstf and t <= maturity then mature = mature + 1 end
    end
  end
  out[#out+1] = {num(c[1]), num(c[2]), num(c[3]), num(c[4]), num(s[1]), num(s[2]), num(s[3]), num(s[4]),
    num(sumsq), num(maxa), last and num(last) or '', declines, r1, r7, r30, recent,
    lastf and num(lastf) or '', firstf and num(firstf) or '', mature,
    median, f30, num(fsum), num(fsumsq), m1, mf1, m7, mf7}
end
if #KEYS > 3 * n then
  out[#out+1] = redis.call('EXISTS', KEYS[#KEYS])
end
return out
"""


def _f(x: float) -> str:
    return repr(float(x))


class RedisFeatureStore(FeatureStore):
    """Production store: sorted sets per entity (events, declines, labels) in Redis.

    Memory per key is bounded: each write trims by time (30 days) and by rank (EVENT_CAP or
    SMALL_CAP most recent members) and sets a TTL, so idle entities disappear by themselves.
    Reads are one EVALSHA; writes are one pipelined round trip.
    """

    def __init__(self, client, prefix: str = "fs"):
        self.client = client
        self.prefix = prefix
        self._read = client.register_script(_READ_SCRIPT)

    @classmethod
    def from_url(cls, url: str, prefix: str = "fs"):
        return cls(redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2), prefix)

    def _key(self, kind: str, key: str, suffix: str) -> str:
        return f"{self.prefix}:{kind}:{key}:{suffix}"

    def _pair_key(self, pair) -> str:
        return f"{self.prefix}:pair:{pair[0]}:{pair[1]}"

    def snapshot(self, entities, now, pair=None):
        keys = []
        for kind, key in entities:
            keys += (self._key(kind, key, "e"), self._key(kind, key, "d"), self._key(kind, key, "l"))
        if pair is not None:
            keys.append(self._pair_key(pair))
        args = [
            _f(now),
            len(entities),
            *(_f(now - w) for w in WINDOWS),
            _f(now - FRAUD_TX_WINDOW),
            _f(now - MATURITY),
            *(_f(now - MATURITY - w) for w in MATURE_WINDOWS),
        ]
        rows = self._read(keys=keys, args=args)
        stats = {}
        for (kind, _), row in zip(entities, rows, strict=False):
            values = [int(float(v)) if i < 10 else v for i, v in enumerate(row)]
            last = float(row[LAST_TIME]) if row[LAST_TIME] else NAN
            last_fraud = float(row[LAST_FRAUD_TX]) if row[LAST_FRAUD_TX] else NAN
            first_fraud = float(row[FIRST_FRAUD_TX]) if row[FIRST_FRAUD_TX] else NAN
            if values[C_30D] == 0:
                last = NAN
            stats[kind] = (
                *values[:10],
                last,
                int(row[DECLINES_1D]),
                int(row[REPORTS_1D]),
                int(row[REPORTS_7D]),
                int(row[REPORTS_30D]),
                int(row[FRAUD_TX_28D]),
                last_fraud,
                first_fraud,
                int(row[MATURE_SINCE_FIRST_FRAUD]),
                float(row[MEDIAN_30D]) if row[MEDIAN_30D] else NAN,
                int(row[FRAUD_TX_30D]),
                int(float(row[FRAUD_SUM_30D])),
                int(float(row[FRAUD_SUMSQ_30D])),
                int(row[MATURE_1D]),
                int(row[MATURE_FRAUD_1D]),
                int(row[MATURE_7D]),
                int(row[MATURE_FRAUD_7D]),
            )
        first_use = True
        if pair is not None:
            first_use = not int(rows[len(entities)])
        return stats, first_use

    def _trimmed_add(self, pipe, key: str, score: float, member: str, cap: int) -> None:
        pipe.zadd(key, {member: score}, nx=True)  # the first report (or record) of a payment counts
        pipe.zremrangebyscore(key, "-inf", _f(score - HORIZON))
        pipe.zremrangebyrank(key, 0, -(cap + 1))
        pipe.expire(key, int(HORIZON + DAY))

    def record_payment(self, entities, now, amount, ref, pair=None):
        pipe = self.client.pipeline(transaction=False)
        member = f"{ref}|{int(amount)}"
        for kind, key in entities:
            self._trimmed_add(pipe, self._key(kind, key, "e"), now, member, EVENT_CAP)
        if pair is not None:
            pipe.set(self._pair_key(pair), "1", ex=int(PAIR_HORIZON))
        pipe.execute()

    def record_label(self, entities, reported_at, tx_time, ref, amount=0):
        pipe = self.client.pipeline(transaction=False)
        member = f"{ref}|{int(amount)}|{_f(tx_time)}"
        for kind, key in entities:
            self._trimmed_add(pipe, self._key(kind, key, "l"), reported_at, member, SMALL_CAP)
        pipe.execute()

    def record_decline(self, entities, now, ref):
        pipe = self.client.pipeline(transaction=False)
        for kind, key in entities:
            self._trimmed_add(pipe, self._key(kind, key, "d"), now, ref, SMALL_CAP)
        pipe.execute()


# --- the pipeline -------------------------------------------------------------------------------


class FeaturePipeline:
    """Features of a transaction from a store, then (separately) the transaction into the store."""

    def __init__(self, store: FeatureStore):
        self.store = store

    def features(self, tx: Transaction) -> list[float]:
        entities = tx.entities()
        pair = (tx.card, tx.merchant) if tx.card else None
        stats, first_use = self.store.snapshot(entities, tx.time, pair)
        return build_features(tx, stats, first_use)

    def observe(self, tx: Transaction) -> None:
        pair = (tx.card, tx.merchant) if tx.card else None
        self.store.record_payment(tx.entities(), tx.time, tx.amount, tx.id, pair)

    def label(self, tx: Transaction, reported_at: float) -> None:
        self.store.record_label(tx.entities(), reported_at, tx.time, tx.id, tx.amount)

    def decline(self, tx: Transaction) -> None:
        entities = [e for e in tx.entities() if e[0] != "merchant"]
        self.store.record_decline(entities, tx.time, tx.id)


_default_store: FeatureStore | None = None
_default_lock = threading.Lock()


def default_store() -> FeatureStore:
    """The process's store: Redis when FRAUD_FEATURE_STORE_URL or REDIS_URL is set, else memory."""
    global _default_store
    if _default_store is None:
        with _default_lock:
            if _default_store is None:
                url = getattr(settings, "FRAUD_FEATURE_STORE_URL", "") or getattr(settings, "REDIS_URL", "")
                prefix = getattr(settings, "FRAUD_FEATURE_STORE_PREFIX", "fs")
                _default_store = RedisFeatureStore.from_url(url, prefix) if url else MemoryFeatureStore()
    return _default_store


def set_default_store(store: FeatureStore | None) -> None:
    """Tests and benchmarks swap the store; None goes back to the configured one."""
    global _default_store
    _default_store = store
