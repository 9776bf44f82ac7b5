"""The hosted page in a real browser: a success card, a decline then success, at phone width."""

import pytest

from tests.payments.helpers import create_payment, hosted_path

from .conftest import PHONE

pytestmark = pytest.mark.django_db(transaction=True)


def fill_card(page, number, expiry="12/34", cvc="123"):
    page.get_by_label("Name on card").fill("Jeanne Martin")
    page.get_by_label("Card number").fill(number)
    page.get_by_label("Expiry date (MM/YY)").fill(expiry)
    page.get_by_label("Security code").fill(cvc)


def test_pay_with_a_success_card_at_phone_width(api, new_page, shots):
    payment = create_payment(api, billing={"first_name": "J", "last_name": "M", "email": "j@example.org"})
    page = new_page(viewport=PHONE)

    page.goto(hosted_path(payment))
    shots(page, "form")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    fill_card(page, "4242 4242 4242 4242")
    page.get_by_role("button", name="Pay").click()
    page.wait_for_url("**/result/")
    shots(page, "result")

    assert page.get_by_role("heading", name="Payment successful").is_visible()
    assert api.get(f"/v1/payments/{payment['id']}").json()["is_paid"] is True
