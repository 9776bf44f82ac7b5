"""Installment plans in the dashboard, in Chromium at phone width (issue 13, items 1 and 6): the
list, the schedule, the test clock charging the next installment — no horizontal scroll at 390 px,
nothing blocked by the strict CSP."""

import pytest
from playwright.sync_api import expect

from tests.payments.helpers import pay
from tests.payments.installments.helpers import create_plan, first_payment

from .test_home import PHONE_390, log_in

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_plan_at_phone_width_with_the_test_clock(alice, merchant_a, api, new_page, shots):
    plan = create_plan(api, merchant_a, amounts=(15000, 10000, 5000))
    pay(first_payment(plan))
    page = new_page(viewport=PHONE_390)
    csp_errors = []
    page.on("console", lambda m: csp_errors.append(m.text) if "Content Security Policy" in m.text else None)
    log_in(page, alice)

    page.goto("/dashboard/installment-plans/")
    expect(page.locator("table")).to_contain_text(plan["id"])
    expect(page.locator("table")).to_contain_text("€150.00")
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    shots(page, "installment-plans")

    page.get_by_role("link", name=plan["id"]).click()
    expect(page.locator("#plan-state")).to_have_text("Active")
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    page.locator("#clock-days").fill("30")
    page.get_by_role("button", name="Advance the test clock").click()
    expect(page.get_by_text("Test clock advanced by 30 days")).to_be_visible()
    expect(page.locator(".installment-schedule tbody tr").nth(1)).to_contain_text("Paid")
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    shots(page, "installment-plan")
    assert csp_errors == []
