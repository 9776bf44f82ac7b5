"""The pay button's options (issue 12, finding 15): settings kept across the page's two forms and
per merchant and mode, the organisation's brand colour with readable text, and the donor's name
and email asked for, checked by the endpoint and used for the receipt."""

import html
import json
import re

import pytest
from django.core import mail
from django.core.cache import cache
from django.test import Client
from django.urls import reverse

from merchants.models import Merchant
from payments import display
from payments.models import Payment
from tests import factories
from tests.csp import assert_no_inline_script_or_style
from tests.merchants.helpers_team import login
from tests.payments.helpers import pay

pytestmark = pytest.mark.django_db

ORIGIN = "https://asso.example.org"
PAGE = reverse("dashboard:paybutton")


@pytest.fixture(autouse=True)
def _clean_cache():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def pk(merchant_a):
    Merchant.objects.filter(pk=merchant_a.pk).update(allowed_origins=[ORIGIN])
    return factories.publishable_key(merchant_a)


def post(key, body, origin=ORIGIN):
    return Client().post(
        f"/pay/button/{key}/", json.dumps(body), content_type="application/json", headers={"origin": origin}
    )


def snippet_of(response) -> str:
    match = re.search(r'<code id="snippet">(.*?)</code>', response.content.decode(), re.S)
    assert match, "no snippet on the page"
    return html.unescape(match.group(1))


BUTTON = {
    "action": "button",
    "amount_type": "fixed",
    "amount": "25,50",
    "label": "Adhérer",
    "description": "Adhésion 2027",
    "language": "fr",
    "collect_name": "required",
    "collect_email": "required",
}


# --- settings kept --------------------------------------------------------------------------------------


def test_saved_button_settings_are_shown_again(alice_client, merchant_a):
    response = alice_client.post(PAGE, BUTTON)
    assert response.status_code == 302

    snippet = snippet_of(alice_client.get(PAGE))

    assert 'data-amount="2550"' in snippet
    assert 'data-label="Adhérer"' in snippet and 'data-description="Adhésion 2027"' in snippet
    assert 'data-language="fr"' in snippet
    assert 'data-name="required"' in snippet and 'data-email="required"' in snippet


def test_saving_the_allowed_websites_keeps_the_button_settings(alice_client, merchant_a):
    alice_client.post(PAGE, BUTTON)

    response = alice_client.post(PAGE, {"action": "origins", "origins": "https://www.asso.org"})
    assert response.status_code == 302
    merchant_a.refresh_from_db()
    assert merchant_a.allowed_origins == ["https://www.asso.org"]

    snippet = snippet_of(alice_client.get(PAGE))
    assert 'data-amount="2550"' in snippet and 'data-amount="1000"' not in snippet
    assert 'data-label="Adhérer"' in snippet


def test_the_origins_form_carries_the_settings_being_tried(alice_client, merchant_a):
    """Settings tried in the builder (a GET, without saving) travel with the origins form and are kept."""
    page = alice_client.get(
        PAGE, {"amount_type": "free", "min_amount": "5", "max_amount": "50", "label": "Faire un don"}
    ).content.decode()
    carried = dict(re.findall(r'<input type="hidden" name="(carry-[a-z_]+)" value="([^"]*)"', page))
    assert carried["carry-amount_type"] == "free" and carried["carry-label"] == "Faire un don"

    response = alice_client.post(PAGE, {"action": "origins", "origins": "https://www.asso.org", **carried})
    assert response.status_code == 302

    snippet = snippet_of(alice_client.get(PAGE))
    assert 'data-amount="free"' in snippet and 'data-min="500"' in snippet and 'data-max="5000"' in snippet
    assert 'data-label="Faire un don"' in snippet


def test_settings_are_kept_per_merchant_and_mode(client, alice):
    merchant = factories.live_merchant("Alice Live", owner=alice)
    factories.publishable_key(merchant, is_live=True)
    login(client, alice, merchant=merchant, live=False)
    client.post(PAGE, BUTTON)

    login(client, alice, merchant=merchant, live=True)
    assert 'data-amount="1000"' in snippet_of(client.get(PAGE))  # live mode has its own settings
    client.post(PAGE, {**BUTTON, "amount": "40"})
    assert 'data-amount="4000"' in snippet_of(client.get(PAGE))

    login(client, alice, merchant=merchant, live=False)
    assert 'data-amount="2550"' in snippet_of(client.get(PAGE))


def test_a_get_preview_saves_nothing(alice_client, merchant_a):
    alice_client.post(PAGE, BUTTON)

    assert 'data-amount="700"' in snippet_of(alice_client.get(PAGE, {"amount": "7"}))
    assert 'data-amount="2550"' in snippet_of(alice_client.get(PAGE))


