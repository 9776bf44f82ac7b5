"""The shipped default model: trained on fraud.simulator data through the online feature pipeline.

`python manage.py fraud_train --synthetic` runs build_default_model() and rewrites
fraud/default_model/ (model.txt, meta.json). Deterministic for a given seed, so the committed
artifact can be regenerated and compared.

Scenario 1 of the simulator (every payment above a fixed amount is fraud) is switched off here:
it is a sanity check for backtests, and a shipped model that refuses every large payment would
hurt honest merchants. The model learns from compromised merchants (scenario 2) and stolen cards
used with inflated amounts, from new emails, devices and foreign IPs (scenario 3).
"""

from __future__ import annotations

import heapq
import json
from dataclasses import asdict

import numpy as np

from fraud import model as fraud_model
from fraud.features import FEATURE_NAMES, FeaturePipeline, MemoryFeatureStore, Transaction
from fraud.simulator import DAY, SimulationParameters, simulate

DEFAULT_PARAMETERS = SimulationParameters(customers=3000, terminals=3000, days=75, amount_threshold=None, seed=2026)
TRAIN_FROM_DAY, TRAIN_UNTIL_DAY, TEST_FROM_DAY, TEST_UNTIL_DAY = 30, 58, 65, 75


def replay(data, keep) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Features of the rows where keep(day) is true, labels reported before each row applied."""
    pipeline = FeaturePipeline(MemoryFeatureStore())
    pending: list = []
    X, y, days = [], [], []
    start = data.start.timestamp()
    for i in range(len(data)):
        t = start + float(data.time[i])
        while pending and pending[0][0] <= t:
            reported, _, tx = heapq.heappop(pending)
            pipeline.label(tx, reported)
        tx = Transaction(
            id=f"tx_{i}",
            time=t,
            amount=round(float(data.amount[i]) * 100),
            merchant=f"m_{data.terminal[i]}",
            card=f"card_{data.customer[i]}",
            email=data.email[i],
            ip=f"ip_{data.customer[i]}" if data.ip_country[i] else None,
            device=data.device[i],
            card_country=data.card_country[i],
            ip_country=data.ip_country[i],
            billing_country=data.billing_country[i],
        )
        day = int(data.time[i] // DAY)
        if keep(day):
            X.append(pipeline.features(tx))
            y.append(bool(data.is_fraud[i]))
            days.append(day)
        pipeline.observe(tx)
        if data.is_fraud[i]:
            heapq.heappush(pending, (start + float(data.reported[i]), i, tx))
    return np.array(X, dtype=np.float64), np.array(y), np.array(days)


def build_default_model(directory=fraud_model.DEFAULT_MODEL_DIR, log=print) -> dict:
    params = DEFAULT_PARAMETERS
    data = simulate(params)
    log(f"Simulated {len(data)} payments, {int(data.is_fraud.sum())} fraudulent.")
    X, y, days = replay(data, lambda d: TRAIN_FROM_DAY <= d < TEST_UNTIL_DAY)
    # Training labels: only those reported before the test period starts.
    delay_days = params.feedback_delay_days
    train = days < TRAIN_UNTIL_DAY
    known = y & (days + delay_days <= TEST_FROM_DAY)
    test = days >= TEST_FROM_DAY
    candidate = fraud_model.train(X[train], known[train])
    p = candidate.predict(X[test])
    metrics = {
        "auc": round(fraud_model.roc_auc(y[test], p), 4),
        "average_precision": round(fraud_model.average_precision(y[test], p), 4),
        "test_rows": int(test.sum()),
        "test_frauds": int(y[test].sum()),
    }
    log(f"Hold-out (days {TEST_FROM_DAY}-{TEST_UNTIL_DAY}): AUC {metrics['auc']}, AP {metrics['average_precision']}.")
    # The shipped model learns from everything known at the end of the simulation.
    final_known = y & (days + delay_days <= params.days)
    final = fraud_model.train(X, final_known)
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "model.txt").write_text(final.dump())
    meta = {
        "name": "default",
        "feature_names": list(FEATURE_NAMES),
        "metrics": metrics,
        "training_rows": len(y),
        "training_frauds": int(final_known.sum()),
        "simulation": {k: (str(v) if k == "start" else v) for k, v in asdict(params).items()},
        "parameters": {k: v for k, v in fraud_model.PARAMS.items() if k != "max_bin_by_feature"},
        "rounds": fraud_model.ROUNDS,
    }
    (directory / "meta.json").write_text(json.dumps(meta, indent=2) + "\n")
    return meta
