"""Fraud decisions after authorisation (architecture, flow step 4), reviews, labels, rules and lists.

decide(payment): features (fraud.features, from the online store) -> model score and top features
(fraud.model) -> sandbox override, then allow/block lists, then the merchant's ordered rules
(fraud.rules) -> capture, review or refuse, carried out through payments.services. The Decision
row is the lock: a redelivered task finds it and only carries it out again (payments.services
ignores a transition that already happened), so a payment is decided once.

Unreviewed payments: payments.services.expire_due refuses a review once payments' own
`review_deadline` passes. The merchant's choice (FraudSettings.unreviewed_action) is applied
before that by fraud's own beat task (resolve_due_reviews, every minute): each review decision
carries `review_action_at`, REVIEW_MARGIN before payments' deadline. payments never imports fraud;
if fraud's beat stops, the payments deadline still refuses, which is the safe side.
"""

from __future__ import annotations

import ipaddress
import logging
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from redis.exceptions import RedisError

from fraud import model as fraud_model
from fraud import rules as rule_language
from fraud.features import FEATURE_NAMES, NAN, FeaturePipeline, Transaction, as_dict, build_features, default_store
from fraud.models import Decision, FraudSettings, Label, ListEntry, ModelVersion, Rule
from payments import services as payments
from payments.models import Payment
from payments.vault import fingerprint
from payplug import geoip
from payplug.metrics import FRAUD_DECISIONS

logger = logging.getLogger(__name__)
SANDBOX_FRAUD_CARD = "4100000000000019"
SANDBOX_RULE = "sandbox fraud test card"
REVIEW_MARGIN = timedelta(minutes=10)
STORE_ERRORS = (RedisError, OSError)
DECLINE_CODES = {"card_declined", "3ds_declined", "incorrect_number", "processing_error"}
ACTION_OUTCOME = {
    "block": Decision.Outcome.REFUSE,
    "review": Decision.Outcome.REVIEW,
    "allow": Decision.Outcome.CAPTURE,
}


# --- payments as the features see them ----------------------------------------------------------


def device_of(payment: Payment) -> str | None:
    context = payment.payment_context if isinstance(payment.payment_context, dict) else {}
    for key in ("device_fingerprint", "device_id", "device"):
        value = context.get(key)
        if isinstance(value, str | int) and str(value):
            return str(value)[:200]
    return None


def transaction_of(payment: Payment) -> Transaction:
    """The payment as fraud.features sees it. Keys carry the mode: test data never feeds live."""
    mode = "live" if payment.is_live else "test"
    billing = payment.billing if isinstance(payment.billing, dict) else {}
    email = billing.get("email")
    device = device_of(payment)
    moment = payment.authorized_at or payment.created_at or timezone.now()
    return Transaction(
        id=payment.public_id,
        time=moment.timestamp(),
        amount=int(payment.amount),
        merchant=f"{mode}:{payment.merchant_id}",
        card=f"{mode}:{payment.card_fingerprint}" if payment.card_fingerprint else None,
        email=f"{mode}:{email}" if isinstance(email, str) and email else None,
        ip=f"{mode}:{payment.shopper_ip}" if payment.shopper_ip else None,
        device=f"{mode}:{device}" if device else None,
        card_country=payment.card_country or None,
        ip_country=geoip.country_of(payment.shopper_ip),
        billing_country=(billing.get("country") or None) if isinstance(billing.get("country"), str) else None,
        attempt_failures=int(payment.failed_attempts or 0),
        currency=payment.currency,
    )


def card_bin(payment: Payment) -> str | None:
    """The card's BIN when payments records it (see the report: payments has no BIN field yet)."""
    value = getattr(payment, "card_bin", None)
    return value or None


def is_sandbox_fraud_card(payment: Payment) -> bool:
    return not payment.is_live and payment.card_fingerprint == fingerprint(SANDBOX_FRAUD_CARD)


# --- the model in use -----------------------------------------------------------------------------

