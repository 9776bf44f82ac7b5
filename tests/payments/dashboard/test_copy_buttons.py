"""Copy buttons (issue 12, finding 21) for API keys, webhook signing secrets, pay-button snippets and
payment-link URLs: a <button data-copy-target> handled by static/js/dashboard.js, announced in an
aria-live region; without JavaScript the button stays hidden and the value sits, selectable, in a
read-only field."""

import html
import re

import pytest
from django.urls import reverse

from merchants.models import Merchant
from payments import links
from payments.models import PaymentLink
from tests import factories
from tests.csp import assert_no_inline_script_or_style
from tests.merchants.helpers_team import raw_key_in

pytestmark = pytest.mark.django_db


def assert_copy_button_for(page: str, value: str) -> str:
    """A copy button whose target holds exactly `value`; returns the target's id."""
    buttons = re.findall(r'<button type="button"[^>]*data-copy-target="([^"]+)"[^>]*>', page)
    assert buttons, "no copy button"
    for target in buttons:
        field = re.search(rf'<(input|textarea|code)[^>]*id="{re.escape(target)}"[^>]*>', page)
        assert field, f"copy button without its target #{target}"
        if field.group(1) == "input":
            assert " readonly" in field.group(0)
            shown = re.search(r'value="([^"]*)"', field.group(0)).group(1)
        else:
            end = page.index("</" + field.group(1) + ">", field.end())
            shown = page[field.end() : end]
        if html.unescape(shown) == value:
            button = re.search(rf'<button type="button"[^>]*data-copy-target="{re.escape(target)}"[^>]*>', page)
            assert " hidden" in button.group(0)  # shown by dashboard.js only
            assert re.search(r'data-copied="[^"]+"', button.group(0))
            assert re.search(r'<[^>]+role="status"[^>]*aria-live="polite"', page)
            assert_no_inline_script_or_style(page)
            return target
    raise AssertionError(f"no copy button holds {value!r}")


def test_a_new_api_key_has_a_copy_button(alice_client):
    response = alice_client.post(reverse("dashboard:developers"), {"name": "Shop server"})
    page = response.content.decode()

    raw = raw_key_in(page)
    assert assert_copy_button_for(page, raw) == "raw-key"
    assert page.count(raw) == 1  # shown once, in the read-only field


def test_a_new_webhook_secret_has_a_copy_button(alice_client):
    response = alice_client.post(
        reverse("dashboard:webhooks"),
        {"url": "https://hooks.shop.example/payplatform", "description": "Shop", "event_types": ["payment.paid"]},
    )
    page = response.content.decode()

    (secret,) = re.findall(r"whsec_[0-9A-Za-z]{32}", page)
    assert assert_copy_button_for(page, secret) == "signing-secret"


def test_the_pay_button_snippet_has_a_copy_button(alice_client, merchant_a):
    Merchant.objects.filter(pk=merchant_a.pk).update(brand_color="#1f5fbf")
    page = alice_client.get(reverse("dashboard:paybutton")).content.decode()
    snippet = html.unescape(re.search(r'<code id="snippet">(.*?)</code>', page, re.S).group(1))

    assert assert_copy_button_for(page, snippet) == "snippet"
    assert factories.publishable_key(merchant_a) in snippet


def test_payment_link_urls_have_copy_buttons(alice_client):
    alice_client.post(
        reverse("dashboard:link_create"), {"description": "Membership", "amount_type": "fixed", "amount": "25"}
    )
    link = PaymentLink.objects.get()

    detail = alice_client.get(reverse("dashboard:link", args=[link.public_id])).content.decode()
    listing = alice_client.get(reverse("dashboard:links")).content.decode()

    assert assert_copy_button_for(detail, links.public_url(link)) == "share-url"
    assert assert_copy_button_for(listing, links.public_url(link)) == f"share-url-{link.public_id}"


def test_the_dashboard_script_copies_with_a_fallback():
    with open("static/js/dashboard.js", encoding="utf-8") as script:
        source = script.read()

    assert "data-copy-target" in source
    assert "navigator.clipboard" in source
    assert ".select()" in source or "selectNodeContents" in source  # the fallback selects the text
