"""The public page of a campaign (/c/<slug>/): what it shows, and gifts it starts or refuses."""

import re
from datetime import timedelta

from django.test import Client

from associations import services
from associations.models import Campaign, Gift
from payments import recurring
from payments.models import Payment, Subscription
from tests.associations.helpers import give, give_once_and_pay, make_campaign, url_of
from tests.csp import assert_no_inline_script_or_style


def page_of(campaign, **headers):
    response = Client().get(url_of(campaign), headers=headers)
    return response, response.content.decode()


def radios(page, name):
    return re.findall(rf'<input type="radio" name="{name}" value="(\w+)"', page)


def nothing_created():
    assert Gift.objects.count() == 0 and Payment.objects.count() == 0 and Subscription.objects.count() == 0


# --- what it shows ---------------------------------------------------------------------------------


def test_the_page_shows_the_campaign_and_its_choices(merchant_a):
    campaign = make_campaign(merchant_a)

    response, page = page_of(campaign)

    assert response.status_code == 200 and "no-store" in response["Cache-Control"]
    assert "Un toit pour tous" in page and "<strong>rebuild</strong>" in page
    assert re.search(r'<progress id="campaign-meter" class="campaign-meter" max="100000" value="0">', page)
    assert radios(page, "amount_choice") == ["1000", "2500", "5000", "other"]
    assert radios(page, "frequency") == ["once", "month", "year"]
    for name in ("other_amount", "first_name", "last_name", "email", "address1", "postcode", "city", "country"):
        assert f'name="{name}"' in page
    assert 'name="public"' in page and "Show my name in the list of donors" in page
    assert 'name="viewport" content="width=device-width, initial-scale=1"' in page
    assert_no_inline_script_or_style(page)


def test_the_page_speaks_the_donors_language(merchant_a):
    _response, page = page_of(make_campaign(merchant_a), **{"accept-language": "fr"})

    assert '<html lang="fr">' in page


def test_only_the_frequencies_offered_are_shown(merchant_a):
    _response, page = page_of(make_campaign(merchant_a, frequencies=["once"]))

    assert radios(page, "frequency") == []


def test_the_share_link_and_the_qr_code_are_on_the_page(merchant_a):
    campaign = make_campaign(merchant_a)

    _response, page = page_of(campaign)
    qr = Client().get(f"/c/{campaign.slug}/qr.svg")

    assert services.public_url(campaign) in page and f'src="/c/{campaign.slug}/qr.svg"' in page
    assert qr.status_code == 200 and qr["Content-Type"] == "image/svg+xml" and b"<svg" in qr.content


def test_an_unknown_campaign_is_not_found(db):
    assert Client().get("/c/nothing-here/").status_code == 404


def test_the_donor_list_shows_only_consenting_paid_donors(merchant_a):
    campaign = make_campaign(merchant_a)
    give_once_and_pay(campaign, first_name="Jeanne", last_name="martin", public="on")
    give_once_and_pay(campaign, first_name="Paul", last_name="Secret")
    give_once_and_pay(campaign, first_name="Anne", last_name="Dupont", public="on", public_name="The Dupont family")
    give(campaign, first_name="Unpaid", last_name="Donor", public="on", frequency="once")

    _response, page = page_of(campaign)
    listed = re.findall(r"<li>([^<]+)</li>", page.split('class="donor-list"')[1].split("</ul>")[0])

    assert listed == ["The Dupont family", "Jeanne M."]
    assert "Secret" not in page and "Unpaid" not in page


def test_no_donor_list_when_the_campaign_hides_it(merchant_a):
    campaign = make_campaign(merchant_a, show_donors=False)
    give_once_and_pay(campaign, public="on")

    _response, page = page_of(campaign)

    assert "donor-list" not in page and 'name="public"' not in page


# --- gifts -----------------------------------------------------------------------------------------


