"""The merchant's own fraud rules (add, edit, move, delete) and dry runs over past decisions.

A merchant starts on the shipped defaults (fraud.rules.DEFAULT_RULES); the first edit copies them
into its own ordered list, per mode.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from fraud import rules as rule_language
from fraud.models import Decision, Label, Rule


def _materialise_defaults(merchant, is_live: bool) -> None:
    """The first edit copies the shipped defaults into the merchant's own list."""
    if Rule.objects.for_tenant(merchant, is_live).exists():
        return
    for position, source in enumerate(rule_language.DEFAULT_RULES):
        Rule.objects.create(merchant=merchant, is_live=is_live, position=(position + 1) * 10, source=source)


def add_rule(merchant, is_live: bool, source: str, description: str = "") -> Rule:
    """Validate then append a rule. Raises django ValidationError naming the problem: a rule that
    does not parse, or one with a threshold no payment can reach (fraud.rules.never_true)."""
    with transaction.atomic():
        rule = Rule(merchant=merchant, is_live=is_live, source=source.strip(), description=description)
        rule.clean()
        problems = rule_language.never_true(rule_language.parse(rule.source))
        if problems:
            raise ValidationError({"source": [str(problem) for problem in problems]})
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
