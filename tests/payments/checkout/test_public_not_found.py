"""A bad payment or link address shows shoppers the friendly "page not found", never Django's
debug page listing the URL patterns, even with DEBUG on as under `make run` (issue 12, finding 21)."""

import pytest
from django.test import override_settings

from tests.payments.helpers import create_payment, hosted_path

pytestmark = pytest.mark.django_db

PUBLIC_PATHS = [
    "/pay/no-such-token/",
    "/pay/no-such-token/3ds/",
    "/pay/no-such-token/result/",
    "/pay/brand/no-such-merchant.css",
    "/pay/no-such-token/extra/parts/",
    "/pay/button/",
    "/pay/",
    "/l/no-such-link/",
    "/l/no-such-link/extra/",
    "/l/",
]


@override_settings(DEBUG=True)
@pytest.mark.parametrize("path", PUBLIC_PATHS)
def test_bad_public_addresses_get_the_friendly_404_with_debug_on(client, path):
    response = client.get(path, follow=True)

    assert response.status_code == 404
    html = response.content.decode()
    assert "URLconf" not in html and "Django tried these URL patterns" not in html
    assert "Page not found" in html
    assert "Back to the dashboard" not in html, "shoppers have no dashboard"


@override_settings(DEBUG=True)
def test_a_bad_address_without_trailing_slash_still_ends_on_the_friendly_page(client):
    response = client.get("/pay/no-such-token/extra", follow=True)

    assert response.status_code == 404
    assert "URLconf" not in response.content.decode()


@override_settings(DEBUG=True)
def test_good_public_pages_still_work_with_debug_on(api, client):
    payment = create_payment(api)

    assert client.get(hosted_path(payment)).status_code == 200
    assert client.get(hosted_path(payment).rstrip("/"), follow=True).status_code == 200


def test_with_debug_off_the_answer_is_the_same_page(client):
    response = client.get("/pay/no-such-token/")

    assert response.status_code == 404
    assert "Page not found" in response.content.decode()
