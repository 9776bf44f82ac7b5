"""The rule language: parsing, evaluation, and errors that name the problem and its position."""

import pytest
from django.core.exceptions import ValidationError

from fraud import rules
from fraud.models import Rule
from fraud.rules import RuleError, parse


def context(**values):
    base = {"score": 10, "amount": 50.0, "card_country": "FR", "ip_country": "FR", "billing_country": "FR"}
    base.update(values)
    return base


def test_score_threshold_matches_above_it():
    rule = parse("block if score > 80")

    assert rule.action == "block"
    assert rule.matches(context(score=81))
    assert not rule.matches(context(score=80))


def test_country_mismatch_and_amount():
    rule = parse("review if card_country != ip_country and amount > 200")

    assert rule.matches(context(ip_country="NG", amount=250.0))
    assert not rule.matches(context(ip_country="NG", amount=150.0))
    assert not rule.matches(context(amount=250.0))


def test_an_unknown_value_never_matches_a_comparison():
    rule = parse("review if card_country != ip_country")

    assert not rule.matches(context(ip_country=None))


def test_precedence_and_parentheses():
    assert parse("block if score > 50 or amount > 100 and score > 90").matches(context(score=60, amount=10))
    assert not parse("block if (score > 50 or amount > 100) and score > 90").matches(context(score=60, amount=10))


def test_not_in_lists_and_arithmetic():
    assert parse('review if ip_country in ("NG", "RU")').matches(context(ip_country="RU"))
    assert parse('review if not ip_country in ("NG", "RU")').matches(context(ip_country="FR"))
    assert parse('review if ip_country not in ("NG")').matches(context(ip_country="FR"))
    assert parse("review if amount > 3 * card_mean_30d").matches(context(amount=100.0, card_mean_30d=20.0))
    assert not parse("review if amount > 3 * card_mean_30d").matches(context(amount=100.0, card_mean_30d=None))
    assert not parse("review if amount / card_count_30d > 1").matches(context(card_count_30d=0))


def test_booleans():
    assert parse("allow if is_3ds == true and score < 50").matches(context(is_3ds=True))


def test_rules_are_evaluated_in_order_first_match_wins():
    ordered = [parse("allow if amount < 10"), parse("block if score > 50"), parse("review if score > 20")]

    assert rules.evaluate(ordered, context(amount=5.0, score=99)).action == "allow"
    assert rules.evaluate(ordered, context(score=60)) == rules.Verdict("block", "block if score > 50")
    assert rules.evaluate(ordered, context(score=1)).action == ""


@pytest.mark.parametrize(
    ("source", "position", "fragment"),
    [
        ("deny if score > 80", 1, "starts with block, review or allow"),
        ("block score > 80", 7, "'if'"),
        ("block if scor > 80", 10, "did you mean score"),
        ("block if score > ", 17, "end of rule"),
        ("block if score = 80", 16, "'=='"),
        ("block if score > 80 and", 24, "end of rule"),
        ("block if score > 80 80", 21, "expected 'and', 'or'"),
        ('block if card_country > "FR"', 23, "compares numbers"),
        ("block if card_country == 3", 23, "cannot compare a string with a number"),
        ("block if amount", 10, "must be true or false"),
        ("block if score > 80 @", 21, "unexpected character"),
        ('block if ip_country == "FR', 24, "unterminated string"),
        ("block if __import__ > 1", 10, "unknown name"),
        ("block if (score > 1", 20, "')'"),
    ],
)
def test_errors_name_the_position_and_the_problem(source, position, fragment):
    with pytest.raises(RuleError) as caught:
        parse(source)

    assert caught.value.position == position
    assert fragment in str(caught.value)
    assert f"position {position}" in str(caught.value)


def test_deep_nesting_is_refused():
    with pytest.raises(RuleError):
        parse("block if " + "(" * 100 + "score > 1" + ")" * 100)


def test_the_shipped_default_rules_parse():
    for source in rules.DEFAULT_RULES:
        parse(source)


@pytest.mark.django_db
def test_a_rule_is_validated_on_save(merchant_a):
    with pytest.raises(ValidationError) as caught:
        Rule.objects.create(merchant=merchant_a, is_live=False, source="block if scroe > 80")

    assert "scroe" in str(caught.value)
    assert not Rule.objects.exists()
    Rule.objects.create(merchant=merchant_a, is_live=False, source="block if score > 80")
    assert Rule.objects.count() == 1
