"""Model versions: activating a trained version and the training rows it learns from."""

from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django.utils import timezone

from fraud.features import FEATURE_NAMES, NAN
from fraud.models import Decision, Label, ModelVersion
from fraud.services.scoring import SANDBOX_RULE, forget_model


def activate(version: ModelVersion | None) -> None:
    """Make `version` the active model (None: back to the shipped default)."""
    with transaction.atomic():
        ModelVersion.objects.select_for_update().filter(is_active=True).update(is_active=False)
        if version is not None:
            ModelVersion.objects.filter(pk=version.pk).update(is_active=True, activated_at=timezone.now())
    forget_model()


def training_rows(since: datetime, until: datetime, label_cutoff: datetime):
    """Decided payments in [since, until) with the features stored at decision time, and their label:
    fraud when a fraud label was known at `label_cutoff`, genuine otherwise."""
    frauds = set(
        Label.objects.filter(is_fraud=True, fraud_reported_at__lte=label_cutoff).values_list("payment_id", flat=True)
    )
    rows = Decision.objects.filter(created_at__gte=since, created_at__lt=until).exclude(rule=SANDBOX_RULE)
    X, y, times = [], [], []
    for decision in rows.order_by("created_at").iterator(chunk_size=2000):
        features = decision.features or {}
        X.append([NAN if features.get(name) is None else float(features[name]) for name in FEATURE_NAMES])
        y.append(1 if decision.payment_id in frauds else 0)
        times.append(decision.created_at)
    return X, y, times
