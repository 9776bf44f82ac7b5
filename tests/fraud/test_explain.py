"""Issue 12, finding 19: the fraud panel explains a score in the merchant's words: a translated
label for every feature, a sentence per top reason, the card as "seen on N payments" (never its
hex fingerprint) and the built-in model by a translated name."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.functional import Promise

from fraud import explain
from fraud.features import FEATURE_NAMES
from fraud.models import Decision
from payments.models import Payment

FINGERPRINT = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"


def test_every_feature_has_a_translated_label():
    missing = [name for name in FEATURE_NAMES if name not in explain.FEATURE_LABELS]

    assert not missing, f"features without a label in fraud/explain.py: {missing}"
    for name in FEATURE_NAMES:
        label = explain.FEATURE_LABELS[name]
        assert isinstance(label, Promise), f"{name}: the label must be marked for translation (gettext_lazy)"
        assert "_" not in str(label), f"{name}: the label reads like a feature name: {label}"


def test_the_sandbox_reason_has_a_label_too():
    assert "sandbox_fraud_card" in explain.FEATURE_LABELS


def test_a_first_payment_with_an_email_reads_as_a_sentence():
    (reason,) = explain.reasons([{"feature": "email_count_30d", "value": 0.0, "contribution": 1.9086}])

    assert reason["text"] == "First payment with this email in the last 30 days"
    assert "raises" in str(reason["effect"])
    assert "email_count_30d" not in str(reason) and "1.9086" not in str(reason)


def test_values_are_shown_in_people_units():
    amount, ratio, missing = explain.reasons(
        [
            {"feature": "amount", "value": 89.0, "contribution": 0.8},
            {"feature": "card_amount_ratio_30d", "value": 3.2, "contribution": 0.5},
            {"feature": "card_hours_since_previous", "value": None, "contribution": 0.1},
        ]
    )

    assert "89.00" in amount["text"] and "€" in amount["text"]
    assert "3.2" in ratio["text"]
    assert "_" not in missing["text"] and "None" not in missing["text"]


def test_the_built_in_model_has_a_translated_name():
    assert str(explain.model_label("default")) == "Built-in model"
    assert str(explain.model_label("gbt-2026-01-02")) == "gbt-2026-01-02"
    with translation.override("fr"):
        assert str(explain.model_label("")) == "—"


@pytest.mark.django_db
def test_the_risk_panel_shows_no_feature_name_nor_fingerprint(alice_client, merchant_a):
    now = timezone.now()
    payments = [
        Payment.objects.create(
            merchant=merchant_a,
            is_live=False,
            amount=8900,
            status=Payment.Status.PAID,
            expires_at=now + timedelta(hours=1),
            card_fingerprint=FINGERPRINT,
            card_last4="4242",
            card_brand="Visa",
        )
        for _ in range(3)
    ]
    payment = payments[-1]
    Decision.objects.create(
        payment=payment,
        merchant=merchant_a,
        is_live=False,
        score=72,
        outcome=Decision.Outcome.CAPTURE,
        model_version="default",
        features={"card_count_30d": 2.0, "email_count_30d": 0.0},
        reasons=[
            {"feature": "email_count_30d", "value": 0.0, "contribution": 1.9086},
            {"feature": "card_ip_country_mismatch", "value": 1.0, "contribution": 0.4321},
        ],
    )

    html = alice_client.get(reverse("dashboard:payment", args=[payment.public_id])).content.decode()

    assert "email_count_30d" not in html and "card_ip_country_mismatch" not in html
    assert "1.9086" not in html
    assert FINGERPRINT[:12] not in html and FINGERPRINT[-12:] not in html
    assert "First payment with this email in the last 30 days" in html
    assert "Seen on 3 payments in the last 30 days" in html
    assert "Built-in model" in html and ">default<" not in html


@pytest.mark.django_db
def test_the_fraud_pages_name_the_built_in_model(alice_client):
    overview = alice_client.get(reverse("dashboard:fraud")).content.decode()
    models = alice_client.get(reverse("dashboard:fraud_models")).content.decode()

    assert "Model in use: Built-in model." in overview
    assert "Built-in model" in models and ">default<" not in models


def test_outcomes_read_as_what_happened():
    assert str(explain.outcome_label("capture")) == "Accepted"
    assert str(explain.outcome_label("refuse")) == "Refused"
