"""Dashboard amounts follow the active language, with the formatter of the hosted payment pages
(payments.amounts.format_amount, through models.format_money and the `money` template filter).

The API keeps integer cents and the CSV export stays machine-readable, whatever the language.
"""

import csv
import io
from datetime import timedelta

import pytest
from django.db import transaction
from django.template import Context, Template
from django.urls import reverse
from django.utils import timezone, translation

from payments import amounts
from payments.amounts import format_money
from payments.dashboard import queries
from payments.models import Payment, PaymentLink
from payments.money import ledger
from payments.templatetags.money import bps_percent, money

from .helpers import create_payment, pay

NBSP = "\u00a0"
LANGUAGES = ["en", "fr", "it", "es"]
# 1234.56 EUR, as a reader of each language expects it (Django's number formats of the language).
EXPECTED = {
    "en": "€1,234.56",
    "fr": f"1{NBSP}234,56{NBSP}€",
    "it": f"1.234,56{NBSP}€",
    "es": f"1{NBSP}234,56{NBSP}€",
}


@pytest.fixture(autouse=True)
def _default_language_afterwards():
    yield
    translation.deactivate()


def browser(lang):
    return {"accept-language": lang}


def make_payment(merchant, amount=123456, **fields):
    now = timezone.now()
    return Payment.objects.create(
        merchant=merchant,
        is_live=False,
        amount=amount,
        status=fields.pop("status", Payment.Status.PAID),
        expires_at=now + timedelta(hours=1),
        billing={"email": "buyer@example.org"},
        billing_email="buyer@example.org",
        metadata={},
        **fields,
    )


# --- the formatter --------------------------------------------------------------------------


@pytest.mark.parametrize("lang", LANGUAGES)
def test_format_money_follows_the_active_language(lang):
    with translation.override(lang):
        assert format_money(123456, "EUR") == EXPECTED[lang]


@pytest.mark.parametrize("lang", LANGUAGES)
def test_format_money_is_the_checkout_formatter(lang):
    for cents in (0, 5, 99, 100, 2500, 123456, 123456789):
        assert format_money(cents, "EUR", lang) == amounts.format_amount(cents, "EUR", lang)


def test_small_and_round_amounts():
    assert format_money(5, "EUR", "en") == "€0.05"
    assert format_money(0, "EUR", "fr") == f"0,00{NBSP}€"
    assert format_money(2500, "EUR", "it") == f"25,00{NBSP}€"
    assert format_money(100000000, "EUR", "en") == "€1,000,000.00"


def test_negative_amounts_put_the_sign_in_front():
    assert format_money(-1250, "EUR", "en") == "-€12.50"
    assert format_money(-123456, "EUR", "fr") == f"-1{NBSP}234,56{NBSP}€"


def test_an_explicit_language_wins_over_the_active_one():
    with translation.override("fr"):
        assert format_money(123456, "EUR", "en") == "€1,234.56"


@pytest.mark.parametrize("lang", LANGUAGES)
def test_the_money_filter_formats_cents_in_the_active_language(lang):
    template = Template("{% load money %}[{{ cents|money }}][{{ missing|money }}][{{ minus|money }}]")

    with translation.override(lang):
        rendered = template.render(Context({"cents": 123456, "minus": -123456}))

    assert rendered == f"[{EXPECTED[lang]}][][-{EXPECTED[lang]}]"


def test_the_money_filter_reads_strings_of_cents():
    with translation.override("en"):
        assert money("2500") == "€25.00"
        assert money(None) == money("") == ""


@pytest.mark.parametrize(("lang", "expected"), [("en", "1.40 %"), ("fr", "1,40 %"), ("it", "1,40 %"), ("es", "1,40 %")])
def test_fee_percentages_follow_the_language(lang, expected):
    with translation.override(lang):
        assert bps_percent(140) == expected
        assert bps_percent(None) == ("0.00 %" if lang == "en" else "0,00 %")


