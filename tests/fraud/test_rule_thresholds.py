"""Rules read amounts in euros, and say so (issue 12, finding 16): `review if amount > 6000` holds a
payment above €6,000.00, the form states the unit, and a rule whose threshold can never match (an
amount above the platform's maximum or below zero, a score above 100, a feature outside its
range) is refused when saved, next to the field, with the reason."""

import pytest
from django.urls import reverse

from fraud import rules as rule_language
from fraud.forms import RuleForm
from fraud.models import Decision, Rule
from fraud.services import rule_editing
from payments import amounts
from payments.models import Payment
from tests.fraud.test_decisions import paid

pytestmark = pytest.mark.django_db


@pytest.fixture
def _commits(transactional_db):
    return


@pytest.mark.usefixtures("_commits")
@pytest.mark.parametrize(("cents", "held"), [(600_001, True), (600_000, False), (6_000, False)])
def test_amount_above_6000_holds_a_payment_above_6000_euros(api, merchant_a, cents, held):
    Rule.objects.create(merchant=merchant_a, is_live=False, position=1, source="review if amount > 6000")

    payment = paid(api, amount=cents)

    decision = Decision.objects.get(payment=payment)
    assert (decision.rule == "review if amount > 6000") is held
    assert (payment.status == Payment.Status.IN_REVIEW) is held


def test_the_rule_field_says_amounts_are_in_euros(alice_client):
    page = alice_client.get(reverse("dashboard:fraud_rules")).content.decode()

    help_text = page.split('id="id_rule-source_helptext"', 1)[1].split("</p>", 1)[0]
    assert "euros" in help_text and "€60.00" in help_text


@pytest.mark.parametrize(
    ("source", "reason"),
    [
        ("review if amount > 25000", "€20,000.00"),  # above the platform's maximum (amounts.MAX_AMOUNT)
        ("review if amount >= 20000.01", "€20,000.00"),
        ("review if amount == 30000", "€20,000.00"),
        ("block if amount < 0", "€0.99"),
        ("block if amount <= -5", "€0.99"),
        ("review if 25000 < amount", "€20,000.00"),  # written the other way round
        ("block if score > 100", "100"),
        ("block if score >= 101 or amount > 50", "100"),  # a dead comparison inside an `or`
        ("review if score < 0", "0"),
        ("review if hour >= 24", "23"),
        ("review if card_count_30d < 0", "0"),
        ("review if card_ip_country_mismatch > 1", "1"),
        ("review if card_fraud_share_30d > 1", "1"),
    ],
)
def test_a_threshold_that_can_never_match_is_refused_with_the_reason(alice_client, merchant_a, source, reason):
    response = alice_client.post(reverse("dashboard:fraud_rules"), {"action": "add_rule", "rule-source": source})

    assert response.status_code == 200
    page = response.content.decode()
    errors = page.split('id="id_rule-source"', 1)[1].split("</div>", 1)[0]
    assert 'class="error"' in errors and "never" in errors and reason in errors, errors
    assert not Rule.objects.exists()


@pytest.mark.parametrize(
    "source",
    [
        "review if amount > 6000",
        "review if amount >= 20000",
        "review if amount > 0.5",
        "block if score >= 100",
        "review if score > 0",
        "review if card_amount_zscore_30d < -2",  # a z-score may be negative
        "review if amount > 3 * card_mean_30d",
        "review if hour >= 23",
        "allow if amount != 30000",
        "review if merchant_fraud_rate_30d > 1",  # reports over recent payments: may exceed 1
    ],
)
def test_possible_thresholds_are_accepted(source):
    form = RuleForm({"source": source})

    assert form.is_valid(), form.errors


def test_the_service_refuses_it_too(merchant_a):
    with pytest.raises(Exception, match="never"):
        rule_editing.add_rule(merchant_a, False, "review if amount > 25000")
    assert not Rule.objects.exists()


def test_a_saved_rule_that_can_never_match_is_flagged_in_the_list(alice_client, merchant_a):
    Rule.objects.create(merchant=merchant_a, is_live=False, position=10, source="block if score > 40")
    # Saved before the check existed: kept as it was (same meaning), but flagged.
    Rule.objects.bulk_create([Rule(merchant=merchant_a, is_live=False, position=20, source="review if amount > 50000")])

    page = alice_client.get(reverse("dashboard:fraud_rules")).content.decode()

    item = page.split("review if amount &gt; 50000", 1)[1].split("</li>", 1)[0]
    assert "never" in item and "€20,000.00" in item
    assert Rule.objects.filter(source="review if amount > 50000").exists()


def test_the_platform_maximum_is_what_the_check_uses():
    (problem,) = rule_language.never_true(rule_language.parse("review if amount > 25000"))

    assert amounts.format_money(amounts.MAX_AMOUNT, "EUR") in problem.message
    assert problem.position == len("review if amount ") + 1
