"""Every response, HTML or API, success or error, carries its request id: `X-Request-Id: req_...`."""

import re

import pytest
from django.test import Client, override_settings
from django.urls import include, path

pytestmark = pytest.mark.django_db

REQUEST_ID = re.compile(r"^req_[0-9A-Za-z]{20}$")


def boom(request):
    raise RuntimeError("unexpected")


def __getattr__(name):
    """This module doubles as a URLconf (pytest.mark.urls) that adds failing views to the real
    routes; built on first use, so that collecting the tests does not import every app's views."""
    if name == "urlpatterns":
        return [path("boom/", boom), path("v1/boom", boom), path("", include("payplug.urls"))]
    raise AttributeError(name)


handler404 = "payplug.views.page_not_found"
handler500 = "payplug.views.server_error"


def assert_request_id(response):
    request_id = response["X-Request-Id"]
    assert REQUEST_ID.match(request_id), request_id
    return request_id


@pytest.mark.parametrize(
    ("url", "status", "content_type"),
    [
        ("/login/", 200, "text/html"),
        ("/signup/", 200, "text/html"),
        ("/dashboard/", 302, "text/html"),
        ("/no-such-page/", 404, "text/html"),
        ("/healthz", 200, "application/json"),
        ("/readyz", 200, "application/json"),
        ("/metrics", 200, "text/plain"),
        ("/test", 200, "application/json"),
        ("/v1/payments", 401, "application/json"),
    ],
)
def test_pages_and_api_answers_carry_a_request_id(client, url, status, content_type):
    response = client.get(url)
    assert response.status_code == status
    assert response["Content-Type"].startswith(content_type)
    assert_request_id(response)


def test_api_errors_repeat_it_in_the_body(client, api):
    unauthenticated = client.get("/v1/payments")
    assert unauthenticated.json()["request_id"] == assert_request_id(unauthenticated)
    not_found = api.get("/v1/no-such-thing")
    assert not_found.status_code == 404
    assert not_found.json()["request_id"] == assert_request_id(not_found)


def test_posts_and_form_errors_carry_it(client):
    response = client.post("/login/", {"username": "nobody@example.org", "password": "wrong-password"})
    assert response.status_code in (200, 403)
    assert_request_id(response)


def test_each_request_gets_its_own(client):
    ids = {client.get("/healthz")["X-Request-Id"] for _ in range(5)}
    assert len(ids) == 5


def test_a_client_cannot_choose_it(client):
    response = client.get("/healthz", headers={"X-Request-Id": "req_chosen_by_the_client"})
    assert response["X-Request-Id"] != "req_chosen_by_the_client"
    assert_request_id(response)


@override_settings(API_REQUIRE_HTTPS=True)
def test_the_https_required_refusal_carries_it(client):
    response = client.get("/v1/payments")
    assert response.status_code == 403
    assert response.json()["code"] == "https_required"
    assert response.json()["request_id"] == assert_request_id(response)


@pytest.mark.urls(__name__)
def test_a_crashing_page_carries_it():
    response = Client(raise_request_exception=False).get("/boom/")
    assert response.status_code == 500
    assert response["Content-Type"].startswith("text/html")
    assert_request_id(response)


@pytest.mark.urls(__name__)
def test_a_crashing_api_call_carries_it_in_the_header_and_the_body():
    response = Client(raise_request_exception=False).get("/v1/boom")
    assert response.status_code == 500
    assert response.json()["code"] == "server_error"
    assert response.json()["request_id"] == assert_request_id(response)