_model_lock = threading.Lock()
_model_cache: dict = {"checked": 0.0, "name": None, "model": None}
MODEL_RECHECK_SECONDS = 30.0


def active_model():
    """(FraudModel, version name): the active ModelVersion, else the shipped default model.

    Each process re-reads which version is active at most every MODEL_RECHECK_SECONDS.
    """
    now = time.monotonic()
    cache = _model_cache
    if cache["model"] is not None and now - cache["checked"] < MODEL_RECHECK_SECONDS:
        return cache["model"], cache["name"]
    with _model_lock:
        active = ModelVersion.objects.filter(is_active=True).values_list("name", flat=True).first()
        name = active or "default"
        if cache["model"] is None or cache["name"] != name:
            if active:
                version = ModelVersion.objects.get(name=active)
                loaded = fraud_model.FraudModel.load(version.artifact, version.feature_names, version.metrics)
            else:
                loaded = fraud_model.load_default()
            cache["model"], cache["name"] = loaded, name
        cache["checked"] = now
        return cache["model"], cache["name"]


def forget_model() -> None:
    _model_cache.update(checked=0.0, name=None, model=None)


# --- rules and lists ------------------------------------------------------------------------------


def merchant_rules(merchant, is_live: bool) -> list[Rule] | None:
    """The merchant's own rules in this mode, or None while it still uses the shipped defaults."""
    rows = list(Rule.objects.for_tenant(merchant, is_live).order_by("position", "id"))
    return rows or None


def rules_in_force(merchant, is_live: bool) -> list[rule_language.Rule]:
    rows = merchant_rules(merchant, is_live)
    sources = rule_language.DEFAULT_RULES if rows is None else [r.source for r in rows if r.is_enabled]
    parsed = []
    for source in sources:
        try:
            parsed.append(rule_language.parse(source))
        except rule_language.RuleError:  # saved before a grammar change: skip it, loudly
            logger.warning("fraud rule no longer parses, skipped: %s", source)
    return parsed


def list_match(payment: Payment, context: dict) -> ListEntry | None:
    """The first matching list entry, block entries first (a block beats an allow)."""
    billing = payment.billing if isinstance(payment.billing, dict) else {}
    email = billing.get("email")
    candidates = Q()
    has_any = False
    if payment.card_fingerprint:
        candidates |= Q(kind=ListEntry.Kind.CARD, value=payment.card_fingerprint)
        has_any = True
    if isinstance(email, str) and email:
        candidates |= Q(kind=ListEntry.Kind.EMAIL, value=email.strip().lower())
        has_any = True
    if payment.shopper_ip:
        candidates |= Q(kind=ListEntry.Kind.IP, value=payment.shopper_ip)
        has_any = True
    countries = {
        c for c in (context.get("card_country"), context.get("ip_country"), context.get("billing_country")) if c
    }
    if countries:
        candidates |= Q(kind=ListEntry.Kind.COUNTRY, value__in=countries)
        has_any = True
    bin_ = card_bin(payment)
    if bin_:
        candidates |= Q(kind=ListEntry.Kind.BIN, value__in=[bin_[:n] for n in (6, 7, 8) if len(bin_) >= n])
        has_any = True
    if not has_any:
        return None
    entries = ListEntry.objects.for_tenant(payment.merchant_id, payment.is_live).filter(candidates)
    return min(entries, key=lambda e: (e.list != ListEntry.List.BLOCK, e.pk), default=None)


# --- assessment and decision -----------------------------------------------------------------------


@dataclass
class Assessment:
    score: int
    outcome: str
    rule: str
    reasons: list = field(default_factory=list)
    context: dict = field(default_factory=dict)
    model_version: str = ""
    vector: list = field(default_factory=list)


def rule_context(payment: Payment, tx: Transaction, vector: list[float], score: int) -> dict:
    context = as_dict(vector)
    context.update(
        score=score,
        amount=payment.amount / 100.0,
        currency=payment.currency,
        card_country=tx.card_country,
        ip_country=tx.ip_country,
        billing_country=tx.billing_country,
        card_brand=payment.card_brand,
        is_3ds=bool(payment.is_3ds),
        is_deferred=bool(payment.is_deferred),
        source=payment.source,
    )
    return context


