"""A monthly donation in Chromium at phone width (issue 13, items 2 to 4): a payment link offering
one-off or monthly, the hosted page's terms and consent (refused unticked), the first payment, then
the subscriber's own page from the receipt's link: no horizontal scroll, nothing blocked by the
strict CSP, and a cancellation. Every step is a screenshot under test-artifacts/e2e/."""

import re

import pytest
from django.core import mail
from playwright.sync_api import expect

from payments.models import PaymentLink, Subscription

from .test_home import PHONE_390

pytestmark = pytest.mark.django_db(transaction=True)


def _no_horizontal_scroll(page):
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def test_a_monthly_donation_from_a_link_to_the_subscribers_page(merchant_a, new_page, shots):
    link = PaymentLink.objects.create(
        merchant=merchant_a,
        description="Food bank",
        amount=1500,
        collect_email=True,
        frequencies=["once", "month"],
    )
    page = new_page(viewport=PHONE_390)
    csp_errors = []
    page.on("console", lambda m: csp_errors.append(m.text) if "Content Security Policy" in m.text else None)

    page.goto(f"/l/{link.slug}/")
    page.get_by_label("Monthly").check()
    page.locator("#id_email").fill("ana@example.org")
    _no_horizontal_scroll(page)
    shots(page, "link-monthly")
    page.locator("button[type=submit]").click()
    page.wait_for_url("**/pay/*/")

    # The terms and the consent box, above the card form; the card is not sent without consent.
    expect(page.get_by_text("every month").first).to_be_visible()
    page.locator("#id_cardholder").fill("Ana Lopez")
    page.locator("#id_number").press_sequentially("4242424242424242")
    page.locator("#id_expiry").press_sequentially("1234")
    page.locator("#id_cvc").fill("123")
    _no_horizontal_scroll(page)
    shots(page, "consent")
    page.locator("form[data-card-form] button[type=submit]").click()
    expect(page.locator("#id_consent")).to_have_attribute("aria-invalid", "true")
    sub = Subscription.objects.get(link=link)
    assert sub.consent_at is None and sub.status == Subscription.Status.INCOMPLETE
    shots(page, "consent-missing")

    page.locator("#id_cvc").fill("123")
    page.locator("#id_consent").check()
    page.locator("form[data-card-form] button[type=submit]").click()
    page.wait_for_url("**/3ds/")  # the consent to the next charges is strongly authenticated
    _no_horizontal_scroll(page)
    page.get_by_role("button", name="Approve").click()
    page.wait_for_url("**/result/")
    sub.refresh_from_db()
    assert sub.status == Subscription.Status.ACTIVE and sub.consent_at is not None and sub.amount == 1500
    assert sub.payments.get(subscription_period=1).is_3ds is True

    # The receipt carries the signed link to the subscriber's page.
    receipt = next(m for m in mail.outbox if m.to == ["ana@example.org"] and "Manage your subscription" in m.body)
    url = re.search(r"https?://\S+/pay/subscription/\S+/", receipt.body).group(0)
    page.goto(url)
    expect(page.get_by_text("Visa •••• 4242")).to_be_visible()
    _no_horizontal_scroll(page)
    shots(page, "subscriber-page")

    page.get_by_role("link", name="Cancel my subscription").click()
    page.get_by_role("button", name="Yes, cancel my subscription").click()
    expect(page.locator("[data-status='canceled']")).to_be_visible()
    _no_horizontal_scroll(page)
    shots(page, "subscriber-canceled")
    sub.refresh_from_db()
    assert sub.status == Subscription.Status.CANCELED and sub.canceled_by == "subscriber"
    assert csp_errors == []
