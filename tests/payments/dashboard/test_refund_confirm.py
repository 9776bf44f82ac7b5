"""The dashboard refund confirmation (issue 12, finding 11): what is refunded is exactly the amount
the page showed and the merchant confirmed; an impossible amount is refused at once, next to the
field, in the merchant's words (never the API's text).

The pages are driven as a browser would: the form that holds the pressed button is submitted with
its own fields only, after the merchant typed into the amount field."""

from __future__ import annotations

import re
from datetime import timedelta
from html.parser import HTMLParser

import pytest
from django.urls import reverse
from django.utils import timezone

from payments import services
from payments.errors import PaymentError
from payments.models import Payment, Refund
from payments.money import ledger
from tests.payments.helpers import create_payment, pay


class Forms(HTMLParser):
    """The page's forms: their method, fields (name, value, id) and submit buttons (name, value, text)."""

    def __init__(self, html: str):
        super().__init__()
        self.forms: list[dict] = []
        self._form = None
        self._button = None
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            self._form = {"method": (attrs.get("method") or "get").lower(), "fields": [], "buttons": []}
            self.forms.append(self._form)
        elif self._form is not None and tag == "input" and attrs.get("name"):
            self._form["fields"].append(
                {"name": attrs["name"], "value": attrs.get("value") or "", "id": attrs.get("id")}
            )
        elif self._form is not None and tag == "button" and (attrs.get("type") or "submit") == "submit":
            self._button = {"name": attrs.get("name"), "value": attrs.get("value") or "", "text": ""}
            self._form["buttons"].append(self._button)

    def handle_data(self, data):
        if self._button is not None:
            self._button["text"] += data

    def handle_endtag(self, tag):
        if tag == "form":
            self._form = None
        elif tag == "button":
            self._button = None

    def press(self, button_text: str, typed: dict[str, str] | None = None) -> tuple[str, dict]:
        """Type into fields (by id, wherever they are on the page), then press the button: the
        method and the data the browser sends (the pressed button's form only)."""
        typed = typed or {}
        for form in self.forms:
            for button in form["buttons"]:
                if button_text in " ".join(button["text"].split()):
                    data = {f["name"]: typed.get(f["id"], f["value"]) for f in form["fields"]}
                    if button["name"]:
                        data[button["name"]] = button["value"]
                    return form["method"], data
        raise AssertionError(f"no {button_text!r} button on the page")

    def has_button(self, button_text: str) -> bool:
        return any(button_text in " ".join(b["text"].split()) for form in self.forms for b in form["buttons"])


def paid(api, amount: int) -> dict:
    payment = create_payment(api, amount=amount)
    pay(payment)
    return payment


def page(response) -> str:
    return response.content.decode()


def field_error(html: str) -> str | None:
    """The error shown with the amount field: the element the field names in aria-describedby."""
    field = re.search(r'<input[^>]*id="r-amount"[^>]*>', html)
    assert field, "no amount field"
    described = re.search(r'aria-describedby="([^"]+)"', field.group(0))
    if not described:
        return None
    assert 'aria-invalid="true"' in field.group(0)
    error = re.search(rf'id="{described.group(1)}"[^>]*>(.*?)</', html, re.S)
    assert error, "the field points at an error that is not on the page"
    return " ".join(error.group(1).split())


def refunded(payment: dict) -> list[int]:
    return list(Refund.objects.filter(payment__public_id=payment["id"]).order_by("pk").values_list("amount", flat=True))


def test_typing_10_on_an_89_payment_and_pressing_confirm_refunds_10_never_89(api, alice_client):
    payment = paid(api, 8900)
    url = reverse("dashboard:payment_refund", args=[payment["id"]])
    first = alice_client.get(url)
    assert "€89.00" in page(first)

    # The merchant types 10.00 and presses the confirm button straight away (no "Review").
    method, data = Forms(page(first)).press("Confirm the refund", typed={"r-amount": "10.00"})
    assert method == "post"
    response = alice_client.post(url, data)

    assert 8900 not in refunded(payment)
    if not refunded(payment):
        # What was confirmed (€89.00) is not what was typed: the page asks again, for €10.00.
        assert response.status_code == 200 and "Refund €10.00 to the shopper" in page(response)
        assert "€89.00 to the shopper" not in page(response)
        method, data = Forms(page(response)).press("Confirm the refund")
        assert data["amount"] in ("10", "10.00")
        alice_client.post(url, data)
    assert refunded(payment) == [1000]