def assess(payment: Payment, store=None) -> Assessment:
    """Score a payment and pick the outcome; changes nothing (the store is only read)."""
    tx = transaction_of(payment)
    pipeline = FeaturePipeline(store or default_store())
    try:
        vector = pipeline.features(tx)
    except STORE_ERRORS as error:  # decide without history rather than leave the payment waiting
        logger.warning("fraud feature store unavailable, scoring %s without history: %s", payment.public_id, error)
        vector = _without_history(tx)
    model, version = active_model()
    score = model.score_only(vector)
    reasons: list = []  # explained after the decision is carried out (decide), off the critical path
    context = rule_context(payment, tx, vector, score)

    if is_sandbox_fraud_card(payment):
        score = context["score"] = 100
        reasons = [{"feature": "sandbox_fraud_card", "value": 1, "contribution": 100}]
        return Assessment(100, Decision.Outcome.REFUSE, SANDBOX_RULE, reasons, context, version, vector)
    entry = list_match(payment, context)
    if entry is not None:
        outcome = Decision.Outcome.REFUSE if entry.list == ListEntry.List.BLOCK else Decision.Outcome.CAPTURE
        label = f"{entry.list} list: {entry.get_kind_display()} {entry.value}"[:255]
        return Assessment(score, outcome, label, reasons, context, version, vector)
    verdict = rule_language.evaluate(rules_in_force(payment.merchant, payment.is_live), context)
    outcome = ACTION_OUTCOME.get(verdict.action, Decision.Outcome.CAPTURE)
    return Assessment(score, outcome, verdict.rule[:255], reasons, context, version, vector)


def _without_history(tx: Transaction) -> list[float]:
    return build_features(tx, {}, True)


def decide(payment_id: int) -> Decision | None:
    payment = Payment.objects.select_related("merchant").filter(pk=payment_id).first()
    if payment is None:
        return None
    existing = Decision.objects.filter(payment=payment).first()
    if existing is None:
        if payment.status != Payment.Status.AUTHORIZED:
            return None
        assessment = assess(payment)
        try:
            with transaction.atomic():
                existing = Decision.objects.create(
                    payment=payment,
                    merchant_id=payment.merchant_id,
                    is_live=payment.is_live,
                    score=assessment.score,
                    outcome=assessment.outcome,
                    rule=assessment.rule,
                    reasons=assessment.reasons,
                    features=assessment.context,
                    model_version=assessment.model_version,
                )
        except IntegrityError:  # a redelivered task raced us: the first decision stands
            existing = Decision.objects.get(payment=payment)
        else:
            FRAUD_DECISIONS.labels(existing.outcome).inc()
            logger.info(
                "fraud decision for %s: %s, score %s, rule %r",
                payment.public_id,
                existing.outcome,
                existing.score,
                existing.rule,
            )
            _observe(payment)
            carry_out(existing)
            if not existing.reasons:
                _explain(existing, assessment)
            return existing
    carry_out(existing)
    return existing


def _explain(decision: Decision, assessment: Assessment) -> None:
    """Store the top contributing features once the payment has its outcome (SHAP costs ~0.5 ms)."""
    model, version = active_model()
    if version != assessment.model_version:
        return
    decision.reasons = model.reasons(assessment.vector)
    Decision.objects.filter(pk=decision.pk).update(reasons=decision.reasons)


def _observe(payment: Payment) -> None:
    """Feed the decided payment to the online store (only the task that created the Decision)."""
    try:
        FeaturePipeline(default_store()).observe(transaction_of(payment))
    except STORE_ERRORS as error:
        logger.warning("fraud feature store unavailable, %s not recorded: %s", payment.public_id, error)