def test_a_one_off_gift_creates_a_payment_and_a_gift(merchant_a):
    campaign = make_campaign(merchant_a)

    response = give(campaign, frequency="once", amount_choice="5000", public="on")

    payment = Payment.objects.get()
    gift = Gift.objects.get()
    assert response.status_code == 303 and response["Location"].endswith(f"/pay/{payment.hosted_token}/")
    assert payment.amount == 5000 and payment.source == "campaign" and payment.description == campaign.title
    assert payment.metadata == {"campaign": campaign.public_id, "gift": gift.public_id}
    assert payment.billing["email"] == "jeanne@example.org" and payment.billing["city"] == "Paris"
    assert gift.payment == payment and gift.subscription is None and gift.campaign == campaign
    assert (gift.amount, gift.frequency, gift.public) == (5000, "once", True)
    assert (gift.address_line1, gift.postcode, gift.city, gift.country) == ("1 rue de la Paix", "75002", "Paris", "FR")
    assert gift.merchant == merchant_a and gift.is_live is False


def test_a_free_amount_gift_takes_the_amount_typed(merchant_a):
    campaign = make_campaign(merchant_a)

    give(campaign, frequency="once", amount_choice="other", other_amount="12,50")

    assert Payment.objects.get().amount == 1250


def test_a_monthly_gift_creates_a_subscription_and_a_gift(merchant_a):
    campaign = make_campaign(merchant_a)

    response = give(campaign, frequency="month", amount_choice="1000")

    sub = Subscription.objects.get()
    gift = Gift.objects.get()
    assert response.status_code == 303
    assert (sub.amount, sub.interval, sub.source, sub.status) == (1000, "month", "campaign", "incomplete")
    assert sub.metadata == {"campaign": campaign.public_id, "gift": gift.public_id}
    assert gift.subscription == sub and gift.payment is None and gift.frequency == "month"
    assert Payment.objects.get().subscription == sub  # its first hosted page


def test_a_gift_below_the_minimum_is_refused_next_to_the_field(merchant_a):
    campaign = make_campaign(merchant_a, min_amount=500)

    response = give(campaign, frequency="once", amount_choice="other", other_amount="2")
    page = response.content.decode()

    assert response.status_code == 400
    assert re.search(r'id="id_other_amount_error">Enter an amount between', page)
    nothing_created()


def test_a_recurring_gift_without_email_is_refused(merchant_a):
    campaign = make_campaign(merchant_a)

    response = give(campaign, frequency="month", email=None)

    assert response.status_code == 400
    assert re.search(r'id="id_email_error">Enter your email address', response.content.decode())
    nothing_created()


def test_a_missing_name_and_an_unreadable_amount_are_refused(merchant_a):
    campaign = make_campaign(merchant_a)

    response = give(campaign, frequency="once", first_name="", amount_choice="other", other_amount="lots")
    page = response.content.decode()

    assert response.status_code == 400
    assert re.search(r'id="id_first_name_error">This field is required', page)
    assert re.search(r'id="id_other_amount_error">Enter an amount such as', page)
    nothing_created()


def test_a_frequency_not_offered_is_refused(merchant_a):
    campaign = make_campaign(merchant_a, frequencies=["once", "year"])

    response = give(campaign, frequency="month")

    # An unknown choice falls back to the first offered only for display: the field refuses it.
    assert response.status_code == 400
    nothing_created()


def test_an_ended_campaign_says_so_and_takes_no_gift(merchant_a):
    campaign = make_campaign(merchant_a, end_date=recurring.today(merchant_a) - timedelta(days=1))

    response, page = page_of(campaign)
    posted = give(campaign, frequency="once")

    assert response.status_code == 200 and "This campaign is over" in page and "<form" not in page
    assert posted.status_code == 410
    nothing_created()


def test_the_last_day_still_takes_gifts(merchant_a):
    campaign = make_campaign(merchant_a, end_date=recurring.today(merchant_a))

    assert give(campaign, frequency="once").status_code == 303


def test_a_closed_campaign_takes_no_gift(merchant_a):
    campaign = make_campaign(merchant_a)
    Campaign.objects.filter(pk=campaign.pk).update(is_active=False)

    assert give(campaign, frequency="once").status_code == 410
    nothing_created()


def test_gifts_are_rate_limited_per_address(merchant_a, settings):
    settings.CHECKOUT_CREATE_LIMIT_PER_IP = 2
    campaign = make_campaign(merchant_a)

    statuses = [give(campaign, frequency="once").status_code for _ in range(3)]

    assert statuses == [303, 303, 429] and Gift.objects.count() == 2