# --- dashboard pages ----------------------------------------------------------------------------


@pytest.mark.parametrize("lang", LANGUAGES)
def test_the_payment_list_and_detail_show_localized_amounts(alice_client, merchant_a, lang):
    payment = make_payment(merchant_a)

    listing = alice_client.get(reverse("dashboard:payments"), headers=browser(lang)).content.decode()
    detail = alice_client.get(reverse("dashboard:payment", args=[payment.public_id]), headers=browser(lang))

    assert EXPECTED[lang] in listing
    assert EXPECTED[lang] in detail.content.decode()
    assert "1234.56 EUR" not in listing and "1,234.56 EUR" not in listing


@pytest.mark.parametrize("lang", LANGUAGES)
def test_the_refund_confirmation_shows_the_amount_in_the_language(alice_client, merchant_a, lang):
    # A payment that can really be refunded: paid, its capture on the ledger (the page checks both).
    payment = make_payment(merchant_a, paid_at=timezone.now())
    with transaction.atomic():
        ledger.post_capture(payment, payment.paid_at)

    page = alice_client.get(reverse("dashboard:payment_refund", args=[payment.public_id]), headers=browser(lang))

    content = page.content.decode()
    assert page.status_code == 200
    assert content.count(EXPECTED[lang]) >= 2  # "Paid ..." and "Refund ... to the shopper's card?"
    assert " EUR" not in content


def test_the_chosen_language_cookie_decides_the_format(alice_client, merchant_a):
    make_payment(merchant_a)
    alice_client.post(reverse("set_language"), {"language": "fr", "next": "/dashboard/"})

    listing = alice_client.get(reverse("dashboard:payments"), headers=browser("en")).content.decode()

    assert EXPECTED["fr"] in listing


@pytest.mark.parametrize("lang", LANGUAGES)
def test_payment_links_show_localized_amounts(alice_client, merchant_a, lang):
    link = PaymentLink.objects.create(merchant=merchant_a, is_live=False, description="Membership", amount=123456)

    listing = alice_client.get(reverse("dashboard:links"), headers=browser(lang)).content.decode()
    detail = alice_client.get(reverse("dashboard:link", args=[link.public_id]), headers=browser(lang))

    assert EXPECTED[lang] in listing
    assert EXPECTED[lang] in detail.content.decode()


@pytest.mark.parametrize(("lang", "pending"), [("en", "€32.29"), ("fr", f"32,29{NBSP}€"), ("es", f"32,29{NBSP}€")])
def test_the_balance_page_shows_localized_balances(api, alice_client, lang, pending):
    pay(create_payment(api))  # 33.00 EUR paid, less the 1.40 % + 0.25 EUR fee

    page = alice_client.get(reverse("dashboard:balance"), headers=browser(lang)).content.decode()

    assert f'id="balance-pending">{pending}<' in page


# --- what machines read stays as it was -----------------------------------------------------------


@pytest.mark.parametrize("lang", ["fr", "it"])
def test_the_api_keeps_integer_cents(api, lang):
    payment = create_payment(api, amount=123456)

    response = api.get(f"/v1/payments/{payment['id']}", headers={"Accept-Language": lang})

    body = response.json()
    assert body["amount"] == 123456 and isinstance(body["amount"], int)
    assert body["amount_refunded"] == 0


def test_the_csv_export_keeps_decimal_euros_in_french(alice_client, merchant_a):
    make_payment(merchant_a)

    response = alice_client.get(reverse("dashboard:payments_export"), headers=browser("fr"))

    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    header, (row,) = rows[0], rows[1:]
    assert header == queries.EXPORT_COLUMNS
    assert row[header.index("amount")] == "1234.56"  # decimal euros with a dot (issue 12, finding 16)
    assert row[header.index("amount_refunded")] == "0.00"
    assert row[header.index("currency")] == "EUR"