def carry_out(decision: Decision) -> None:
    """Apply a decision; payments.services ignores it if the payment already moved on."""
    if decision.outcome == Decision.Outcome.REFUSE:
        payments.refuse(decision.payment_id, "fraud_suspected")
    elif decision.outcome == Decision.Outcome.REVIEW:
        hours = settings_of(decision.merchant_id).review_hours
        p = payments.hold_for_review(decision.payment_id, deadline=timezone.now() + timedelta(hours=hours))
        if p.status == Payment.Status.IN_REVIEW and p.review_deadline and decision.review_action_at is None:
            action_at = p.review_deadline - REVIEW_MARGIN
            Decision.objects.filter(pk=decision.pk, review_action_at__isnull=True).update(review_action_at=action_at)
            decision.review_action_at = action_at
    else:
        payments.accept(decision.payment_id)


# --- settings -------------------------------------------------------------------------------------


def settings_of(merchant_id: int) -> FraudSettings:
    found = FraudSettings.objects.filter(merchant_id=merchant_id).first()
    if found is None:
        try:
            with transaction.atomic():
                found = FraudSettings.objects.create(merchant_id=merchant_id)
        except IntegrityError:
            found = FraudSettings.objects.get(merchant_id=merchant_id)
    return found


def update_settings(merchant, *, unreviewed_action: str, review_hours: int) -> FraudSettings:
    current = settings_of(merchant.pk)
    current.unreviewed_action = unreviewed_action
    current.review_hours = review_hours
    current.full_clean(exclude=["merchant"])
    current.save()
    return current


# --- reviews --------------------------------------------------------------------------------------


class ReviewError(Exception):
    pass


def review(decision_id: int, approve: bool, user=None, *, automatic: bool = False) -> Decision:
    """Approve (capture) or reject (void, fraud_suspected) a payment held for review, once.

    The Decision row is claimed first (compare-and-set on review_outcome) in the same transaction
    as the payment transition, so two reviewers, or a reviewer and the deadline, cannot both act.
    """
    if automatic:
        outcome = Decision.Review.AUTO_APPROVED if approve else Decision.Review.AUTO_REFUSED
    else:
        outcome = Decision.Review.APPROVED if approve else Decision.Review.REJECTED
    now = timezone.now()
    label = None
    with transaction.atomic():
        decision = Decision.objects.select_for_update().select_related("payment").get(pk=decision_id)
        if decision.review_outcome:
            if decision.review_outcome == outcome:
                return decision  # retried
            raise ReviewError("This payment has already been reviewed.")
        if decision.outcome != Decision.Outcome.REVIEW or decision.payment.status != Payment.Status.IN_REVIEW:
            raise ReviewError("This payment is not waiting for a review.")
        decision.review_outcome = outcome
        decision.reviewed_at = now
        decision.reviewed_by = user if user is not None and user.is_authenticated else None
        decision.save(update_fields=["review_outcome", "reviewed_at", "reviewed_by"])
        if approve:
            payments.accept(decision.payment_id)
        else:
            message = "The review was not completed in time." if automatic else None
            payments.refuse(decision.payment_id, "fraud_suspected", message)
        if not automatic:
            source = Label.Source.REVIEW_APPROVED if approve else Label.Source.REVIEW_REJECTED
            label = _add_label(decision.payment, source, is_fraud=not approve, at=now, user=decision.reviewed_by)
    if label is not None and label.is_fraud:
        transaction.on_commit(lambda: _feed_label(label.pk))
    return decision


def resolve_due_reviews(now: datetime | None = None, limit: int = 500) -> int:
    """Beat task body: unreviewed payments at their deadline get the merchant's chosen outcome."""
    now = now or timezone.now()
    due = Decision.objects.filter(
        outcome=Decision.Outcome.REVIEW, review_outcome="", review_action_at__lte=now
    ).values_list("pk", "merchant_id")[:limit]
    done = 0
    for decision_id, merchant_id in due:
        approve = settings_of(merchant_id).unreviewed_action == FraudSettings.Unreviewed.APPROVE
        try:
            review(decision_id, approve, automatic=True)
            done += 1
        except ReviewError:  # reviewed, aborted or expired meanwhile: nothing left to do
            Decision.objects.filter(pk=decision_id, review_outcome="").update(
                review_outcome=Decision.Review.AUTO_REFUSED if not approve else Decision.Review.AUTO_APPROVED,
                reviewed_at=now,
            )
    return done


