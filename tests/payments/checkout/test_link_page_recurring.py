"""The public page of a link that offers monthly or yearly payments: the shopper chooses how often
(radio buttons, without JavaScript), and a monthly or yearly choice starts a subscription and goes
to its hosted page; a one-off choice is the payment of today."""

import re

import pytest
from django.core.cache import cache
from django.test import Client
from django.urls import reverse

from merchants.services.audit import Actor
from payments import links, subscriptions
from payments.models import Payment, PaymentLink, Subscription
from tests.csp import assert_no_inline_script_or_style

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _clean_cache():
    cache.clear()
    yield
    cache.clear()


def make_link(merchant, frequencies, **fields):
    values = {
        "description": "Membership",
        "amount": 1000,
        "collect_email": True,
        "frequencies": frequencies,
        "return_url": "https://asso.example.org/thanks",
        **fields,
    }
    return links.create_link(merchant, False, Actor.system("tests"), values)


def page_of(link, **headers) -> str:
    response = Client().get(reverse("links:page", args=[link.slug]), headers=headers)
    assert response.status_code == 200
    return response.content.decode()


def submit(link, data, **headers):
    return Client().post(reverse("links:page", args=[link.slug]), data, headers=headers)


def radios(page: str) -> dict[str, bool]:
    found = re.findall(r'<input type="radio" name="frequency" value="(\w+)"([^>]*)>', page)
    return {value: "checked" in rest for value, rest in found}


# --- the choice -----------------------------------------------------------------------------------------


def test_a_one_off_link_shows_no_choice(merchant_a):
    page = page_of(make_link(merchant_a, ["once"]))

    assert radios(page) == {}
    assert "every month" not in page.lower() and "How often" not in page


def test_two_frequencies_are_a_choice_with_the_first_ticked(merchant_a):
    page = page_of(make_link(merchant_a, ["once", "month"]))

    assert radios(page) == {"once": True, "month": False}
    assert re.search(r"<fieldset[^>]*>\s*<legend>How often</legend>", page)
    assert 'for="id_frequency_1">Monthly</label>' in page
    assert_no_inline_script_or_style(page)


def test_three_frequencies_are_three_radio_buttons(merchant_a):
    page = page_of(make_link(merchant_a, ["once", "month", "year"]), **{"accept-language": "fr"})

    assert list(radios(page)) == ["once", "month", "year"]
    assert radios(page)["once"] is True


def test_the_first_offered_is_ticked_even_when_it_is_not_one_off(merchant_a):
    page = page_of(make_link(merchant_a, ["month", "year"]))

    assert radios(page) == {"month": True, "year": False}


@pytest.mark.parametrize(("frequency", "words"), [("month", "every month"), ("year", "every year")])
def test_a_single_recurring_frequency_is_said_not_asked(merchant_a, frequency, words):
    page = page_of(make_link(merchant_a, [frequency]))

    assert radios(page) == {}
    assert re.search(rf"<p class=\"every\" data-every>{words.capitalize()}</p>", page)


# --- a recurring choice ---------------------------------------------------------------------------------


def test_a_monthly_choice_starts_a_subscription_and_goes_to_its_page(merchant_a):
    link = make_link(merchant_a, ["once", "month"], collect_name=True)

    response = submit(
        link,
        {"frequency": "month", "first_name": "Ana", "last_name": "Lopez", "email": "ana@example.org"},
        **{"accept-language": "es"},
    )

    assert response.status_code == 303
    subscription = Subscription.objects.get()
    assert response["Location"] == subscriptions.hosted_url(subscription)
    assert (subscription.merchant, subscription.is_live) == (merchant_a, False)
    assert (subscription.interval, subscription.interval_count, subscription.amount) == ("month", 1, 1000)
    assert (subscription.source, subscription.link) == ("link", link)
    assert subscription.description == "Membership"
    assert subscription.return_url == "https://asso.example.org/thanks"
    assert subscription.billing == {
        "first_name": "Ana",
        "last_name": "Lopez",
        "email": "ana@example.org",
        "language": "es",
    }
    assert subscription.status == Subscription.Status.INCOMPLETE
    # Its first payment is the link's too (the link's list and totals), and no one-off payment.
    (first,) = Payment.objects.filter(link=link)
    assert first.subscription_id == subscription.public_id and first.subscription_period == 1


def test_a_yearly_only_link_needs_no_choice(merchant_a):
    link = make_link(merchant_a, ["year"], return_url=None)

    response = submit(link, {"email": "bo@example.org"})

    assert response.status_code == 303
    subscription = Subscription.objects.get()
    assert subscription.interval == "year"
    assert subscription.return_url == links.public_url(link)  # as one-off payments of the link
    assert response["Location"] == subscriptions.hosted_url(subscription)


