"""The API's authentication and error conventions (spec §1-§3) on routes that exist for sure."""

import pytest

from merchants.models import ApiKey
from merchants.services.audit import Actor
from merchants.services.keys import revoke_api_key
from payplug.ids import random_base62
from tests import factories

pytestmark = pytest.mark.django_db


def test_liveness_route_needs_no_key(client):
    response = client.get("/test")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_missing_key_is_401_authentication_required(client):
    response = client.get("/v1/payments")
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Bearer"
    body = response.json()
    assert body["object"] == "error"
    assert body["code"] == "authentication_required"
    assert body["request_id"] == response["X-Request-Id"]
    assert body["request_id"].startswith("req_")


def test_unknown_key_is_401_invalid_api_key(client):
    response = client.get("/v1/payments", headers={"Authorization": "Bearer sk_test_" + "x" * 32})
    assert response.status_code == 401
    assert response.json()["code"] == "invalid_api_key"


def test_other_scheme_is_401_authentication_required(client):
    response = client.get("/v1/payments", headers={"Authorization": "Basic Zm9vOmJhcg=="})
    assert response.status_code == 401
    assert response.json()["code"] == "authentication_required"


def test_publishable_key_is_403(client, merchant_a):
    key = factories.publishable_key(merchant_a)
    response = client.get("/v1/payments", headers={"Authorization": f"Bearer {key}"})
    assert response.status_code == 403
    assert response.json()["code"] == "publishable_key_not_allowed"


def test_revoked_key_is_401(client, merchant_a):
    raw = factories.secret_key(merchant_a)
    revoke_api_key(ApiKey.objects.get(key_hash=ApiKey.hash_key(raw)), Actor.system())
    response = client.get("/v1/payments", headers={"Authorization": f"Bearer {raw}"})
    assert response.status_code == 401
    assert response.json()["code"] == "invalid_api_key"


def test_live_key_of_unapproved_merchant_is_403(client, merchant_a):
    raw = "sk_live_" + random_base62(32)
    ApiKey.objects.create(
        merchant=merchant_a, is_live=True, kind="secret", prefix=raw[:12], key_hash=ApiKey.hash_key(raw)
    )
    response = client.get("/v1/payments", headers={"Authorization": f"Bearer {raw}"})
    assert response.status_code == 403
    assert response.json()["code"] == "account_not_live"


def test_unknown_route_after_authentication_is_404_json(api):
    response = api.get("/v1/no-such-thing")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("application/json")
    assert response.json()["code"] == "not_found"


def test_dashboard_404_is_html(client):
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")
