"""Payment links: the dashboard (create, edit, deactivate, list with totals, QR codes, roles) and
the public page that creates one payment per visit."""

import re

import pytest
from django.core.cache import cache
from django.test import Client
from django.urls import reverse

from merchants.models import AuditLog, Membership, Merchant
from payments import links
from payments.models import Payment, PaymentLink
from tests import factories
from tests.payments.helpers import pay

pytestmark = pytest.mark.django_db

SCRIPT = "<script>alert(1)</script>"


@pytest.fixture(autouse=True)
def _clean_cache():
    cache.clear()
    yield
    cache.clear()


def create_link(client, **fields):
    data = {
        "description": "Annual membership",
        "amount_type": "fixed",
        "amount": "25",
        "collect_email": "on",
        "max_quantity": "10",
        **fields,
    }
    response = client.post(reverse("dashboard:link_create"), data)
    assert response.status_code == 302, response.content.decode()[-3000:]
    return PaymentLink.objects.latest("created_at")


def hosted_path_of(response) -> str:
    assert response.status_code == 303, response.content.decode()[-2000:]
    return re.sub(r"^https?://[^/]+", "", response["Location"])


# --- dashboard ---------------------------------------------------------------------------------------


def test_a_merchant_creates_a_fixed_amount_link(alice_client, merchant_a):
    link = create_link(alice_client)

    assert link.merchant == merchant_a and link.is_live is False
    assert link.amount == 2500 and not link.is_free_amount
    assert link.collect_email and not link.collect_name
    assert AuditLog.objects.filter(action="payment_link.created", object_id=link.public_id).exists()
    page = alice_client.get(reverse("dashboard:link", args=[link.public_id])).content.decode()
    assert links.public_url(link) in page
    assert "€25.00" in page


def test_a_free_amount_link_has_bounds(alice_client):
    link = create_link(alice_client, amount_type="free", amount="", min_amount="5", max_amount="500,50")

    assert link.amount is None and link.min_amount == 500 and link.max_amount == 50050


@pytest.mark.parametrize(
    ("fields", "error"),
    [
        ({"amount": ""}, "Enter the amount."),
        ({"amount": "0,50"}, "Enter an amount between"),
        ({"amount": "douze"}, "Enter an amount such as 25 or 25.50."),
        ({"amount_type": "free", "min_amount": "50", "max_amount": "10"}, "The maximum must not be below the minimum."),
        ({"description": ""}, "This field is required."),
    ],
)
def test_invalid_links_are_refused(alice_client, fields, error):
    data = {"description": "Gift", "amount_type": "fixed", "amount": "25", "max_quantity": "10", **fields}

    response = alice_client.post(reverse("dashboard:link_create"), data)

    assert response.status_code == 200
    assert error in response.content.decode()
    assert not PaymentLink.objects.exists()


def test_editing_and_deactivating_a_link(alice_client):
    link = create_link(alice_client)

    alice_client.post(
        reverse("dashboard:link_edit", args=[link.public_id]),
        {"description": "Membership 2027", "amount_type": "fixed", "amount": "30", "max_quantity": "10"},
    )
    alice_client.post(reverse("dashboard:link_active", args=[link.public_id]), {"active": "0"})

    link.refresh_from_db()
    assert link.description == "Membership 2027" and link.amount == 3000
    assert link.is_active is False
    assert Client().get(reverse("links:page", args=[link.slug])).status_code == 410
    assert AuditLog.objects.filter(action="payment_link.deactivated").exists()


def test_the_list_shows_payments_and_totals(alice_client):
    link = create_link(alice_client, amount="12")
    for number in ("4242 4242 4242 4242", "4242 4242 4242 4242", "4000 0000 0000 0002"):
        path = hosted_path_of(Client().post(reverse("links:page", args=[link.slug]), {"email": "a@example.org"}))
        pay({"hosted_payment": {"payment_url": path}}, number=number)

    html = alice_client.get(reverse("dashboard:links")).content.decode()
    totals = links.with_totals(PaymentLink.objects.filter(pk=link.pk)).get()

    assert (totals.payment_count, totals.paid_count, totals.paid_total) == (3, 2, 2400)
    assert "€24.00" in html
    detail = alice_client.get(reverse("dashboard:link", args=[link.public_id])).content.decode()
    assert detail.count("a@example.org") == 3


def test_qr_codes_in_svg_and_png_are_downloadable(alice_client):
    link = create_link(alice_client)

    svg = alice_client.get(reverse("dashboard:link_qr", args=[link.public_id, "svg"]) + "?download=1")
    png = alice_client.get(reverse("dashboard:link_qr", args=[link.public_id, "png"]) + "?download=1")

    assert svg["Content-Type"] == "image/svg+xml" and b"<svg" in svg.content
    assert png["Content-Type"] == "image/png" and png.content.startswith(b"\x89PNG")
    assert svg["Content-Disposition"] == f'attachment; filename="payment-link-{link.slug}.svg"'
    assert alice_client.get(reverse("dashboard:link_qr", args=[link.public_id, "gif"])).status_code == 404