# --- labels ---------------------------------------------------------------------------------------


def _add_label(payment: Payment, source: str, *, is_fraud: bool, at: datetime, user=None) -> Label | None:
    try:
        with transaction.atomic():
            return Label.objects.create(
                payment=payment,
                merchant_id=payment.merchant_id,
                is_live=payment.is_live,
                source=source,
                is_fraud=is_fraud,
                fraud_reported_at=at,
                created_by=user,
            )
    except IntegrityError:  # the same fact, told twice
        return None


def _feed_label(label_id: int) -> None:
    """A fraud label reaches the online store at its report time (merchant fraud rate, card history)."""
    label = Label.objects.select_related("payment").filter(pk=label_id).first()
    if label is None or not label.is_fraud:
        return
    already = Label.objects.filter(payment_id=label.payment_id, is_fraud=True, pk__lt=label.pk).exists()
    if already:
        return  # one fraud counted once per payment, whatever the number of sources
    tx = transaction_of(label.payment)
    try:
        FeaturePipeline(default_store()).label(tx, label.fraud_reported_at.timestamp())
    except STORE_ERRORS as error:
        logger.warning("fraud feature store unavailable, label %s not fed: %s", label.pk, error)


def report_fraud(payment: Payment, user=None, at: datetime | None = None) -> Label | None:
    """The merchant marks a payment as fraudulent (from the dashboard)."""
    label = _add_label(payment, Label.Source.MERCHANT, is_fraud=True, at=at or timezone.now(), user=user)
    if label is not None:
        transaction.on_commit(lambda: _feed_label(label.pk))
    return label


def record_dispute_lost(payment: Payment, at: datetime) -> Label | None:
    label = _add_label(payment, Label.Source.DISPUTE_LOST, is_fraud=True, at=at)
    if label is not None:
        transaction.on_commit(lambda: _feed_label(label.pk))
    return label


def record_decline(payment: Payment) -> None:
    """A declined attempt (payment.failed with an issuer-side code) counts in `*_declines_1d`."""
    if payment.failure_code not in DECLINE_CODES:
        return
    tx = transaction_of(payment)
    tx.time = timezone.now().timestamp()
    tx.id = f"{payment.public_id}:{payment.failed_attempts}"
    try:
        FeaturePipeline(default_store()).decline(tx)
    except STORE_ERRORS as error:
        logger.warning("fraud feature store unavailable, decline not recorded: %s", error)


# --- rule editing and dry runs --------------------------------------------------------------------


def _materialise_defaults(merchant, is_live: bool) -> None:
    """The first edit copies the shipped defaults into the merchant's own list."""
    if Rule.objects.for_tenant(merchant, is_live).exists():
        return
    for position, source in enumerate(rule_language.DEFAULT_RULES):
        Rule.objects.create(merchant=merchant, is_live=is_live, position=(position + 1) * 10, source=source)


def add_rule(merchant, is_live: bool, source: str, description: str = "") -> Rule:
    """Validate then append a rule. Raises django ValidationError naming the problem."""
    with transaction.atomic():
        rule = Rule(merchant=merchant, is_live=is_live, source=source.strip(), description=description)
        rule.clean()
        _materialise_defaults(merchant, is_live)
        last = Rule.objects.for_tenant(merchant, is_live).order_by("-position").first()
        rule.position = (last.position if last else 0) + 10
        rule.save()
    return rule


def update_rule(rule: Rule, *, source: str | None = None, is_enabled: bool | None = None) -> Rule:
    if source is not None:
        rule.source = source.strip()
    if is_enabled is not None:
        rule.is_enabled = is_enabled
    rule.save()
    return rule


def delete_rule(rule: Rule) -> None:
    rule.delete()


