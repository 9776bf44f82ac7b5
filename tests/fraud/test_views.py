"""Dashboard pages of the fraud app: overview, queue, rules editor (validation, dry run), models."""

import re

import pytest
from django.urls import reverse
from django.utils import timezone

from fraud import rules as rule_language
from fraud.models import Decision, ListEntry, Rule
from fraud.services import reviews
from merchants.models import Membership
from payments.models import Payment
from tests import factories
from tests.fraud.test_decisions import paid  # noqa: F401  (documentation: the dry run uses rows of that shape)

pytestmark = pytest.mark.django_db


def test_the_pages_render(alice_client):
    for name in ("fraud", "fraud_reviews", "fraud_rules", "fraud_models"):
        response = alice_client.get(reverse(f"dashboard:{name}"))
        assert response.status_code == 200, name
    overview = alice_client.get(reverse("dashboard:fraud")).content.decode()
    assert "<svg" in overview
    assert not re.search(r"<script(?![^>]*\bsrc=)", overview), "no inline script (strict CSP)"
    assert "style=" not in overview


def test_the_nav_shows_fraud(alice_client):
    assert reverse("dashboard:fraud") in alice_client.get(reverse("dashboard:home")).content.decode()


def test_an_accountant_does_not_see_fraud(client, merchant_a):
    client.force_login(factories.member(merchant_a, "acc@example.org", Membership.Role.ACCOUNTANT))

    assert client.get(reverse("dashboard:fraud")).status_code == 403


def test_the_defaults_are_shown_until_the_merchant_edits(alice_client, merchant_a):
    page = alice_client.get(reverse("dashboard:fraud_rules")).content.decode()

    assert "block if score &gt;= 90" in page
    assert not Rule.objects.exists()


def test_adding_a_valid_rule_copies_the_defaults_then_appends(alice_client, merchant_a):
    response = alice_client.post(
        reverse("dashboard:fraud_rules"),
        {"action": "add_rule", "rule-source": "review if amount > 500", "rule-description": "big"},
    )

    assert response.status_code == 302
    sources = list(Rule.objects.for_tenant(merchant_a, False).values_list("source", flat=True))
    assert sources[-1] == "review if amount > 500"
    assert len(sources) == len(rule_language.DEFAULT_RULES) + 1


def test_an_invalid_rule_is_explained_and_not_saved(alice_client):
    response = alice_client.post(
        reverse("dashboard:fraud_rules"), {"action": "add_rule", "rule-source": "review if amout > 500"}
    )

    assert response.status_code == 200
    page = response.content.decode()
    assert "unknown name" in page and "amout" in page and "position 11" in page
    assert not Rule.objects.exists()


def test_a_support_member_cannot_change_rules(client, merchant_a):
    client.force_login(factories.member(merchant_a, "sup@example.org", Membership.Role.SUPPORT))

    response = client.post(
        reverse("dashboard:fraud_rules"), {"action": "add_rule", "rule-source": "block if score > 1"}
    )

    assert response.status_code == 403
    assert not Rule.objects.exists()


def test_the_dry_run_counts_matches_over_30_days(alice_client, merchant_a):
    for score in (10, 50, 95):
        payment = _payment(merchant_a)
        Decision.objects.create(payment=payment, merchant=merchant_a, is_live=False, score=score, outcome="capture",
                                features={"score": score, "amount": 20.0})  # fmt: skip

    response = alice_client.post(
        reverse("dashboard:fraud_rules"), {"action": "dry_run", "dry-source": "block if score > 40"}
    )

    assert "matches 2 of 3 payments" in response.content.decode()
    assert not Rule.objects.exists()


def test_list_entries_are_validated(alice_client, merchant_a):
    bad = alice_client.post(
        reverse("dashboard:fraud_rules"),
        {"action": "add_entry", "list-list": "block", "list-kind": "country", "list-value": "France"},
    )
    assert "two-letter country code" in bad.content.decode()

    alice_client.post(
        reverse("dashboard:fraud_rules"),
        {"action": "add_entry", "list-list": "block", "list-kind": "country", "list-value": "ng"},
    )
    assert ListEntry.objects.get().value == "NG"


def test_review_settings_are_saved(alice_client, merchant_a):
    alice_client.post(
        reverse("dashboard:fraud_rules"),
        {"action": "settings", "settings-unreviewed_action": "approve", "settings-review_hours": "12"},
    )

    settings = reviews.settings_of(merchant_a.pk)
    assert (settings.unreviewed_action, settings.review_hours) == ("approve", 12)


def _payment(merchant):
    now = timezone.now()
    return Payment.objects.create(merchant=merchant, is_live=False, amount=2000, expires_at=now, status="paid")