def test_links_are_scoped_to_their_merchant_and_mode(alice_client, client, merchant_b, charlie):
    link = create_link(alice_client)
    client.force_login(charlie)

    assert client.get(reverse("dashboard:link", args=[link.public_id])).status_code == 404
    assert client.post(reverse("dashboard:link_active", args=[link.public_id]), {"active": "0"}).status_code == 404
    assert link.description not in client.get(reverse("dashboard:links")).content.decode()


@pytest.mark.parametrize(
    ("role", "allowed"),
    [
        (Membership.Role.ADMIN, True),
        (Membership.Role.SUPPORT, True),
        (Membership.Role.DEVELOPER, False),
        (Membership.Role.ACCOUNTANT, False),
    ],
)
def test_managing_links_needs_the_role(client, merchant_a, role, allowed):
    person = factories.member(merchant_a, f"{role}@example.org", role)
    client.force_login(person)

    listing = client.get(reverse("dashboard:links"))
    creation = client.post(
        reverse("dashboard:link_create"), {"description": "x", "amount_type": "fixed", "amount": "5"}
    )

    assert listing.status_code == (200 if allowed else 403)
    assert creation.status_code == (302 if allowed else 403)
    assert PaymentLink.objects.exists() is allowed


def test_the_menu_shows_payment_links(alice_client):
    assert reverse("dashboard:links") in alice_client.get(reverse("dashboard:home")).content.decode()


# --- the public page ---------------------------------------------------------------------------------------


def test_each_visit_of_a_free_amount_link_creates_its_own_payment(alice_client):
    link = create_link(alice_client, amount_type="free", amount="", min_amount="5", max_amount="500", collect_name="on")
    page = Client().get(reverse("links:page", args=[link.slug]), headers={"accept-language": "fr"})
    assert 'name="amount"' in page.content.decode() and 'autocomplete="given-name"' in page.content.decode()

    first = Client().post(
        reverse("links:page", args=[link.slug]),
        {"amount": "12,50", "first_name": "Ana", "last_name": "Lopez", "email": "ana@example.org"},
        headers={"accept-language": "es"},
    )
    second = Client().post(
        reverse("links:page", args=[link.slug]),
        {"amount": "40", "first_name": "Bo", "last_name": "Li", "email": "bo@example.org"},
    )

    assert hosted_path_of(first) != hosted_path_of(second)
    payment = Payment.objects.get(hosted_token=hosted_path_of(first).split("/")[2])
    assert payment.amount == 1250 and payment.source == "link" and payment.link == link
    assert payment.billing == {"first_name": "Ana", "last_name": "Lopez", "email": "ana@example.org", "language": "es"}
    assert payment.metadata == {"payment_link": link.public_id, "quantity": 1}
    assert payment.return_url == links.public_url(link)


@pytest.mark.parametrize("amount", ["4,99", "500,01", "abc", ""])
def test_free_amounts_out_of_bounds_are_form_errors(alice_client, amount):
    link = create_link(alice_client, amount_type="free", amount="", min_amount="5", max_amount="500")

    response = Client().post(reverse("links:page", args=[link.slug]), {"amount": amount, "email": "a@example.org"})

    assert response.status_code == 400
    assert 'aria-invalid="true"' in response.content.decode()
    assert not Payment.objects.exists()


def test_a_quantity_multiplies_the_amount(alice_client):
    link = create_link(alice_client, amount="8", ask_quantity="on", max_quantity="5")

    response = Client().post(reverse("links:page", args=[link.slug]), {"quantity": "3", "email": "a@example.org"})
    too_many = Client().post(reverse("links:page", args=[link.slug]), {"quantity": "6", "email": "a@example.org"})

    payment = Payment.objects.get(hosted_token=hosted_path_of(response).split("/")[2])
    assert payment.amount == 2400
    assert payment.description == "Annual membership \u00d7 3"
    assert too_many.status_code == 400


def test_the_address_is_collected_when_asked(alice_client):
    link = create_link(alice_client, collect_address="on")

    response = Client().post(
        reverse("links:page", args=[link.slug]),
        {"email": "a@example.org", "address1": "1 rue X", "postcode": "75001", "city": "Paris", "country": "FR"},
    )

    payment = Payment.objects.get(hosted_token=hosted_path_of(response).split("/")[2])
    assert payment.billing["city"] == "Paris" and payment.billing["country"] == "FR"


def test_unknown_links_are_404(client):
    assert client.get(reverse("links:page", args=["nope"])).status_code == 404


def test_link_text_is_escaped(alice_client, merchant_a):
    Merchant.objects.filter(pk=merchant_a.pk).update(brand_name=SCRIPT)
    link = create_link(alice_client, description=SCRIPT)

    public = Client().get(reverse("links:page", args=[link.slug])).content.decode()
    listing = alice_client.get(reverse("dashboard:links")).content.decode()
    detail = alice_client.get(reverse("dashboard:link", args=[link.public_id])).content.decode()

    for html in (public, listing, detail):
        assert SCRIPT not in html


def test_link_payments_are_rate_limited_per_address(alice_client, settings):
    settings.CHECKOUT_CREATE_LIMIT_PER_IP = 2
    link = create_link(alice_client)
    statuses = [
        Client().post(reverse("links:page", args=[link.slug]), {"email": "a@example.org"}).status_code for _ in range(3)
    ]

    assert statuses == [303, 303, 429]
    assert Payment.objects.count() == 2
