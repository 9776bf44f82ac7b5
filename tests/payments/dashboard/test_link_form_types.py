"""The payment-link form offers the fields of the chosen type only (issue 12, finding 21).

Server side, fields that do not apply to the chosen type are ignored and cleared; the page groups
them in fieldsets that say which type they are for, and static/js/conditional_fields.js hides the
ones that do not apply (without JavaScript all of them stay, under those headings)."""

import re

import pytest
from django.urls import reverse

from payments.models import PaymentLink
from tests.csp import assert_no_inline_script_or_style

pytestmark = pytest.mark.django_db

NEW = reverse("dashboard:link_create")


def fieldset(page: str, condition: str) -> str:
    match = re.search(rf'<fieldset[^>]*data-show-when="{re.escape(condition)}"[^>]*>(.*?)</fieldset>', page, re.S)
    assert match, f"no fieldset shown when {condition}"
    return match.group(0)


def test_each_type_has_its_own_fieldset_with_a_heading_that_says_so(alice_client):
    response = alice_client.get(NEW)
    page = response.content.decode()

    fixed = fieldset(page, "amount_type=fixed")
    free = fieldset(page, "amount_type=free")
    assert 'name="amount"' in fixed and 'name="min_amount"' not in fixed
    assert 'name="min_amount"' in free and 'name="max_amount"' in free and 'name="amount"' not in free
    assert "<legend>" in fixed and "fixed amount" in re.search(r"<legend>(.*?)</legend>", fixed).group(1).lower()
    assert "payer chooses" in re.search(r"<legend>(.*?)</legend>", free).group(1).lower()
    quantity = fieldset(page, "ask_quantity")
    assert 'name="max_quantity"' in quantity
    assert "js/conditional_fields.js" in page
    assert_no_inline_script_or_style(page)


def test_a_fixed_link_ignores_the_bounds_sent_with_it(alice_client):
    response = alice_client.post(
        NEW,
        {"description": "Membership", "amount_type": "fixed", "amount": "25", "min_amount": "douze", "max_amount": "1"},
    )

    assert response.status_code == 302, response.content.decode()[-2000:]
    link = PaymentLink.objects.get()
    assert (link.amount, link.min_amount, link.max_amount) == (2500, None, None)


def test_a_free_link_ignores_the_fixed_amount_sent_with_it(alice_client):
    response = alice_client.post(
        NEW, {"description": "Donations", "amount_type": "free", "amount": "not an amount", "min_amount": "5"}
    )

    assert response.status_code == 302, response.content.decode()[-2000:]
    link = PaymentLink.objects.get()
    assert (link.amount, link.min_amount, link.max_amount) == (None, 500, None)


def test_the_largest_quantity_is_ignored_when_no_quantity_is_asked(alice_client):
    response = alice_client.post(
        NEW, {"description": "Ticket", "amount_type": "fixed", "amount": "10", "max_quantity": "nine hundred"}
    )

    assert response.status_code == 302, response.content.decode()[-2000:]
    link = PaymentLink.objects.get()
    assert link.ask_quantity is False and link.max_quantity == 10


def test_the_fields_of_the_chosen_type_are_still_checked(alice_client):
    response = alice_client.post(NEW, {"description": "Ticket", "amount_type": "free", "min_amount": "douze"})

    assert response.status_code == 200
    assert "Enter an amount such as 25 or 25.50." in response.content.decode()
    assert not PaymentLink.objects.exists()


def test_editing_a_link_changes_its_type_and_clears_the_other_fields(alice_client):
    alice_client.post(NEW, {"description": "Gift", "amount_type": "free", "min_amount": "5", "max_amount": "50"})
    link = PaymentLink.objects.get()

    response = alice_client.post(
        reverse("dashboard:link_edit", args=[link.public_id]),
        {"description": "Gift", "amount_type": "fixed", "amount": "30", "min_amount": "5", "max_amount": "50"},
    )

    assert response.status_code == 302
    link.refresh_from_db()
    assert (link.amount, link.min_amount, link.max_amount) == (3000, None, None)
