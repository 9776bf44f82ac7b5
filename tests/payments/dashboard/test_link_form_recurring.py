"""The payment-link form's "How often" choice: one-off, monthly, yearly (at least one), saved in
PaymentLink.frequencies and shown in the list and on the link's page."""

import re

import pytest
from django.test import Client
from django.urls import reverse

from merchants.models import AuditLog
from payments.models import PaymentLink
from tests.csp import assert_no_inline_script_or_style

pytestmark = pytest.mark.django_db

NEW = reverse("dashboard:link_create")
LINK = {"description": "Membership", "amount_type": "fixed", "amount": "25", "collect_email": "on"}


def boxes(page: str) -> dict[str, bool]:
    """{value: ticked} of the How often checkboxes."""
    found = re.findall(r'<input type="checkbox" name="frequencies" value="(\w+)"([^>]*)>', page)
    return {value: "checked" in rest for value, rest in found}


def test_the_form_offers_the_three_frequencies_one_off_ticked(alice_client):
    page = alice_client.get(NEW).content.decode()

    assert boxes(page) == {"once": True, "month": False, "year": False}
    assert "How often" in page and "Monthly" in page and "Yearly" in page
    assert_no_inline_script_or_style(page)


def test_ticked_frequencies_are_saved_in_order(alice_client):
    response = alice_client.post(NEW, {**LINK, "frequencies": ["", "year", "once"]})

    assert response.status_code == 302, response.content.decode()[-2000:]
    link = PaymentLink.objects.get()
    assert link.frequencies == ["once", "year"]


def test_none_ticked_is_refused_with_a_message_next_to_the_boxes(alice_client):
    response = alice_client.post(NEW, {**LINK, "frequencies": [""]})  # the page's hidden empty value only

    assert response.status_code == 200
    page = response.content.decode()
    fieldset = re.search(r'<fieldset[^>]*data-field="frequencies"[^>]*>(.*?)</fieldset>', page, re.S).group(1)
    assert "Tick at least one: one-off, monthly or yearly." in fieldset
    assert not PaymentLink.objects.exists()


def test_an_unknown_frequency_is_refused(alice_client):
    response = alice_client.post(NEW, {**LINK, "frequencies": ["", "week"]})

    assert response.status_code == 200
    assert not PaymentLink.objects.exists()


def test_a_submission_without_the_field_keeps_a_one_off_link(alice_client):
    response = alice_client.post(NEW, LINK)

    assert response.status_code == 302
    assert PaymentLink.objects.get().frequencies == ["once"]


def test_a_quantity_needs_the_one_off_frequency(alice_client):
    response = alice_client.post(NEW, {**LINK, "frequencies": ["", "month"], "ask_quantity": "on", "max_quantity": "5"})

    assert response.status_code == 200
    assert "A quantity applies to one-off payments only" in response.content.decode()
    assert not PaymentLink.objects.exists()


def test_editing_changes_the_frequencies_and_shows_them_ticked(alice_client):
    alice_client.post(NEW, {**LINK, "frequencies": ["", "once"]})
    link = PaymentLink.objects.get()
    edit = reverse("dashboard:link_edit", args=[link.public_id])

    response = alice_client.post(edit, {**LINK, "frequencies": ["", "month", "year"]})

    assert response.status_code == 302
    link.refresh_from_db()
    assert link.frequencies == ["month", "year"]
    assert boxes(alice_client.get(edit).content.decode()) == {"once": False, "month": True, "year": True}
    entry = AuditLog.objects.get(action="payment_link.updated", object_id=link.public_id)
    assert "frequencies" in entry.data["fields"]


def test_the_list_and_the_detail_show_the_frequencies(alice_client):
    alice_client.post(NEW, {**LINK, "frequencies": ["", "once", "month"]})
    link = PaymentLink.objects.get()

    listing = alice_client.get(reverse("dashboard:links")).content.decode()
    detail = alice_client.get(reverse("dashboard:link", args=[link.public_id])).content.decode()

    assert re.search(r"data-frequencies>One-off, Monthly<", listing)
    assert re.search(r"<dd data-frequencies>One-off, Monthly</dd>", detail)


def test_another_merchant_cannot_change_the_frequencies(alice_client, merchant_b, charlie):
    alice_client.post(NEW, {**LINK, "frequencies": ["", "once"]})
    link = PaymentLink.objects.get()
    outsider = Client()
    outsider.force_login(charlie)

    response = outsider.post(reverse("dashboard:link_edit", args=[link.public_id]), {**LINK, "frequencies": ["month"]})

    assert response.status_code == 404
    link.refresh_from_db()
    assert link.frequencies == ["once"]
