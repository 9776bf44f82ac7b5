"""Backtests: replay a CSV of past transactions through the online feature code, train, score.

INPUT.csv: `id,created_at,card_fingerprint,merchant_id,amount,currency,is_fraud,fraud_reported_at`
(created_at ISO-8601 UTC, amount in currency units, fraud_reported_at empty unless is_fraud).

Every row is replayed in time order through fraud.features with a MemoryFeatureStore: a row's
features see only earlier rows, and only the labels whose fraud_reported_at is not later than the
row's own time (labels wait in a heap ordered by report time and reach the store when due).
Rows in [train_from, train_until) form the training set, labelled with the frauds reported before
test_from; the model is trained as soon as the replay passes train_until, and the rows of
[test_from, test_until) are scored in chunks and written as `id,score` while the replay goes on.

Memory stays bounded: the CSV is streamed (an unsorted file is first sorted on disk in chunks),
the store evicts idle entities, and only the training rows' features are held at once.
"""

from __future__ import annotations

import csv
import heapq
import os
import tempfile
import time as clock
from array import array
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime

import numpy as np

from fraud import model as fraud_model
from fraud.features import FEATURE_NAMES, MemoryFeatureStore, Transaction, build_features
from payplug import spreadsheet

HEADER = ["id", "created_at", "card_fingerprint", "merchant_id", "amount", "currency", "is_fraud", "fraud_reported_at"]
CHUNK = 50_000
SORT_CHUNK = 500_000
TRUE = {"1", "true", "True", "TRUE", "yes"}


class BacktestError(ValueError):
    pass


def parse_time(value: str) -> float:
    value = value.strip()
    if len(value) == 10:  # a bare date is midnight UTC
        value += "T00:00:00"
    moment = datetime.fromisoformat(value)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()


@dataclass
class BacktestResult:
    rows: int = 0
    train_rows: int = 0
    train_frauds: int = 0
    test_rows: int = 0
    test_frauds: int = 0
    auc: float = float("nan")
    average_precision: float = float("nan")
    card_precision_at_100: float = float("nan")
    replay_seconds: float = 0.0
    replay_cpu_seconds: float = 0.0  # CPU time of this process during the replay: fair on a busy machine
    total_seconds: float = 0.0
    sorted_on_disk: bool = False
    extra: dict = field(default_factory=dict)

    @property
    def replay_rate(self) -> float:
        return self.rows / self.replay_seconds if self.replay_seconds else float("nan")

    @property
    def replay_cpu_rate(self) -> float:
        return self.rows / self.replay_cpu_seconds if self.replay_cpu_seconds else float("nan")


def _read(path: str, require_sorted: bool) -> Iterator[tuple]:
    with open(path, newline="") as handle:
        reader = csv.reader(handle)
        header = next(reader, None)
        if header is None or [h.strip() for h in header] != HEADER:
            raise BacktestError(f"{path}: the header must be {','.join(HEADER)}")
        last = -float("inf")
        for line, row in enumerate(reader, start=2):
            if not row:
                continue
            try:
                t = parse_time(row[1])
            except (ValueError, IndexError) as exc:
                raise BacktestError(f"{path}, line {line}: bad created_at ({exc})") from None
            if t < last and require_sorted:
                raise BacktestError(f"{path}, line {line}: rows are not in time order")
            last = t
            yield t, row


def _sorted_on_disk(path: str, workdir: str) -> Iterator[tuple]:
    """An unsorted file: sorted runs of SORT_CHUNK rows on disk, then a k-way merge."""
    runs = []
    buffer: list = []

    def flush():
        buffer.sort(key=lambda item: item[0])
        run = os.path.join(workdir, f"run{len(runs)}.csv")
        with open(run, "w", newline="") as handle:
            out = csv.writer(handle)  # not a spreadsheet: a sort run read back by stream() below
            for t, row in buffer:
                out.writerow([repr(t), *row])
        runs.append(run)
        buffer.clear()

    for item in _read(path, require_sorted=False):
        buffer.append(item)
        if len(buffer) >= SORT_CHUNK:
            flush()
    if buffer:
        flush()

    def stream(run):
        with open(run, newline="") as handle:
            for row in csv.reader(handle):
                yield float(row[0]), row[1:]

    yield from heapq.merge(*(stream(r) for r in runs), key=lambda item: item[0])


def run_backtest(
    input_path: str,
    train_from: float,
    train_until: float,
    test_from: float,
    test_until: float,
    output_path: str,
    *,
    log: Callable[[str], None] | None = None,
    rounds: int = fraud_model.ROUNDS,
) -> BacktestResult:
    if not (train_from < train_until and test_from < test_until):
        raise BacktestError("each period must end after it starts")
    started = clock.perf_counter()
    with tempfile.TemporaryDirectory(prefix="fraud-backtest-") as workdir:
        in_order = _is_sorted(input_path)
        if not in_order and log:
            log("The input is not in time order: sorting it on disk first.")
        rows = _read(input_path, require_sorted=True) if in_order else _sorted_on_disk(input_path, workdir)
        return _run(rows, train_from, train_until, test_from, test_until, output_path, workdir, log, rounds, started,
                    sorted_on_disk=not in_order)  # fmt: skip


def _is_sorted(path: str) -> bool:
    """A quick first pass: are the rows in time order? (ISO strings compare as text when alike.)"""
    with open(path, newline="") as handle:
        reader = csv.reader(handle)
        if next(reader, None) is None:
            return True
        last_text = ""
        for row in reader:
            if len(row) < 2:
                continue
            text = row[1]
            if len(text) != len(last_text) or text < last_text:
                try:
                    if last_text and parse_time(text) < parse_time(last_text):
                        return False
                except ValueError:
                    return True  # _read reports the bad line
            last_text = text
    return True


