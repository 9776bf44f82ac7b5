"""The rules page: why a saved rule cannot work (`{{ rule.source|rule_problems }}`).

A rule saved before its threshold was checked keeps its meaning (it is evaluated as written), and
the page says why it never matches (fraud.rules.never_true), next to it.
"""

from django import template

from fraud import rules as rule_language

register = template.Library()


@register.filter
def rule_problems(source: str) -> list[str]:
    return rule_language.problems_of(source or "")