def test_invalid_button_settings_are_shown_and_not_saved(alice_client, merchant_a):
    response = alice_client.post(PAGE, {**BUTTON, "amount": "douze"})

    assert response.status_code == 200
    assert "Enter an amount such as 25 or 25.50." in response.content.decode()
    assert 'data-amount="1000"' in snippet_of(alice_client.get(PAGE))


# --- brand colour -----------------------------------------------------------------------------------------


def test_the_snippet_and_the_preview_use_the_brand_colour_with_readable_text(alice_client, merchant_a):
    Merchant.objects.filter(pk=merchant_a.pk).update(brand_color="#ffcc00")

    response = alice_client.get(PAGE)
    snippet = snippet_of(response)

    assert 'data-color="#ffcc00"' in snippet
    text = re.search(r'data-text-color="(#[0-9a-f]{6})"', snippet).group(1)
    assert display.contrast("#ffcc00", text) >= 4.5
    preview = re.search(r'<div id="button-preview"[^>]*>', response.content.decode()).group(0)
    assert 'data-color="#ffcc00"' in preview and f'data-text-color="{text}"' in preview
    assert_no_inline_script_or_style(response.content.decode())


@pytest.mark.parametrize("colour", ["#ff0000", "#7a7a7a", "#7f7f7f", "#808080", "#ffcc00", "#1f5fbf", "#000000"])
def test_text_on_any_brand_colour_reaches_4_5_to_1(colour):
    palette = display.brand_palette(colour)

    assert palette["on_accent"] in ("#ffffff", "#111827", "#000000")
    assert display.contrast(palette["accent"], palette["on_accent"]) >= 4.5


def test_the_hosted_page_a_button_opens_uses_the_brand_colour(pk, merchant_a):
    Merchant.objects.filter(pk=merchant_a.pk).update(brand_color="#ff0000")
    url = post(pk, {"amount": 1500}).json()["payment_url"]
    page = Client().get(re.sub(r"^https?://[^/]+", "", url)).content.decode()

    href = re.search(r'<link rel="stylesheet" href="(/pay/brand/[^"]+)">', page).group(1)
    css = Client().get(href).content.decode()

    assert "--accent: #ff0000" in css
    on_accent = re.search(r"--on-accent: (#[0-9a-f]{6})", css).group(1)
    assert display.contrast("#ff0000", on_accent) >= 4.5


def test_the_button_script_reads_the_colours():
    with open("static/js/paybutton.js", encoding="utf-8") as script:
        source = script.read()
    assert "data-text-color" in source and "data-color" in source
    assert "data-name" in source and "data-email" in source


# --- donor's name and email --------------------------------------------------------------------------------


def test_a_required_email_that_is_missing_is_refused_and_nothing_is_created(pk):
    response = post(pk, {"amount": 1500, "required": ["email"], "first_name": "Ana", "last_name": "Lopez"})

    assert response.status_code == 400
    assert response.json()["code"] == "invalid_email"
    assert response["Access-Control-Allow-Origin"] == ORIGIN
    assert not Payment.objects.exists()


@pytest.mark.parametrize("email", ["not-an-email", "a@b", 42, "x" * 250 + "@example.org"])
def test_a_bad_email_is_refused_even_when_optional(pk, email):
    response = post(pk, {"amount": 1500, "email": email})

    assert response.status_code == 400
    assert response.json()["code"] == "invalid_email"
    assert not Payment.objects.exists()


def test_a_required_name_that_is_missing_is_refused(pk):
    response = post(pk, {"amount": 1500, "required": ["name"], "first_name": "Ana", "email": "ana@example.org"})

    assert response.status_code == 400
    assert response.json()["code"] == "invalid_name"
    assert not Payment.objects.exists()


def test_the_refusal_is_in_the_shoppers_language(pk):
    response = post(pk, {"amount": 1500, "language": "fr", "email": "pas-une-adresse"})

    assert response.status_code == 400
    assert "adresse" in response.json()["message"].lower()


def test_a_given_name_and_email_are_stored_and_the_receipt_is_sent(pk):
    response = post(
        pk,
        {
            "amount": 1500,
            "language": "en",
            "required": ["name", "email"],
            "first_name": " Ana ",
            "last_name": "Lopez",
            "email": " Ana@Example.org ",
        },
    )
    assert response.status_code == 201
    payment = Payment.objects.get()
    assert payment.billing["first_name"] == "Ana" and payment.billing["last_name"] == "Lopez"
    assert payment.billing["email"] == "Ana@example.org"

    pay({"hosted_payment": {"payment_url": response.json()["payment_url"]}})

    (receipt,) = [message for message in mail.outbox if message.to == ["Ana@example.org"]]
    assert "receipt" in receipt.subject.lower()


def test_without_name_and_email_the_button_works_as_before(pk):
    response = post(pk, {"amount": 1500})

    assert response.status_code == 201
    billing = Payment.objects.get().billing
    assert "email" not in billing and "first_name" not in billing
