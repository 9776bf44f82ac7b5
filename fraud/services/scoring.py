"""Fraud decisions after authorisation (architecture, flow step 4): the model and rules in force.

decide(payment): features (fraud.features, from the online store) -> model score and top features
(fraud.model) -> sandbox override, then allow/block lists, then the merchant's ordered rules
(fraud.rules) -> capture, review or refuse, carried out through payments.services. The Decision
row is the lock: a redelivered task finds it and only carries it out again (payments.services
ignores a transition that already happened), so a payment is decided once.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field
from datetime import timedelta

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from fraud import model as fraud_model
from fraud import rules as rule_language
from fraud.features import FeaturePipeline, Transaction, as_dict, build_features, default_store
from fraud.models import Decision, ListEntry, ModelVersion, Rule
from fraud.services.reviews import REVIEW_MARGIN, settings_of
from fraud.services.transactions import STORE_ERRORS, card_bin, is_sandbox_fraud_card, transaction_of
from payments import services as payments
from payments.models import Payment
from payplug.metrics import FRAUD_DECISIONS

logger = logging.getLogger(__name__)
SANDBOX_RULE = "sandbox fraud test card"
ACTION_OUTCOME = {
    "block": Decision.Outcome.REFUSE,
    "review": Decision.Outcome.REVIEW,
    "allow": Decision.Outcome.CAPTURE,
}


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
