"""The fraud model: gradient-boosted trees (LightGBM) over the feature vector of fraud.features.

A model is a LightGBM text dump plus the feature names it was trained on; it turns a feature
vector into a score from 0 to 100 (the predicted probability of fraud, as a percentage) and the
features that contributed most (exact tree SHAP values, `pred_contrib=True`).

The platform ships a default model (fraud/default_model/, trained on fraud.simulator data by
`python manage.py fraud_train --synthetic`), used until a merchant's history trains one.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from fraud.features import FEATURE_NAMES

DEFAULT_MODEL_DIR = Path(__file__).resolve().parent / "default_model"
PARAMS = {
    "objective": "binary",
    # A slow, bagged, regularised booster: a week of history holds a few hundred frauds, part of
    # them without any sign yet (a merchant compromised days ago, before any report), so a fast
    # booster chases noise. Half the rows and 70% of the features per tree average that out like an
    # ensemble of boosters would, in one model (measured in bench/results/fraud.md).
    "learning_rate": 0.02,
    "num_leaves": 15,
    "min_child_samples": 20,
    "feature_fraction": 0.7,
    "bagging_fraction": 0.5,
    "bagging_freq": 1,
    "lambda_l2": 10.0,
    "verbose": -1,
    "seed": 7,
    "deterministic": True,
    "force_row_wise": True,
    "num_threads": 1,
    # Fine bins: amounts and ratios have sharp thresholds (e.g. 220.00) that coarse quantile bins blur;
    # the amount gets about one bin per distinct value of a week of payments.
    "max_bin_by_feature": [16383 if name == "amount" else 1023 for name in FEATURE_NAMES],
    "min_data_in_bin": 1,
}
ROUNDS = 750
TOP_FEATURES = 5


@dataclass
class FraudModel:
    booster: object  # lightgbm.Booster
    feature_names: tuple[str, ...] = FEATURE_NAMES
    metrics: dict = field(default_factory=dict)
    _columns: np.ndarray | None = None

    def __post_init__(self):
        # A model trained on an older feature list still reads today's vectors, by name.
        index = {name: i for i, name in enumerate(FEATURE_NAMES)}
        self._columns = np.array([index.get(name, -1) for name in self.feature_names])
        self._identity = list(self.feature_names) == list(FEATURE_NAMES)

    def _matrix(self, X) -> np.ndarray:
        X = np.asarray(X, dtype=np.float64)
        if X.ndim == 1:
            X = X[None, :]
        if self._identity:
            return X
        out = np.full((X.shape[0], len(self.feature_names)), np.nan)
        present = self._columns >= 0
        out[:, present] = X[:, self._columns[present]]
        return out

    def predict(self, X) -> np.ndarray:
        """Probabilities of fraud, one per row."""
        return self.booster.predict(self._matrix(X), num_threads=1)

    def score_only(self, vector) -> int:
        """Score 0-100 of one feature vector: the decision path (about 30 microseconds)."""
        return to_score(float(self.booster.predict(self._matrix(vector), num_threads=1)[0]))

    def reasons(self, vector) -> list[dict]:
        """The top contributing features (tree SHAP, about half a millisecond)."""
        row = self._matrix(vector)
        contributions = self.booster.predict(row, pred_contrib=True, num_threads=1)[0]
        return self.explain(row[0], contributions)

    def score(self, vector) -> tuple[int, list[dict]]:
        """Score 0-100 of one feature vector and its top contributing features."""
        row = self._matrix(vector)
        contributions = self.booster.predict(row, pred_contrib=True, num_threads=1)[0]
        logit = float(contributions.sum())
        probability = 1.0 / (1.0 + math.exp(-logit))
        return to_score(probability), self.explain(row[0], contributions)

    def explain(self, row, contributions) -> list[dict]:
        order = np.argsort(-contributions[:-1])
        top = []
        for i in order[:TOP_FEATURES]:
            value = float(contributions[i])
            if value <= 0:
                break
            raw = float(row[i])
            top.append(
                {
                    "feature": self.feature_names[i],
                    "value": None if raw != raw else round(raw, 4),
                    "contribution": round(value, 4),
                }
            )
        return top

    def dump(self) -> str:
        return self.booster.model_to_string(num_iteration=-1)

    @classmethod
    def load(cls, text: str, feature_names=None, metrics=None) -> FraudModel:
        import lightgbm  # noqa: PLC0415  with scipy, seconds to import: only processes that score or train load it

        booster = lightgbm.Booster(model_str=text)
        return cls(booster, tuple(feature_names or booster.feature_name()), metrics or {})


def to_score(probability: float) -> int:
    return max(0, min(100, round(probability * 100)))


def train(X, y, rounds: int = ROUNDS, params: dict | None = None) -> FraudModel:
    import lightgbm  # noqa: PLC0415  with scipy, seconds to import: only processes that score or train load it

    X = np.asarray(X, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    if y.sum() == 0 or y.sum() == len(y):
        raise ValueError("training needs both fraudulent and genuine payments")
    data = lightgbm.Dataset(X, label=y, feature_name=list(FEATURE_NAMES), free_raw_data=True)
    booster = lightgbm.train({**PARAMS, **(params or {})}, data, num_boost_round=rounds)
    return FraudModel(booster, FEATURE_NAMES)


def load_default() -> FraudModel:
    meta = json.loads((DEFAULT_MODEL_DIR / "meta.json").read_text())
    text = (DEFAULT_MODEL_DIR / "model.txt").read_text()
    return FraudModel.load(text, meta["feature_names"], meta.get("metrics"))


# --- metrics ------------------------------------------------------------------------------------


def roc_auc(y_true, scores) -> float:
    """Area under the ROC curve (Mann-Whitney, ties counted half)."""
    from scipy.stats import rankdata  # noqa: PLC0415  1.6 s to import: only benchmarks and training measure AUC

    y = np.asarray(y_true, dtype=bool)
    positives, negatives = int(y.sum()), int((~y).sum())
    if positives == 0 or negatives == 0:
        return float("nan")
    ranks = rankdata(scores)
    return float((ranks[y].sum() - positives * (positives + 1) / 2) / (positives * negatives))


def average_precision(y_true, scores) -> float:
    """Average precision, as scikit-learn computes it (step-wise, ties grouped)."""
    y = np.asarray(y_true, dtype=bool)
    positives = int(y.sum())
    if positives == 0:
        return float("nan")
    order = np.argsort(-np.asarray(scores, dtype=np.float64), kind="mergesort")
    s = np.asarray(scores, dtype=np.float64)[order]
    hits = y[order].astype(np.float64)
    last_of_tie = np.r_[np.nonzero(np.diff(s))[0], len(s) - 1]
    tps = np.cumsum(hits)[last_of_tie]
    precision = tps / (last_of_tie + 1)
    recall = tps / positives
    return float(np.sum(np.diff(np.r_[0.0, recall]) * precision))


def card_precision_at_k(days, cards, y_true, scores, k: int = 100) -> float:
    """Each day, the k cards with the highest score (a card's score is its highest that day):
    the share of them that had a fraudulent payment that day; averaged over the days."""
    days = np.asarray(days)
    cards = np.asarray(cards)
    y = np.asarray(y_true, dtype=bool)
    s = np.asarray(scores, dtype=np.float64)
    values = []
    for day in np.unique(days):
        mask = days == day
        d_cards, d_scores, d_y = cards[mask], s[mask], y[mask]
        unique, inverse = np.unique(d_cards, return_inverse=True)
        best = np.full(len(unique), -np.inf)
        np.maximum.at(best, inverse, d_scores)
        fraud = np.zeros(len(unique), dtype=bool)
        np.logical_or.at(fraud, inverse, d_y)
        top = np.argsort(-best, kind="mergesort")[:k]
        values.append(fraud[top].sum() / k)
    return float(np.mean(values)) if values else float("nan")
