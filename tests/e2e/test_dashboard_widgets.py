"""Dashboard widgets in Chromium (issue 12, findings 15 and 21): the link form shows the fields of
the chosen type only, copy buttons copy, and the pay-button builder keeps its options when the
allowed websites are saved — under the strict CSP, at phone width."""

import pytest
from playwright.sync_api import expect

from merchants.models import Merchant
from payments import links
from payments.models import PaymentLink
from tests.factories import PASSWORD

from .conftest import PHONE

pytestmark = pytest.mark.django_db(transaction=True)


def log_in(page, user):
    page.goto("/login/")
    page.locator("input[name=username]").fill(user.email)
    page.locator("input[name=password]").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url("**/dashboard/**")


def test_link_form_by_type_copy_buttons_and_kept_button_options(alice, merchant_a, new_page, shots):
    Merchant.objects.filter(pk=merchant_a.pk).update(brand_color="#ff0000")
    page = new_page(viewport=PHONE, permissions=["clipboard-read", "clipboard-write"])
    csp_errors = []
    page.on("console", lambda m: csp_errors.append(m.text) if "Content Security Policy" in m.text else None)
    log_in(page, alice)

    page.goto("/dashboard/links/new/")
    expect(page.get_by_label("Fixed amount (€)")).to_be_visible()
    expect(page.get_by_label("Minimum (€)")).to_be_hidden()
    expect(page.get_by_label("Largest quantity")).to_be_hidden()
    page.get_by_label("The payer chooses the amount (donations)").check()
    expect(page.get_by_label("Fixed amount (€)")).to_be_hidden()
    expect(page.get_by_label("Minimum (€)")).to_be_visible()
    page.get_by_label("Let the payer choose a quantity").check()
    expect(page.get_by_label("Largest quantity")).to_be_visible()
    shots(page, "link-form-free")
    page.get_by_label("What is the payment for?").fill("Donations")
    page.get_by_label("Minimum (€)").fill("5")
    page.get_by_role("button", name="Create the link").click()
    expect(page.get_by_role("heading", name="Donations")).to_be_visible()

    link = PaymentLink.objects.get()
    page.get_by_role("button", name="Copy the link").click()
    expect(page.get_by_role("status").filter(has_text="Copied")).to_be_visible()
    assert page.evaluate("navigator.clipboard.readText()") == links.public_url(link)
    shots(page, "link-copied")

    page.goto("/dashboard/paybutton/")
    preview = page.locator("#button-preview")
    page.get_by_label("Button text (optional)").fill("Give")
    page.get_by_label("Ask for the payer's email address (to send the receipt)").select_option("required")
    expect(preview.get_by_role("button", name="Give")).to_have_css("background-color", "rgb(255, 0, 0)")
    expect(preview.get_by_role("button", name="Give")).to_have_css("color", "rgb(0, 0, 0)")
    expect(preview.get_by_label("Email address")).to_be_visible()
    page.get_by_label("Websites allowed to show your pay button").fill("https://www.asso.example")
    page.get_by_role("button", name="Save the allowed websites").click()
    expect(page.locator("#snippet")).to_contain_text('data-label="Give"')
    expect(page.locator("#snippet")).to_contain_text('data-email="required"')
    shots(page, "paybutton-kept")

    assert not csp_errors, csp_errors