def test_the_amount_reviewed_is_the_amount_refunded(api, alice_client):
    payment = paid(api, 8900)
    url = reverse("dashboard:payment_refund", args=[payment["id"]])

    method, data = Forms(page(alice_client.get(url))).press("Review", typed={"r-amount": "12,50"})
    reviewed = alice_client.post(url, data) if method == "post" else alice_client.get(url, data)
    assert not refunded(payment) and "Refund €12.50 to the shopper" in page(reviewed)
    assert Forms(page(reviewed)).has_button("€12.50")  # the button says what it refunds

    alice_client.post(url, Forms(page(reviewed)).press("Confirm the refund")[1])
    assert refunded(payment) == [1250]


def test_an_amount_above_the_refundable_is_refused_next_to_the_field_before_any_confirmation(api, alice_client):
    payment = paid(api, 4250)
    url = reverse("dashboard:payment_refund", args=[payment["id"]])

    response = alice_client.get(url, {"amount": "100"})

    html = page(response)
    assert field_error(html) == "This exceeds the remaining refundable amount: you can refund at most €42.50."
    assert "€100.00 to the shopper" not in html and not Forms(html).has_button("Confirm the refund")
    assert "cents" not in html
    assert not refunded(payment)


def test_the_refundable_is_what_remains_after_earlier_refunds(api, alice_client):
    payment = paid(api, 4250)
    api.post(f"/v1/payments/{payment['id']}/refunds", {"amount": 2000})
    url = reverse("dashboard:payment_refund", args=[payment["id"]])

    over = alice_client.get(url, {"amount": "30"})
    default = alice_client.get(url)

    assert field_error(page(over)) == "This exceeds the remaining refundable amount: you can refund at most €22.50."
    assert field_error(page(default)) is None and "Refund €22.50 to the shopper" in page(default)


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("0", "Enter an amount above zero."),
        ("0,00", "Enter an amount above zero."),
        ("-5", "Enter an amount above zero."),
        ("ten euros", "Enter an amount in euros, e.g. 12.50."),
        ("0.05", "A refund must be at least €0.10, or the whole remaining €42.50."),
    ],
)
def test_impossible_amounts_are_refused_at_once_in_the_merchants_words(api, alice_client, typed, message):
    payment = paid(api, 4250)
    url = reverse("dashboard:payment_refund", args=[payment["id"]])

    response = alice_client.get(url, {"amount": typed})

    assert field_error(page(response)) == message
    assert not Forms(page(response)).has_button("Confirm the refund")


def test_the_refund_window_of_the_service_is_checked_on_the_confirmation(api, alice_client):
    payment = paid(api, 4250)
    Payment.objects.filter(public_id=payment["id"]).update(paid_at=timezone.now() - timedelta(days=400))
    url = reverse("dashboard:payment_refund", args=[payment["id"]])

    response = alice_client.get(url)

    assert field_error(page(response)) == "The refund period of this payment is over."
    assert not Forms(page(response)).has_button("Confirm the refund")


def test_the_ledger_availability_is_checked_on_the_confirmation(api, alice_client, monkeypatch):
    payment = paid(api, 4250)
    url = reverse("dashboard:payment_refund", args=[payment["id"]])

    def short(p, amount):
        raise ledger.InsufficientFunds(amount + 25, 100)

    monkeypatch.setattr(ledger, "check_refund", short)
    response = alice_client.get(url, {"amount": "20"})

    assert field_error(page(response)) == (
        "Your balance does not cover this refund and its fee; wait for incoming payments or contact support."
    )
    assert not Forms(page(response)).has_button("Confirm the refund")


