"""The pay-button builder's "How often" choice: saved per merchant and mode, written into the
snippet as data-frequencies, carried by the allowed-websites form, and read by the button script."""

import html
import re

import pytest
from django.urls import reverse

from merchants.models import Merchant
from payments.models import PayButtonSettings
from tests import factories
from tests.csp import assert_no_inline_script_or_style
from tests.merchants.helpers_team import login

pytestmark = pytest.mark.django_db

PAGE = reverse("dashboard:paybutton")
BUTTON = {"action": "button", "amount_type": "fixed", "amount": "10", "collect_email": "optional"}


@pytest.fixture(autouse=True)
def _keys(merchant_a):
    factories.publishable_key(merchant_a)


def snippet_of(response) -> str:
    match = re.search(r'<code id="snippet">(.*?)</code>', response.content.decode(), re.S)
    assert match, "no snippet on the page"
    return html.unescape(match.group(1))


def test_the_default_snippet_has_no_frequencies_attribute(alice_client):
    response = alice_client.get(PAGE)

    assert "data-frequencies" not in snippet_of(response)
    page = response.content.decode()
    assert re.search(r'<input type="checkbox" name="frequencies" value="once"[^>]*checked', page)
    assert_no_inline_script_or_style(page)


def test_saved_frequencies_are_in_the_snippet_and_the_preview(alice_client, merchant_a):
    response = alice_client.post(PAGE, {**BUTTON, "frequencies": ["", "once", "month"]})
    assert response.status_code == 302

    page = alice_client.get(PAGE)

    assert 'data-frequencies="once,month"' in snippet_of(page)
    preview = re.search(r'<div id="button-preview"[^>]*>', page.content.decode()).group(0)
    assert 'data-frequencies="once,month"' in preview
    assert PayButtonSettings.objects.for_tenant(merchant_a, False).get().frequencies == ["once", "month"]


def test_none_ticked_is_refused_next_to_the_boxes(alice_client, merchant_a):
    response = alice_client.post(PAGE, {**BUTTON, "frequencies": [""]})

    assert response.status_code == 200
    fieldset = re.search(
        r'<fieldset[^>]*data-field="frequencies"[^>]*>(.*?)</fieldset>', response.content.decode(), re.S
    ).group(1)
    assert "Tick at least one: one-off, monthly or yearly." in fieldset
    assert not PayButtonSettings.objects.exists()


def test_a_shared_url_tries_frequencies_without_saving(alice_client):
    assert 'data-frequencies="month,year"' in snippet_of(alice_client.get(PAGE, {"frequencies": "year,month"}))
    assert "data-frequencies" not in snippet_of(alice_client.get(PAGE))


def test_the_origins_form_carries_the_frequencies(alice_client, merchant_a):
    alice_client.post(PAGE, {**BUTTON, "frequencies": ["", "month"]})
    page = alice_client.get(PAGE).content.decode()
    carried = dict(re.findall(r'<input type="hidden" name="(carry-[a-z_]+)" value="([^"]*)"', page))
    assert carried["carry-frequencies"] == "month"

    response = alice_client.post(
        PAGE, {"action": "origins", "origins": "https://www.asso.org", **carried, "carry-frequencies": "month,year"}
    )

    assert response.status_code == 302
    assert 'data-frequencies="month,year"' in snippet_of(alice_client.get(PAGE))


def test_frequencies_are_kept_per_merchant_and_mode(client, alice):
    merchant = factories.live_merchant("Alice Live", owner=alice)
    factories.publishable_key(merchant, is_live=True)
    factories.publishable_key(merchant)
    login(client, alice, merchant=merchant, live=True)
    client.post(PAGE, {**BUTTON, "frequencies": ["", "year"]})

    login(client, alice, merchant=merchant, live=False)
    assert "data-frequencies" not in snippet_of(client.get(PAGE))
    login(client, alice, merchant=merchant, live=True)
    assert 'data-frequencies="year"' in snippet_of(client.get(PAGE))


def test_the_button_script_and_the_preview_read_the_frequencies():
    with open("static/js/paybutton.js", encoding="utf-8") as script:
        button = script.read()
    with open("static/js/paybutton_preview.js", encoding="utf-8") as script:
        preview = script.read()

    assert "data-frequencies" in button and "frequency: chosen" in button and "frequencies: offered" in button
    assert '"data-frequencies"' in preview


def test_an_unreadable_saved_value_falls_back_to_one_off(alice_client, merchant_a):
    PayButtonSettings.objects.create(merchant=merchant_a, is_live=False, amount=1000, frequencies="month")
    Merchant.objects.filter(pk=merchant_a.pk).update(allowed_origins=["https://asso.example.org"])

    assert "data-frequencies" not in snippet_of(alice_client.get(PAGE))