def _run(rows, train_from, train_until, test_from, test_until, output_path, workdir, log, rounds, started, *,
         sorted_on_disk):  # fmt: skip
    store = MemoryFeatureStore()
    snapshot, record_payment, record_label = store.snapshot, store.record_payment, store.record_label
    result = BacktestResult(sorted_on_disk=sorted_on_disk)
    pending: list = []  # (reported_at, sequence, entities, tx_time, id, amount): labels not yet known
    push, pop = heapq.heappush, heapq.heappop
    width = len(FEATURE_NAMES)
    train_X = array("d")  # flat doubles: a week of rows without a Python object per value
    train_y: list[int] = []
    model = None
    test_ids: list[str] = []
    test_X = array("d")
    spilled: list[tuple[str, list[str]]] = []
    eval_y: list[bool] = []
    eval_day: list[int] = []
    eval_card: list[str] = []
    scores_out: list[np.ndarray] = []
    replay_time = replay_cpu = 0.0
    out_handle = open(output_path, "w", newline="")  # noqa: SIM115  closed in finally
    writer = spreadsheet.writer(out_handle)
    writer.writerow(["id", "score"])

    def train_now():
        nonlocal model
        if not train_y:
            raise BacktestError("no transaction in the training period")
        if log:
            log(f"Training on {len(train_y)} transactions ({sum(train_y)} frauds known before test-from).")
        try:
            matrix = np.array(train_X, dtype=np.float64).reshape(-1, width)
            model = fraud_model.train(matrix, np.array(train_y), rounds=rounds)
        except ValueError as error:  # e.g. no fraud reported before test-from among the training rows
            raise BacktestError(f"cannot train: {error}") from None
        del train_X[:]

    def score_chunk(ids, X):
        probabilities = model.predict(np.asarray(X, dtype=np.float64).reshape(-1, width))
        writer.writerows(zip(ids, (f"{p:.6f}" for p in probabilities), strict=True))
        scores_out.append(probabilities.astype(np.float64))

    def flush_test():
        if not test_ids:
            return
        if model is None:  # the test period comes first: keep the chunk on disk until the model exists
            spill = os.path.join(workdir, f"test{len(spilled)}.npy")
            np.save(spill, np.array(test_X, dtype=np.float64).reshape(-1, width))
            spilled.append((spill, list(test_ids)))
        else:
            score_chunk(test_ids, np.array(test_X, dtype=np.float64))
        test_ids.clear()
        del test_X[:]

    try:
        tick, cpu_tick = clock.perf_counter(), clock.process_time()
        sequence = 0
        for t, row in rows:
            while pending and pending[0][0] <= t:
                reported, _, entities, tx_time, ref, label_amount = pop(pending)
                record_label(entities, reported, tx_time, ref, label_amount)
            if model is None and t >= train_until and train_y:
                replay_time += clock.perf_counter() - tick
                replay_cpu += clock.process_time() - cpu_tick
                train_now()
                for spill, ids in spilled:
                    score_chunk(ids, np.load(spill))
                spilled.clear()
                tick, cpu_tick = clock.perf_counter(), clock.process_time()
            try:
                amount = round(float(row[4]) * 100)
            except (ValueError, IndexError):
                raise BacktestError(f"row {row[:1]}: bad amount") from None
            card = row[2] or None
            tx = Transaction(row[0], t, amount, row[3], card=card, currency=row[5])
            entities = tx.entities()
            pair = (card, tx.merchant) if card else None
            stats, first_use = snapshot(entities, t, pair)
            vector = build_features(tx, stats, first_use)
            record_payment(entities, t, amount, tx.id, pair)
            is_fraud = row[6].strip() in TRUE
            reported_at = parse_time(row[7]) if is_fraud and row[7].strip() else None
            if reported_at is not None:
                sequence += 1
                push(pending, (reported_at, sequence, entities, t, tx.id, amount))
            result.rows += 1
            if train_from <= t < train_until:
                train_X.extend(vector)
                known = reported_at is not None and reported_at < test_from
                train_y.append(1 if known else 0)
            if test_from <= t < test_until:
                test_ids.append(tx.id)
                test_X.extend(vector)
                eval_y.append(is_fraud)
                eval_day.append(int(t // 86400))
                eval_card.append(card or tx.id)
                if len(test_ids) >= CHUNK:
                    replay_time += clock.perf_counter() - tick
                    replay_cpu += clock.process_time() - cpu_tick
                    flush_test()
                    tick, cpu_tick = clock.perf_counter(), clock.process_time()
        replay_time += clock.perf_counter() - tick
        replay_cpu += clock.process_time() - cpu_tick
        if model is None:
            train_now()
            for spill, ids in spilled:
                score_chunk(ids, np.load(spill))
            spilled.clear()
        flush_test()
    finally:
        out_handle.close()

    result.replay_seconds = replay_time
    result.replay_cpu_seconds = replay_cpu
    result.train_rows = len(train_y)
    result.train_frauds = int(sum(train_y))
    result.test_rows = len(eval_y)
    result.test_frauds = int(sum(eval_y))
    if eval_y:
        scores = np.concatenate(scores_out)
        result.auc = fraud_model.roc_auc(eval_y, scores)
        result.average_precision = fraud_model.average_precision(eval_y, scores)
        result.card_precision_at_100 = fraud_model.card_precision_at_k(eval_day, eval_card, eval_y, scores, 100)
    result.extra["features"] = len(FEATURE_NAMES)
    result.total_seconds = clock.perf_counter() - started
    return result
