"""The organisation's time zone (issue 12, finding 17): Europe/Paris by default, any zone of the
IANA database, chosen on the settings page and active on every dashboard page."""

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from merchants.models import Merchant
from tests.merchants.test_settings_profile import PROFILE, URL

pytestmark = pytest.mark.django_db


def test_a_new_organisation_is_on_paris_time(merchant_a):
    assert merchant_a.time_zone == "Europe/Paris"


@pytest.mark.parametrize("zone", ["Mars/Olympus", "europe/paris ", "", "UTC+2"])
def test_an_unknown_time_zone_is_refused_by_the_model(merchant_a, zone):
    merchant_a.time_zone = zone
    with pytest.raises(ValidationError) as raised:
        merchant_a.full_clean()
    assert "time_zone" in raised.value.message_dict


def test_the_settings_page_saves_the_time_zone(alice_client, merchant_a):
    page = alice_client.get(URL).content.decode()
    assert 'name="time_zone"' in page and '<option value="Europe/Paris" selected>' in page

    response = alice_client.post(URL, {**PROFILE, "time_zone": "Europe/Rome"})

    assert response.status_code == 302
    assert Merchant.objects.get(pk=merchant_a.pk).time_zone == "Europe/Rome"


def test_the_settings_page_refuses_an_unknown_time_zone(alice_client, merchant_a):
    response = alice_client.post(URL, {**PROFILE, "time_zone": "Mars/Olympus"})

    assert response.status_code == 200
    assert response.context["profile_form"].errors["time_zone"]
    assert Merchant.objects.get(pk=merchant_a.pk).time_zone == "Europe/Paris"


def test_the_time_zone_is_only_active_during_a_dashboard_request(alice_client, merchant_a):
    Merchant.objects.filter(pk=merchant_a.pk).update(time_zone="Asia/Tokyo")

    response = alice_client.get("/dashboard/")

    assert response.status_code == 200
    assert response.wsgi_request.dashboard.time_zone == "Asia/Tokyo"
    assert timezone.get_current_timezone_name() == "UTC"  # not left active for whatever runs next