def move_rule(rule: Rule, up: bool) -> None:
    with transaction.atomic():
        rows = list(
            Rule.objects.for_tenant(rule.merchant_id, rule.is_live).select_for_update().order_by("position", "id")
        )
        index = next(i for i, r in enumerate(rows) if r.pk == rule.pk)
        other = index - 1 if up else index + 1
        if 0 <= other < len(rows):
            rows[index], rows[other] = rows[other], rows[index]
        for position, row in enumerate(rows):
            Rule.objects.filter(pk=row.pk).update(position=(position + 1) * 10)


def ensure_own_rules(merchant, is_live: bool) -> None:
    with transaction.atomic():
        _materialise_defaults(merchant, is_live)


@dataclass
class DryRun:
    rule: str
    action: str
    evaluated: int = 0
    matched: int = 0
    by_outcome: dict = field(default_factory=dict)
    known_fraud_matched: int = 0
    known_fraud_total: int = 0
    examples: list = field(default_factory=list)


def dry_run(merchant, is_live: bool, source: str, days: int = 30, now: datetime | None = None) -> DryRun:
    """What a new rule would have matched over the last `days` days of decisions (nothing changes)."""
    rule = rule_language.parse(source)
    now = now or timezone.now()
    result = DryRun(rule=rule.source, action=rule.action)
    fraud_ids = set(
        Label.objects.filter(merchant=merchant, is_live=is_live, is_fraud=True).values_list("payment_id", flat=True)
    )
    decisions = (
        Decision.objects.filter(merchant=merchant, is_live=is_live, created_at__gte=now - timedelta(days=days))
        .select_related("payment")
        .order_by("-created_at")
    )
    for decision in decisions.iterator(chunk_size=2000):
        context = dict(decision.features or {})
        context.setdefault("score", decision.score)
        result.evaluated += 1
        is_fraud = decision.payment_id in fraud_ids
        result.known_fraud_total += is_fraud
        if rule.matches(context):
            result.matched += 1
            result.by_outcome[decision.outcome] = result.by_outcome.get(decision.outcome, 0) + 1
            result.known_fraud_matched += is_fraud
            if len(result.examples) < 10:
                result.examples.append(decision)
    return result


# --- lists ----------------------------------------------------------------------------------------


def normalise_list_value(kind: str, value: str) -> str:
    """Canonical form of a list value; raises ValueError with a readable message."""
    value = (value or "").strip()
    if not value:
        raise ValueError(_("Enter a value."))
    if kind == ListEntry.Kind.EMAIL:
        if "@" not in value:
            raise ValueError(_("Enter an email address."))
        return value.lower()
    if kind == ListEntry.Kind.IP:
        try:
            return str(ipaddress.ip_address(value))
        except ValueError:
            raise ValueError(_("Enter an IPv4 or IPv6 address.")) from None
    if kind == ListEntry.Kind.COUNTRY:
        if len(value) != 2 or not value.isalpha():
            raise ValueError(_("Enter a two-letter country code (ISO 3166-1), e.g. FR."))
        return value.upper()
    if kind == ListEntry.Kind.BIN:
        if not value.isdigit() or not 6 <= len(value) <= 8:
            raise ValueError(_("Enter the first 6 to 8 digits of the card number."))
        return value
    if kind == ListEntry.Kind.CARD:
        if not all(c in "0123456789abcdef" for c in value.lower()) or len(value) < 16:
            raise ValueError(_("Enter a card fingerprint (shown on the payment's risk panel)."))
        return value.lower()
    raise ValueError(_("Unknown list kind."))


def add_list_entry(merchant, is_live: bool, list_name: str, kind: str, value: str, note: str = "", user=None):
    value = normalise_list_value(kind, value)
    entry, _ = ListEntry.objects.get_or_create(
        merchant=merchant,
        is_live=is_live,
        list=list_name,
        kind=kind,
        value=value,
        defaults={"note": note, "created_by": user if user is not None and user.is_authenticated else None},
    )
    return entry


# --- model versions -------------------------------------------------------------------------------


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