def test_a_tampered_amount_refunds_nothing_and_asks_for_a_confirmation_of_it(api, alice_client):
    """Decision: a POST whose amount is not the one its form confirmed refunds nothing; the
    confirmation page of the amount sent is shown instead (a fresh form)."""
    payment = paid(api, 8900)
    url = reverse("dashboard:payment_refund", args=[payment["id"]])
    confirm = alice_client.get(url, {"amount": "10.00"})
    data = Forms(page(confirm)).press("Confirm the refund")[1]

    tampered = alice_client.post(url, {**data, "amount": "50.00"})

    assert not refunded(payment)
    assert tampered.status_code == 200 and "Refund €50.00 to the shopper" in page(tampered)
    assert tampered.context["token"] != data["token"]
    alice_client.post(url, data)  # the untouched form still refunds what it showed
    assert refunded(payment) == [1000]


def test_a_form_the_dashboard_never_showed_refunds_nothing(api, alice_client):
    payment = paid(api, 8900)
    url = reverse("dashboard:payment_refund", args=[payment["id"]])

    response = alice_client.post(url, {"token": "forged" * 4, "amount": "50.00"}, follow=True)

    assert not refunded(payment)
    assert "Refund €50.00 to the shopper" in page(response)  # shown, to be confirmed


@pytest.mark.parametrize(
    ("error", "shown"),
    [
        (
            PaymentError(
                "refund_refused",
                "amount: the merchant balance (10 cents) does not cover this refund (1025 cents with fees).",
                details={"amount": "the merchant balance does not cover this refund."},
            ),
            "Your balance does not cover this refund and its fee; wait for incoming payments or contact support.",
        ),
        (PaymentError("refund_refused", "Do not honor (05)"), "The bank refused this refund; nothing was refunded."),
        (
            PaymentError("payment_disputed", "A disputed payment cannot be refunded."),
            "This payment is disputed: it cannot be refunded while the dispute is open.",
        ),
        (
            PaymentError("refund_exceeds_remaining", "amount: the refund exceeds (3300 cents)."),
            "you can refund at most €89.00.",
        ),
        (PaymentError("something_new", "raw: internal words"), "This refund could not be made; nothing was refunded."),
    ],
)
def test_a_refusal_of_the_service_is_shown_in_the_merchants_words(api, alice_client, monkeypatch, error, shown):
    payment = paid(api, 8900)
    url = reverse("dashboard:payment_refund", args=[payment["id"]])
    data = Forms(page(alice_client.get(url, {"amount": "10"}))).press("Confirm the refund")[1]

    def refuse(*args, **kwargs):
        raise error

    monkeypatch.setattr(services, "refund", refuse)
    response = alice_client.post(url, data, follow=True)

    html = page(response)
    assert shown in html
    assert error.message not in html and "cents" not in html
    assert not refunded(payment)


# --- the list says "Refunded" / "Partially refunded" (issue 12, finding 21) ----------------------


def status_cell(html: str, payment_id: str) -> str:
    row = re.search(rf"<tr[^>]*>(?:(?!</tr>).)*{payment_id}(?:(?!</tr>).)*</tr>", html, re.S)
    assert row, f"{payment_id} is not listed"
    badges = re.findall(r'<span class="badge[^"]*">([^<]*)</span>', row.group(0))
    return " | ".join(b.strip() for b in badges)


def test_the_list_shows_refunded_and_partially_refunded_payments_as_such(api, alice_client):
    full, part, kept = paid(api, 4250), paid(api, 4250), paid(api, 4250)
    api.post(f"/v1/payments/{full['id']}/refunds", {"amount": 4250})
    api.post(f"/v1/payments/{part['id']}/refunds", {"amount": 1000})

    html = page(alice_client.get(reverse("dashboard:payments")))

    assert status_cell(html, full["id"]) == "Refunded"
    assert status_cell(html, part["id"]) == "Partially refunded"
    assert status_cell(html, kept["id"]) == "Paid"
    assert Payment.objects.get(public_id=part["id"]).status_display == "Partially refunded"
