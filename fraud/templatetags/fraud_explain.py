"""The fraud panel's words: `{{ decision.reasons|fraud_reasons }}`, `{{ name|fraud_model }}`,
`{{ decision|card_seen }}` and `{{ fingerprint|masked_fingerprint }}` (fraud.explain)."""

from django import template

from fraud import explain

register = template.Library()


@register.filter
def fraud_reasons(raw):
    return explain.reasons(raw)


@register.filter
def fraud_model(name):
    return explain.model_label(name)


@register.filter
def card_seen(decision):
    return explain.card_seen(decision.features if decision is not None else None)


@register.filter
def masked_fingerprint(fingerprint):
    return explain.masked_fingerprint(fingerprint)


@register.filter
def fraud_outcome(outcome):
    return explain.outcome_label(outcome)
