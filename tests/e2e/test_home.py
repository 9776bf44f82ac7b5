"""The dashboard home in Chromium at phone and desktop widths (issue 12, findings 12, 13): figures,
the 30-day chart with its table, "Needs attention", the sidebar's dispute count — no horizontal
scroll at 390 px, nothing blocked by the strict CSP."""

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from payments.models import Dispute
from tests.factories import PASSWORD
from tests.payments.dashboard.test_home import failed, paid

from .conftest import DESKTOP

pytestmark = pytest.mark.django_db(transaction=True)
PHONE_390 = {"width": 390, "height": 844}


def log_in(page, user):
    page.goto("/login/")
    page.locator("input[name=username]").fill(user.email)
    page.locator("input[name=password]").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url("**/dashboard/**")


@pytest.mark.parametrize("viewport", [PHONE_390, DESKTOP], ids=["phone", "desktop"])
def test_the_home_shows_figures_chart_and_what_needs_attention(alice, merchant_a, new_page, shots, viewport):
    now = timezone.now()
    for days in range(0, 28, 3):
        paid(merchant_a, 1500 + 700 * days, now - timedelta(days=days))
    failed(merchant_a, now)
    disputed = paid(merchant_a, 3300, now - timedelta(days=4))
    Dispute.objects.create(
        merchant=merchant_a,
        is_live=False,
        payment=disputed,
        amount=3300,
        reason=Dispute.Reason.FRAUDULENT,
        evidence_due_by=now + timedelta(days=2),
    )
    page = new_page(viewport=viewport)
    csp_errors = []
    page.on("console", lambda m: csp_errors.append(m.text) if "Content Security Policy" in m.text else None)
    log_in(page, alice)

    page.goto("/dashboard/")

    expect(page.locator("#home-today-volume")).to_have_text("€15.00")
    expect(page.locator("#home-attention")).to_contain_text("Dispute of €33.00: respond by")
    expect(page.get_by_role("img", name="Paid volume per day over the last 30 days")).to_be_visible()
    page.get_by_text("Figures per day", exact=True).click()
    expect(page.locator("#home-chart table")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    shots(page, "home")
    assert csp_errors == []
