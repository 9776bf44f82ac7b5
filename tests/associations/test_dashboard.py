"""Dashboard pages of campaigns: list with totals, create and edit, detail with chart and gifts,
tenancy and roles."""

import io
import re

from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from PIL import Image

from associations.models import Campaign
from merchants.models import Membership
from tests import factories
from tests.associations.helpers import give_monthly_and_pay, give_once_and_pay, make_campaign
from tests.csp import assert_no_inline_script_or_style

FORM = {
    "title": "Save the library",
    "story": "<p>Books for <em>everyone</em></p><script>x()</script>",
    "goal": "1000",
    "suggested_amounts": "10 25, 50",
    "min_amount": "5",
    "max_amount": "",
    "frequencies": ["once", "month"],
    "show_donors": "on",
    "end_date": "",
}


def png(size=(20, 20)) -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", size, "red").save(buffer, format="PNG")
    return SimpleUploadedFile("my photo.png", buffer.getvalue(), content_type="image/png")


def test_creating_a_campaign(alice_client, merchant_a):
    response = alice_client.post("/dashboard/campaigns/new/", {**FORM, "picture": png()})

    campaign = Campaign.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/dashboard/campaigns/{campaign.public_id}/"
    assert (campaign.merchant, campaign.is_live, campaign.title) == (merchant_a, False, "Save the library")
    assert campaign.goal == 100000 and campaign.suggested_amounts == [1000, 2500, 5000]
    assert campaign.min_amount == 500 and campaign.max_amount is None
    assert campaign.frequencies == ["once", "month"] and campaign.show_donors is True
    assert "<script" not in campaign.story and "<em>everyone</em>" in campaign.story
    assert re.fullmatch(r"campaigns/[0-9a-f]{16}\.png", campaign.picture.name)


def test_the_picture_is_served_and_shown_on_the_page(alice_client, merchant_a):
    alice_client.post("/dashboard/campaigns/new/", {**FORM, "picture": png()})
    campaign = Campaign.objects.get()

    page = Client().get(f"/c/{campaign.slug}/").content.decode()
    picture = Client().get(f"/{campaign.picture.url.lstrip('/')}")

    assert f'src="{campaign.picture.url}"' in page
    assert picture.status_code == 200 and picture["Content-Type"] == "image/png"
    assert Client().get("/media/campaigns/0000000000000000.png").status_code == 404


def test_a_picture_that_is_not_png_or_jpeg_is_refused(alice_client, merchant_a):
    fake = SimpleUploadedFile("x.png", b"<svg onload='x()'></svg>", content_type="image/png")

    response = alice_client.post("/dashboard/campaigns/new/", {**FORM, "picture": fake})

    assert response.status_code == 200 and Campaign.objects.count() == 0
    assert 'id="id_picture_error"' in response.content.decode()


def test_a_goal_below_zero_is_refused_next_to_the_field(alice_client, merchant_a):
    response = alice_client.post("/dashboard/campaigns/new/", {**FORM, "goal": "-10"})

    assert response.status_code == 200 and Campaign.objects.count() == 0
    assert re.search(
        r'<p class="error" id="id_goal_error">The goal cannot be below zero.</p>', response.content.decode()
    )


def test_no_frequency_is_refused(alice_client, merchant_a):
    response = alice_client.post("/dashboard/campaigns/new/", {**FORM, "frequencies": []})

    assert response.status_code == 200 and Campaign.objects.count() == 0


def test_editing_a_campaign(alice_client, merchant_a):
    campaign = make_campaign(merchant_a)

    response = alice_client.post(f"/dashboard/campaigns/{campaign.public_id}/edit/", {**FORM, "goal": ""})

    campaign.refresh_from_db()
    assert response.status_code == 302 and campaign.title == "Save the library" and campaign.goal is None


def test_the_list_shows_each_campaigns_totals(alice_client, merchant_a):
    campaign = make_campaign(merchant_a)
    give_once_and_pay(campaign, amount_choice="5000")
    give_monthly_and_pay(campaign, amount_choice="1000")
    make_campaign(merchant_a, title="Empty one", goal=None)

    response = alice_client.get("/dashboard/campaigns/")
    page = response.content.decode()

    assert response.status_code == 200 and "Empty one" in page
    assert re.search(r"data-raised>€60\.00<", page)
    assert re.search(r"data-donors>2<", page) and re.search(r"data-recurring-donors>1<", page)
    assert "6 %" in page  # of €1,000.00
    assert_no_inline_script_or_style(page)


def test_the_detail_page_has_the_chart_the_qr_code_and_the_gifts(alice_client, merchant_a):
    campaign = make_campaign(merchant_a)
    gift = give_once_and_pay(campaign, amount_choice="2500")

    response = alice_client.get(f"/dashboard/campaigns/{campaign.public_id}/")
    page = response.content.decode()
    qr = alice_client.get(f"/dashboard/campaigns/{campaign.public_id}/qr.png")

    assert response.status_code == 200
    assert re.search(r"<svg [^>]*role=\"img\"", page) and "<rect " in page and "Figures per day" in page
    assert f'data-gift="{gift.public_id}"' in page and "jeanne@example.org" in page
    assert f"/dashboard/campaigns/{campaign.public_id}/qr.svg" in page
    assert qr.status_code == 200 and qr["Content-Type"] == "image/png"
    assert_no_inline_script_or_style(page)


def test_another_merchants_campaign_is_not_found(alice_client, merchant_b):
    theirs = make_campaign(merchant_b)

    for suffix in ("", "edit/", "qr.svg"):
        assert alice_client.get(f"/dashboard/campaigns/{theirs.public_id}/{suffix}").status_code == 404
    assert alice_client.post(f"/dashboard/campaigns/{theirs.public_id}/active/", {"active": "0"}).status_code == 404
    theirs.refresh_from_db()
    assert theirs.is_active is True


def test_a_live_mode_campaign_is_not_found_in_test_mode(alice_client, merchant_a):
    live = make_campaign(merchant_a)
    Campaign.objects.filter(pk=live.pk).update(is_live=True)

    assert alice_client.get(f"/dashboard/campaigns/{live.public_id}/").status_code == 404


def test_a_role_without_links_cannot_see_campaigns(merchant_a):
    accountant = factories.member(merchant_a, "accountant@example.org", Membership.Role.ACCOUNTANT)
    client = Client()
    client.force_login(accountant)

    assert client.get("/dashboard/campaigns/").status_code == 403


def test_closing_a_campaign(alice_client, merchant_a):
    campaign = make_campaign(merchant_a)

    alice_client.post(f"/dashboard/campaigns/{campaign.public_id}/active/", {"active": "0"})

    campaign.refresh_from_db()
    assert campaign.is_active is False


def test_the_sidebar_links_to_campaigns(alice_client, merchant_a):
    page = alice_client.get("/dashboard/campaigns/").content.decode()

    assert re.search(r'<a href="/dashboard/campaigns/" aria-current="page">.*Campaigns', page)


def test_every_campaign_page_answers_private_no_store(alice_client, merchant_a):
    campaign = make_campaign(merchant_a)
    base = f"/dashboard/campaigns/{campaign.public_id}/"

    for path in ("/dashboard/campaigns/", "/dashboard/campaigns/new/", base, f"{base}edit/", f"{base}qr.svg"):
        response = alice_client.get(path)
        directives = {d.strip() for d in response["Cache-Control"].split(",")}
        assert response.status_code == 200 and {"private", "no-store"} <= directives, path
