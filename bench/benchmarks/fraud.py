"""Fraud benchmark (issue 6): detection quality, backtest replay rate, online scoring latency.

    .venv/bin/python -m bench.benchmarks.fraud            # full run, seeds 0-4, about 6 minutes
    .venv/bin/python -m bench.benchmarks.fraud --quick    # smoke run (figures not comparable)

1. Quality and replay: fraud.simulator generates the data of the public "Fraud Detection
   Handbook" simulator with its default sizes (5,000 customers, 10,000 terminals, 2 terminals
   and 3 customers compromised a day, payments above 220 fraudulent) over 90 days, every fraud
   reported 7 days after it happened. The CSV goes through fraud.backtest exactly as
   `manage.py fraud_backtest` does: train on days 60-66, test on days 74-80 (a week starting 7 days
   after training ends), training labels reported before the test starts. Reported per seed (0-4):
   AUC ROC, average precision, card precision@100 (per test day, averaged), as the command prints
   them over every test row; the same scores under the handbook's own test protocol (the rows of
   cards with a fraud known by then, i.e. before the test day minus the 7-day delay, are left
   out); and a reference ceiling: the frauds of a merchant compromised less than 7 days before,
   with no report on it yet, look like genuine payments (the simulator changes nothing else about
   them), so the ceiling is what a perfect detector of every other fraud scores when it ranks those
   by chance. A model can land a little above it where such frauds happen to share a trait with
   reported ones (seeds 3 and 4 do): it is a guide to what the data allows, not a strict bound.
   The checked figure is the minimum over the seeds, not seed 0. The replay rate
   is every CSV row through the online feature code (features computed for every row), over the
   replay time (CSV parsing included, model training excluded).
   Targets: AP >= 0.75, AUC >= 0.90, replay >= 20,000 transactions/s.
2. Online scoring: RedisFeatureStore on redis://127.0.0.1:6379/12 (FLUSHDB'd before and after),
   warmed with a week of simulated payments; then payments are scored one by one as the Celery
   task does: one EVALSHA reading every entity's statistics, the feature vector, the LightGBM
   score with its SHAP contributions, the default rules, and the pipelined write of the payment.
   Target: p99 < 10 ms. (Database reads of the task, the merchant's rules and lists, are not in it;
   the SHAP explanation is computed after the decision is carried out and is reported apart.)
   The machine's load average is recorded: on a shared machine, wall-clock percentiles include the
   time spent waiting for a CPU, so CPU-time figures are reported too.

Results go to bench/results/fraud.json and fraud.md. `bench/run.py` can call run(ctx).
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import platform
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

import django
import numpy as np
import redis

from bench.harness import RESULTS
from fraud import backtest, rules, simulator
from fraud import model as fraud_model
from fraud.features import FEATURE_NAMES, FeaturePipeline, RedisFeatureStore, Transaction
from fraud.model import PARAMS, ROUNDS, load_default

NAME = "fraud"
REDIS_URL = os.environ.get("FRAUD_BENCH_REDIS_URL", "redis://127.0.0.1:6379/12")
MEAN_KEYS = (
    "auc",
    "average_precision",
    "card_precision_at_100",
    "auc_ceiling",
    "handbook_protocol_auc",
    "handbook_protocol_auc_ceiling",
    "handbook_protocol_average_precision",
    "handbook_protocol_average_precision_ceiling",
    "replay_per_second",
    "replay_per_cpu_second",
)
SEEDS = (0, 1, 2, 3, 4)
# The previous version of the engine (54 features, LightGBM 300 rounds at 0.05) on the same data
# (this simulator, same seeds and periods), replayed and scored exactly as fraud.backtest does.
PREVIOUS = {
    "description": "54 features, LightGBM 300 rounds, learning rate 0.05, bagging 0.8",
    "seeds": {
        "0": {
            "auc": 0.9168,
            "average_precision": 0.7736,
            "card_precision_at_100": 0.6043,
            "handbook_protocol_auc": 0.8795,
            "handbook_protocol_average_precision": 0.6921,
        },
        "1": {
            "auc": 0.9227,
            "average_precision": 0.8161,
            "card_precision_at_100": 0.6214,
            "handbook_protocol_auc": 0.8981,
            "handbook_protocol_average_precision": 0.7688,
        },
        "2": {
            "auc": 0.886,
            "average_precision": 0.757,
            "card_precision_at_100": 0.5743,
            "handbook_protocol_auc": 0.8548,
            "handbook_protocol_average_precision": 0.6958,
        },
        "3": {
            "auc": 0.8886,
            "average_precision": 0.7407,
            "card_precision_at_100": 0.5114,
            "handbook_protocol_auc": 0.865,
            "handbook_protocol_average_precision": 0.6936,
        },
        "4": {
            "auc": 0.9116,
            "average_precision": 0.7718,
            "card_precision_at_100": 0.5729,
            "handbook_protocol_auc": 0.8968,
            "handbook_protocol_average_precision": 0.7276,
        },
    },
}
TARGETS = {"average_precision": 0.75, "auc": 0.90, "replay_per_second": 20000, "online_p99_ms": 10.0}


def log(message: str) -> None:
    print(f"[fraud bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def quality(seed: int, days: int, workdir: Path, customers: int, terminals: int) -> dict:
    load_before = os.getloadavg()[0]
    params = simulator.SimulationParameters(customers=customers, terminals=terminals, days=days, seed=seed)
    data = simulator.simulate(params)
    path = workdir / f"sim{seed}.csv"
    simulator.write_csv(data, path)
    start = params.start
    train_from = days - 30
    moments = [(start + timedelta(days=d)).timestamp() for d in (train_from, train_from + 7, train_from + 14,
                                                                  train_from + 21)]  # fmt: skip
    scores_path = workdir / "out.csv"
    result = backtest.run_backtest(str(path), moments[0], moments[1], moments[2], moments[3], str(scores_path))
    extra = _protocols(data, params, scores_path, train_from, train_from + 14, train_from + 21)
    log(
        f"seed {seed}: {result.rows} rows, AUC {result.auc:.4f} (ceiling {extra['auc_ceiling']:.4f}), "
        f"AP {result.average_precision:.4f}, CP@100 {result.card_precision_at_100:.4f}, "
        f"handbook protocol AUC {extra['handbook_protocol_auc']:.4f} "
        f"AP {extra['handbook_protocol_average_precision']:.4f}, "
        f"replay {result.replay_rate:,.0f}/s ({result.replay_cpu_rate:,.0f} per CPU second)"
    )
    return {
        "seed": seed,
        "rows": result.rows,
        "frauds": int(data.is_fraud.sum()),
        "train_rows": result.train_rows,
        "train_frauds_known": result.train_frauds,
        "test_rows": result.test_rows,
        "test_frauds": result.test_frauds,
        "auc": round(result.auc, 4),
        "average_precision": round(result.average_precision, 4),
        "card_precision_at_100": round(result.card_precision_at_100, 4),
        **extra,
        "replay_seconds": round(result.replay_seconds, 2),
        "replay_per_second": round(result.replay_rate),
        "replay_per_cpu_second": round(result.replay_cpu_rate),
        "total_seconds": round(result.total_seconds, 2),
        "load_average_1min": [round(load_before, 2), round(os.getloadavg()[0], 2)],
        "periods_days": {"train": [train_from, train_from + 7], "test": [train_from + 14, train_from + 21]},
    }


def _protocols(data, params, scores_path: Path, train_from: int, test_from: int, test_until: int) -> dict:
    """The handbook's test protocol and the ceiling of AUC ROC / AP on the test week of `data`."""
    day_seconds = 86400
    day = (data.time // day_seconds).astype(np.int64)
    test = np.nonzero((day >= test_from) & (day < test_until))[0]
    with open(scores_path, newline="") as handle:
        rows = list(csv.reader(handle))[1:]
    scores = np.array([float(r[1]) for r in rows])
    assert len(scores) == len(test) and rows[0][0] == f"tx_{test[0]}"
    y = data.is_fraud[test]

    # Handbook protocol (get_train_test_set): each test day leaves out the cards with a fraud in
    # [train start, test day - delay), i.e. already known to be compromised.
    keep = np.ones(len(test), dtype=bool)
    fraud = data.is_fraud
    for d in range(test_from, test_until):
        known = np.unique(data.customer[fraud & (day >= train_from) & (day < d - int(params.feedback_delay_days))])
        on_day = day[test] == d
        keep[on_day] = ~np.isin(data.customer[test][on_day], known)

    # Ceiling: a fraud of a compromised merchant (scenario 2) is invisible while no fraud of that
    # merchant's current compromise (the last 28 days) has been reported; such frauds can only be
    # ranked by chance among the genuine payments. A perfect detector of all the others scores:
    by_terminal: dict[int, list[tuple[float, float]]] = {}
    for i in np.nonzero(fraud)[0]:
        by_terminal.setdefault(int(data.terminal[i]), []).append((float(data.time[i]), float(data.reported[i])))
    window = params.terminal_compromise_days * day_seconds
    invisible = np.zeros(len(test), dtype=bool)
    for j, i in enumerate(test):
        if data.scenario[i] == 2:
            t = float(data.time[i])
            invisible[j] = not any(r <= t and x > t - window for x, r in by_terminal[int(data.terminal[i])])
    detectable = y & ~invisible
    rng = np.random.default_rng(0)
    oracle = np.where(detectable, 2.0, rng.random(len(test)))
    return {
        "handbook_protocol_rows": int(keep.sum()),
        "handbook_protocol_frauds": int(y[keep].sum()),
        "handbook_protocol_auc": round(fraud_model.roc_auc(y[keep], scores[keep]), 4),
        "handbook_protocol_average_precision": round(fraud_model.average_precision(y[keep], scores[keep]), 4),
        "handbook_protocol_auc_ceiling": round(1 - 0.5 * invisible[keep].sum() / max(int(y[keep].sum()), 1), 4),
        "handbook_protocol_average_precision_ceiling": round(fraud_model.average_precision(y[keep], oracle[keep]), 4),
        "invisible_frauds": int(invisible.sum()),
        "auc_ceiling": round(1 - 0.5 * invisible.sum() / max(int(y.sum()), 1), 4),
        "average_precision_ceiling": round(fraud_model.average_precision(y, oracle), 4),
    }


def online(count: int, warm_days: int) -> dict:
    client = redis.Redis.from_url(REDIS_URL)
    client.flushdb()  # db 12 belongs to benchmarks and tests
    store = RedisFeatureStore(client, prefix="bench")
    pipeline = FeaturePipeline(store)
    model = load_default()
    ruleset = [rules.parse(source) for source in rules.DEFAULT_RULES]
    params = simulator.SimulationParameters(customers=5000, terminals=10000, days=warm_days + 3, seed=11)
    data = simulator.simulate(params)
    start = params.start.timestamp()

    def tx(i):
        return Transaction(
            id=f"tx{i}",
            time=start + float(data.time[i]),
            amount=round(float(data.amount[i]) * 100),
            merchant=f"m{data.terminal[i]}",
            card=f"c{data.customer[i]}",
            email=data.email[i],
            ip=f"ip{data.customer[i]}" if data.ip_country[i] else None,
            device=data.device[i],
            card_country=data.card_country[i],
            ip_country=data.ip_country[i],
            billing_country=data.billing_country[i],
        )

    warm_until = start + warm_days * 86400
    i = 0
    log(f"warming Redis with {warm_days} days of payments")
    while i < len(data) and start + float(data.time[i]) < warm_until:
        pipeline.observe(tx(i))
        i += 1
    warmed = i
    latencies, cpu, explain = [], [], []
    load_before = os.getloadavg()[0]
    for _ in range(50):  # warm-up: script load, connections, model caches
        t = tx(i)
        pipeline.features(t)
        i += 1
    for _ in range(count):
        t = tx(i)
        begin, cpu_begin = time.perf_counter(), time.process_time()
        vector = pipeline.features(t)
        score = model.score_only(vector)
        context = {"score": score, "amount": t.amount / 100, "card_country": t.card_country,
                   "ip_country": t.ip_country, "billing_country": t.billing_country}  # fmt: skip
        rules.evaluate(ruleset, context)
        pipeline.observe(t)
        latencies.append((time.perf_counter() - begin) * 1000)
        cpu.append((time.process_time() - cpu_begin) * 1000)
        explained = time.perf_counter()
        model.reasons(vector)  # after the decision: the stored top features
        explain.append((time.perf_counter() - explained) * 1000)
        i += 1
    keys = client.dbsize()
    memory = client.info("memory")["used_memory"]
    client.flushdb()
    values = np.array(latencies)
    result = {
        "redis": REDIS_URL,
        "warm_payments": warmed,
        "scored": count,
        "keys_after": keys,
        "redis_used_memory_bytes": memory,
        "p50_ms": round(float(np.percentile(values, 50)), 3),
        "p90_ms": round(float(np.percentile(values, 90)), 3),
        "p99_ms": round(float(np.percentile(values, 99)), 3),
        "max_ms": round(float(values.max()), 3),
        "client_cpu_mean_ms": round(float(np.mean(cpu)), 3),
        "client_cpu_p99_ms": round(float(np.percentile(cpu, 99)), 3),
        "explain_after_decision_p50_ms": round(float(np.percentile(explain, 50)), 3),
        "explain_after_decision_p99_ms": round(float(np.percentile(explain, 99)), 3),
        "load_average_1min": [round(load_before, 2), round(os.getloadavg()[0], 2)],
    }
    log(
        f"online scoring: p50 {result['p50_ms']} ms, p99 {result['p99_ms']} ms over {count} payments "
        f"(client CPU {result['client_cpu_mean_ms']} ms mean; load {result['load_average_1min']})"
    )
    return result


def main(quick: bool = False, seeds=SEEDS) -> dict:
    started = time.time()
    if quick:
        seeds, days, customers, terminals, count, warm = (0,), 45, 1000, 2000, 300, 2
    else:
        days, customers, terminals, count, warm = 90, 5000, 10000, 5000, 7
    with tempfile.TemporaryDirectory(prefix="fraud-bench-") as tmp:
        runs = [quality(seed, days, Path(tmp), customers, terminals) for seed in seeds]
    latency = online(count, warm)
    result = {
        "benchmark": NAME,
        "quick": quick,
        "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "machine": {"python": platform.python_version(), "cpus": os.cpu_count(), "platform": platform.platform()},
        "data": {
            "generator": "fraud.simulator (Fraud Detection Handbook simulator, default scenarios)",
            "customers": customers,
            "terminals": terminals,
            "days": days,
            "feedback_delay_days": 7,
            "train": "7 days, labels reported before the test starts",
            "test": "7 days, starting 7 days after the training period ends",
        },
        "quality": runs,
        "mean": {key: round(sum(r[key] for r in runs) / len(runs), 4) for key in MEAN_KEYS},
        "min": {key: min(r[key] for r in runs) for key in MEAN_KEYS},
        "previous": PREVIOUS,
        "online": latency,
        "targets": TARGETS,
        "seconds": round(time.time() - started, 1),
    }
    result["load_note"] = (
        "Wall-clock figures were measured on a machine shared with other jobs (see load_average_1min, "
        f"{os.cpu_count()} CPUs); replay_per_cpu_second and client_cpu_* do not depend on that load."
    )
    result["met"] = {
        "average_precision": min(r["average_precision"] for r in runs) >= TARGETS["average_precision"],
        "auc": min(r["auc"] for r in runs) >= TARGETS["auc"],
        "auc_mean": result["mean"]["auc"] >= TARGETS["auc"],
        "replay_per_second": min(r["replay_per_second"] for r in runs) >= TARGETS["replay_per_second"],
        "replay_per_cpu_second": min(r["replay_per_cpu_second"] for r in runs) >= TARGETS["replay_per_second"],
        "online_p99_ms": latency["p99_ms"] < TARGETS["online_p99_ms"],
    }
    if not quick:
        RESULTS.mkdir(parents=True, exist_ok=True)
        (RESULTS / "fraud.json").write_text(json.dumps(result, indent=2) + "\n")
        (RESULTS / "fraud.md").write_text(_markdown(result))
    return result


def _markdown(r: dict) -> str:
    mean, low = r["mean"], r["min"]
    previous = r["previous"]["seeds"]
    lines = [
        "# Fraud benchmark",
        "",
        f"{r['date']}, Python {r['machine']['python']}, {r['machine']['cpus']} CPUs. Data: {r['data']['generator']}, "
        f"{r['data']['customers']} customers, {r['data']['terminals']} terminals, {r['data']['days']} days, "
        "fraud reported 7 days later; trained on 7 days (days 60-66), tested on the 7 days starting 7 days after "
        "(days 74-80), through `fraud.backtest` exactly as `manage.py fraud_backtest` runs it.",
        "",
        f"Method: every row replayed in time order through the online feature code ({len(FEATURE_NAMES)} features, "
        "MemoryFeatureStore; a row sees only earlier rows and the labels reported by then), LightGBM "
        f"({ROUNDS} rounds, learning rate {PARAMS['learning_rate']}, {PARAMS['num_leaves']} leaves, bagging "
        f"{PARAMS['bagging_fraction']}, feature fraction {PARAMS['feature_fraction']}, L2 {PARAMS['lambda_l2']}) "
        "trained on the training week with the labels reported before the test week.",
        "",
        "## Detection, per seed",
        "",
        "AUC ROC, average precision (AP) and card precision@100 (CP@100) as the command prints them, over every "
        "test row; `ceiling`: what a scorer reaches that ranks every fraud first except those no report "
        "could reveal yet, which it ranks by chance (see below; a guide, not a strict bound); "
        "`handbook`: the handbook's own protocol (test rows of cards already known to be compromised left out); "
        "`before`: the previous version of the engine on the same data.",
        "",
        "| seed | test rows | test frauds | AUC ROC | AUC ceiling | AP | AP ceiling | CP@100 | handbook AUC "
        "(ceiling) | handbook AP (ceiling) | before: AUC / AP / CP@100; handbook AUC / AP |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for q in r["quality"]:
        before = previous.get(str(q["seed"]), {})
        before_text = (
            f"{before['auc']} / {before['average_precision']} / {before['card_precision_at_100']}; handbook "
            f"{before['handbook_protocol_auc']} / {before['handbook_protocol_average_precision']}"
            if before
            else "-"
        )
        lines.append(
            f"| {q['seed']} | {q['test_rows']} | {q['test_frauds']} | {q['auc']} | {q['auc_ceiling']} | "
            f"{q['average_precision']} | {q['average_precision_ceiling']} | {q['card_precision_at_100']} | "
            f"{q['handbook_protocol_auc']} ({q['handbook_protocol_auc_ceiling']}) | "
            f"{q['handbook_protocol_average_precision']} ({q['handbook_protocol_average_precision_ceiling']}) | "
            f"{before_text} |"
        )
    lines += [
        f"| mean | | | {mean['auc']} | {mean['auc_ceiling']} | {mean['average_precision']} | | "
        f"{mean['card_precision_at_100']} | "
        f"{mean['handbook_protocol_auc']} ({mean['handbook_protocol_auc_ceiling']}) | "
        f"{mean['handbook_protocol_average_precision']} ({mean['handbook_protocol_average_precision_ceiling']}) | |",
        f"| min | | | {low['auc']} | {low['auc_ceiling']} | {low['average_precision']} | | "
        f"{low['card_precision_at_100']} | {low['handbook_protocol_auc']} ({low['handbook_protocol_auc_ceiling']}) | "
        f"{low['handbook_protocol_average_precision']} ({low['handbook_protocol_average_precision_ceiling']}) | |",
        "",
        "The ceiling (an expected value: those frauds may fall a little above or below chance on a given week): "
        "in this simulator a compromised merchant's frauds are ordinary payments of ordinary "
        "customers; nothing tells them apart until the first of them is reported, 7 days later. The test frauds "
        "of merchants compromised in the previous 7 days with no report yet (`invisible_frauds` in fraud.json, "
        "14-21% of the test frauds depending on the seed) can therefore only be ranked by chance among the "
        "genuine payments, so AUC ROC is about 1 - invisible / frauds / 2 for a scorer that ranks every other "
        "fraud first. That share, not the model, makes most of the spread between seeds; on a week where it "
        "exceeds 20% an AUC ROC of 0.90 is out of reach unless those frauds can be told apart some other way. "
        "It is a guide, not a strict bound: the model ranks them a little better than chance on some seeds "
        "(3 and 4 here), through traits they happen to share with reported frauds. The "
        "handbook's protocol removes the cards already known to be compromised, mostly easy frauds, so the "
        "invisible share is larger there and its ceiling lower (about 0.88-0.90): the published baselines "
        "(AUC ROC about 0.88, AP about 0.69) were measured that way.",
        "",
        "## Throughput and latency",
        "",
        "| seed | rows | replay tx/s | per CPU s |",
        "|---|---|---|---|",
    ]
    for q in r["quality"]:
        lines.append(f"| {q['seed']} | {q['rows']} | {q['replay_per_second']:,} | {q['replay_per_cpu_second']:,} |")
    o = r["online"]
    lines += [
        "",
        f"Online scoring on Redis ({o['redis']}), {o['scored']} payments after {o['warm_payments']} warm-up payments: "
        f"p50 {o['p50_ms']} ms, p90 {o['p90_ms']} ms, p99 {o['p99_ms']} ms, max {o['max_ms']} ms; "
        f"client CPU {o['client_cpu_mean_ms']} ms mean, {o['client_cpu_p99_ms']} ms p99; SHAP explanation after "
        f"the decision p50 {o['explain_after_decision_p50_ms']} ms. Load average {o['load_average_1min']}.",
        "",
        r["load_note"],
        "",
        "## Targets",
        "",
        "Checked on the minimum over the seeds (AUC ROC also on the mean, given the ceiling above).",
        "",
        f"Targets: AP >= {r['targets']['average_precision']}, AUC >= {r['targets']['auc']}, replay >= "
        f"{r['targets']['replay_per_second']:,}/s, online p99 < {r['targets']['online_p99_ms']} ms. Met: {r['met']}.",
        "",
    ]
    return "\n".join(lines)


def run(ctx=None) -> dict:
    """Entry point for bench/run.py."""
    quick = bool(getattr(getattr(ctx, "options", None), "quick", False))
    return main(quick=quick)


def cli() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "payplug.test_settings")
    django.setup()
    outcome = main(quick=args.quick)
    print(json.dumps({"mean": outcome["mean"], "online": outcome["online"], "met": outcome["met"]}, indent=2))


if __name__ == "__main__":
    cli()
