"""python manage.py fraud_train: train a model version on the labelled history in the database.

Rows are the decided payments of [--since, --until) with the features stored at decision time
(exactly what was known then); a payment is fraudulent when a label (merchant report, lost dispute,
rejected review) was known at --label-cutoff (default: now). The most recent --holdout share of
the rows (by time) measures the model; it is stored as a ModelVersion, active with --activate.

`--synthetic` instead regenerates the shipped default model (fraud/default_model/) from the
simulator, reproducibly.
"""

from datetime import UTC, timedelta

import numpy as np
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime

from fraud import model as fraud_model
from fraud.features import FEATURE_NAMES
from fraud.models import ModelVersion
from fraud.services import model_versions
from fraud.synthetic import build_default_model


def _moment(value):
    if value is None:
        return None
    parsed = parse_datetime(value)
    if parsed is None and parse_date(value) is not None:
        parsed = parse_datetime(value + "T00:00:00+00:00")
    if parsed is None:
        raise CommandError(f"not a date: {value!r}")
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


class Command(BaseCommand):
    help = "Train a fraud model on the labelled payments in the database (or --synthetic: the default model)."

    def add_arguments(self, parser):
        parser.add_argument("--since", help="first decision date (default: 90 days ago)")
        parser.add_argument("--until", help="end of the period, excluded (default: now)")
        parser.add_argument("--label-cutoff", help="labels known at this time (default: now)")
        parser.add_argument("--holdout", type=float, default=0.2, help="latest share of rows kept for metrics")
        parser.add_argument("--min-frauds", type=int, default=20)
        parser.add_argument("--activate", action="store_true", help="make the new version the active model")
        parser.add_argument("--synthetic", action="store_true", help="regenerate fraud/default_model/ instead")

    def handle(self, *args, **options):
        if options["synthetic"]:
            meta = build_default_model(log=self.stdout.write)
            self.stdout.write(f"default model written: {meta['metrics']}")
            return
        now = timezone.now()
        until = _moment(options["until"]) or now
        since = _moment(options["since"]) or until - timedelta(days=90)
        cutoff = _moment(options["label_cutoff"]) or now
        X, y, _times = model_versions.training_rows(since, until, cutoff)
        frauds = sum(y)
        self.stdout.write(f"{len(y)} decided payments, {frauds} known frauds")
        if frauds < options["min_frauds"] or frauds == len(y):
            raise CommandError(f"not enough labelled history: {frauds} frauds (at least {options['min_frauds']})")
        X, y = np.array(X, dtype=np.float64), np.array(y)
        split = int(len(y) * (1 - options["holdout"]))
        metrics = {"training_rows": len(y), "training_frauds": int(frauds)}
        if 0 < split < len(y) and y[split:].any() and y[:split].any():
            candidate = fraud_model.train(X[:split], y[:split])
            p = candidate.predict(X[split:])
            metrics.update(
                auc=round(fraud_model.roc_auc(y[split:], p), 4),
                average_precision=round(fraud_model.average_precision(y[split:], p), 4),
                holdout_rows=len(y) - split,
            )
        trained = fraud_model.train(X, y)
        version = ModelVersion.objects.create(
            name=f"m{now:%Y%m%d-%H%M%S}",
            artifact=trained.dump(),
            feature_names=list(FEATURE_NAMES),
            metrics=metrics,
            parameters={k: v for k, v in fraud_model.PARAMS.items() if k != "max_bin_by_feature"},
            trained_from=since,
            trained_until=until,
        )
        if options["activate"]:
            model_versions.activate(version)
        self.stdout.write(f"model version {version.name}: {metrics}" + (" (active)" if options["activate"] else ""))
