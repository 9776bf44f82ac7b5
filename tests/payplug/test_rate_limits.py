"""Rate limits and the PayPlug-Version header (spec §1, §15)."""

import pytest

from payplug import ratelimit

pytestmark = pytest.mark.django_db


def test_every_api_response_carries_the_rate_limit_headers(api):
    response = api.get("/v1/payments")
    assert response["X-RateLimit-Limit"] == "200"
    assert int(response["X-RateLimit-Remaining"]) == 199
    assert int(response["X-RateLimit-Reset"]) > 0


def test_over_the_limit_is_429_with_retry_after(api, settings):
    settings.API_RATE_LIMIT_BURST = 3
    settings.API_RATE_LIMIT_PER_SECOND = 0.01
    statuses = [api.get("/v1/payments").status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    response = api.get("/v1/payments")
    assert response.json()["code"] == "rate_limited"
    assert int(response["Retry-After"]) >= 1


def test_keys_have_their_own_buckets(api, api_b, settings):
    settings.API_RATE_LIMIT_BURST = 2
    settings.API_RATE_LIMIT_PER_SECOND = 0.01
    api.get("/v1/payments")
    api.get("/v1/payments")
    assert api.get("/v1/payments").status_code == 429
    assert api_b.get("/v1/payments").status_code == 200


def test_unauthenticated_requests_are_limited_per_ip(client, settings):
    settings.API_RATE_LIMIT_BURST = 2
    settings.API_RATE_LIMIT_PER_SECOND = 0.01
    codes = [client.get("/v1/payments").status_code for _ in range(3)]
    assert codes == [401, 401, 429]


@pytest.mark.parametrize("value", ["", "2019-08-06", "2026-11-25"])
def test_any_date_or_empty_version_is_accepted(api, value):
    assert api.get("/v1/payments", headers={"PayPlug-Version": value}).status_code == 200


def test_a_version_that_is_not_a_date_is_400(api):
    response = api.get("/v1/payments", headers={"PayPlug-Version": "latest"})
    assert response.status_code == 400
    assert response.json()["message"].startswith("PayPlug-Version")


@pytest.mark.redis
def test_redis_buckets_are_shared(api, settings):
    settings.API_RATE_LIMIT_BURST = 2
    settings.API_RATE_LIMIT_PER_SECOND = 0.01
    key = f"test-shared-{id(settings)}"
    assert ratelimit.take(key).allowed and ratelimit.take(key).allowed
    ratelimit.reset()  # a new process would have empty memory: Redis still remembers
    assert not ratelimit.take(key).allowed