def test_a_recurring_choice_needs_an_email_even_when_the_link_does_not_collect_it(merchant_a):
    link = make_link(merchant_a, ["once", "month"], collect_email=False)
    page = page_of(link)
    assert 'name="email"' in page and "Needed for a monthly or yearly payment" in page
    assert re.search(r'<input type="email" name="email"(?![^>]*required)', page)  # optional for one-off

    refused = submit(link, {"frequency": "month", "email": ""})

    assert refused.status_code == 400
    html = refused.content.decode()
    error = re.search(r'<p class="error" id="id_email_error">([^<]*)</p>', html).group(1)
    assert error == "Enter your email address: it is needed for a monthly or yearly payment."
    assert not Subscription.objects.exists()

    one_off = submit(link, {"frequency": "once", "email": ""})
    assert one_off.status_code == 303  # today's behaviour: no email needed
    assert Payment.objects.get(link=link).billing.get("email") is None
    assert not Subscription.objects.exists()


def test_a_monthly_only_link_requires_the_email_field(merchant_a):
    link = make_link(merchant_a, ["month"], collect_email=False)

    assert re.search(r'<input type="email" name="email"[^>]*required', page_of(link))
    assert submit(link, {}).status_code == 400
    assert not Subscription.objects.exists()


def test_the_quantity_does_not_apply_to_a_recurring_choice(merchant_a):
    link = make_link(merchant_a, ["once", "month"], ask_quantity=True, max_quantity=5)
    page = page_of(link)
    assert "For a one-off payment only." in page

    response = submit(link, {"frequency": "month", "quantity": "50", "email": "a@example.org"})

    assert response.status_code == 303
    assert Subscription.objects.get().amount == 1000  # one unit each month, the quantity ignored
    too_many = submit(link, {"frequency": "once", "quantity": "50", "email": "a@example.org"})
    assert too_many.status_code == 400  # still checked for a one-off payment


def test_a_recurring_only_link_shows_no_quantity(merchant_a):
    link = PaymentLink.objects.create(
        merchant=merchant_a, is_live=False, description="Old", amount=1000, ask_quantity=True, frequencies=["month"]
    )

    assert 'name="quantity"' not in page_of(link)


@pytest.mark.parametrize(
    ("amount", "cents"), [("4,99", None), ("500,01", None), ("abc", None), ("5", 500), ("12,50", 1250), ("500", 50000)]
)
def test_free_amounts_keep_their_bounds_for_a_recurring_choice(merchant_a, amount, cents):
    link = make_link(merchant_a, ["once", "month"], amount=None, min_amount=500, max_amount=50000)

    response = submit(link, {"frequency": "month", "amount": amount, "email": "a@example.org"})

    if cents is None:
        assert response.status_code == 400
        assert 'id="id_amount_error">Enter an amount' in response.content.decode()
        assert not Subscription.objects.exists()
    else:
        assert response.status_code == 303
        assert Subscription.objects.get().amount == cents


# --- one-off and refusals ---------------------------------------------------------------------------------


def test_a_one_off_choice_is_the_payment_of_today(merchant_a):
    link = make_link(merchant_a, ["once", "month", "year"])

    response = submit(link, {"frequency": "once", "email": "a@example.org"})

    assert response.status_code == 303
    payment = Payment.objects.get(link=link)
    assert (payment.amount, payment.source, payment.subscription_id) == (1000, "link", None)
    assert payment.metadata == {"payment_link": link.public_id, "quantity": 1}
    assert not Subscription.objects.exists()


@pytest.mark.parametrize("frequency", ["year", "week", ""])
def test_a_frequency_the_link_does_not_offer_is_refused(merchant_a, frequency):
    link = make_link(merchant_a, ["once", "month"])

    response = submit(link, {"frequency": frequency, "email": "a@example.org"})

    assert response.status_code == 400
    assert 'id="id_frequency_error">' in response.content.decode()
    assert not Subscription.objects.exists() and not Payment.objects.exists()


def test_an_inactive_link_starts_no_subscription(merchant_a):
    link = make_link(merchant_a, ["month"])
    PaymentLink.objects.filter(pk=link.pk).update(is_active=False)

    assert submit(link, {"email": "a@example.org"}).status_code == 410
    assert not Subscription.objects.exists()


def test_recurring_link_visits_are_rate_limited_too(merchant_a, settings):
    settings.CHECKOUT_CREATE_LIMIT_PER_IP = 1
    link = make_link(merchant_a, ["month"])

    statuses = [submit(link, {"email": "a@example.org"}).status_code for _ in range(2)]

    assert statuses == [303, 429]
    assert Subscription.objects.count() == 1
