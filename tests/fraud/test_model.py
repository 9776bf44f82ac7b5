"""The model: the shipped default loads and explains itself; metrics; fraud_train on labelled history."""

import math
from datetime import timedelta

import numpy as np
import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from fraud import model as fraud_model
from fraud.features import FEATURE_NAMES
from fraud.models import Decision, Label, ModelVersion
from fraud.services import model_versions, scoring
from payments.models import Payment


def test_the_default_model_ships_small_and_scores_with_reasons():
    assert (fraud_model.DEFAULT_MODEL_DIR / "model.txt").stat().st_size < 2_000_000
    model = fraud_model.load_default()
    vector = [math.nan] * len(FEATURE_NAMES)
    vector[0] = 30.0

    score, reasons = model.score(vector)

    assert 0 <= score <= 100
    assert all(r["feature"] in FEATURE_NAMES and r["contribution"] > 0 for r in reasons)
    assert len(reasons) <= fraud_model.TOP_FEATURES


def test_metrics_match_their_definitions():
    y = [1, 0, 1, 0, 0]
    s = [0.9, 0.8, 0.7, 0.1, 0.1]

    assert fraud_model.roc_auc(y, s) == pytest.approx(5 / 6)
    assert fraud_model.average_precision(y, s) == pytest.approx((1 / 1 + 2 / 3) / 2)
    days, cards = [0, 0, 0, 1, 1], ["a", "b", "a", "c", "d"]
    assert fraud_model.card_precision_at_k(days, cards, y, s, k=1) == pytest.approx((1 + 0) / 2)


@pytest.mark.django_db
def test_fraud_train_needs_enough_labels():
    with pytest.raises(CommandError, match="not enough labelled history"):
        call_command("fraud_train")


@pytest.mark.django_db
def test_an_activated_version_replaces_the_default(merchant_a):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(400, len(FEATURE_NAMES)))
    y = (X[:, 0] > 1).astype(int)
    trained = fraud_model.train(X, y, rounds=20)
    version = ModelVersion.objects.create(name="m1", artifact=trained.dump(), feature_names=list(FEATURE_NAMES))

    model_versions.activate(version)

    assert scoring.active_model()[1] == "m1"
    model_versions.activate(None)
    assert scoring.active_model()[1] == "default"
    assert not ModelVersion.objects.filter(is_active=True).exists()


@pytest.mark.django_db
def test_fraud_train_learns_from_labelled_decisions_known_in_time(merchant_a):
    rng = np.random.default_rng(1)
    now = timezone.now()
    for i in range(300):
        fraud = i % 10 == 0
        created = now - timedelta(days=20) + timedelta(minutes=60 * i)
        p = Payment.objects.create(merchant=merchant_a, is_live=False, amount=1000, expires_at=created, status="paid")
        amount = float(rng.normal(300 if fraud else 30, 5))
        Decision.objects.create(
            payment=p, merchant=merchant_a, is_live=False, score=0, outcome="capture", created_at=created,
            features={"amount": amount, "card_count_30d": float(i % 7)},
        )  # fmt: skip
        if fraud:
            Label.objects.create(payment=p, merchant=merchant_a, is_live=False, source="merchant", is_fraud=True,
                                 fraud_reported_at=created + timedelta(days=2))  # fmt: skip
    # a label reported after the cutoff is not used
    late = Payment.objects.create(merchant=merchant_a, is_live=False, amount=1000, expires_at=now, status="paid")
    Decision.objects.create(payment=late, merchant=merchant_a, is_live=False, score=0, outcome="capture",
                            created_at=now - timedelta(days=1), features={"amount": 30.0})  # fmt: skip
    Label.objects.create(payment=late, merchant=merchant_a, is_live=False, source="merchant", is_fraud=True,
                         fraud_reported_at=now + timedelta(days=1))  # fmt: skip

    call_command("fraud_train", "--activate", "--min-frauds", "10")

    version = ModelVersion.objects.get()
    assert version.is_active
    assert version.metrics["training_frauds"] == 30
    assert version.metrics["auc"] > 0.9
    assert scoring.active_model()[1] == version.name
