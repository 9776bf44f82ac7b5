"""The pay button reads its JSON body the way the API does (issue 12, finding 6).

A body nested deeper than the API's limit, or one that makes `json.loads` recurse until Python
gives up (RecursionError), is a 400 with the button's error object and its CORS headers, never
a 500; and nothing is created.
"""

import pytest
from django.core.cache import cache
from django.test import Client

from merchants.models import Merchant
from payments.models import Payment
from payplug.api import MAX_JSON_DEPTH
from tests import factories

pytestmark = pytest.mark.django_db

ORIGIN = "https://asso.example.org"


@pytest.fixture(autouse=True)
def _clean_cache():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def pk(merchant_a):
    Merchant.objects.filter(pk=merchant_a.pk).update(allowed_origins=[ORIGIN])
    merchant_a.refresh_from_db()
    return factories.publishable_key(merchant_a)


def post(key, raw: str | bytes):
    # raise_request_exception=False: an unhandled exception is seen as the 500 a browser would get
    return Client(raise_request_exception=False).post(
        f"/pay/button/{key}/", raw, content_type="application/json", headers={"origin": ORIGIN}
    )


def nested(depth: int) -> str:
    return '{"amount": 1500, "description": "Don", "x": ' + "[" * depth + "]" * depth + "}"


def assert_refused(response):
    assert response.status_code == 400
    body = response.json()
    assert body["object"] == "error"
    assert body["code"] == "invalid_request"
    assert body["message"]
    assert response["Access-Control-Allow-Origin"] == ORIGIN  # the calling page may read why
    assert "Origin" in response["Vary"]
    assert response["Cache-Control"] == "no-store"
    assert not Payment.objects.exists()


def test_a_body_that_makes_json_recurse_too_deep_is_a_400_not_a_500(pk):
    raw = "[" * 2000 + "]" * 2000  # 4000 bytes: under the button's body limit, beyond Python's recursion limit

    assert_refused(post(pk, raw))


def test_a_deep_value_inside_a_valid_payment_body_is_a_400(pk):
    raw = '{"amount": 1500, "x": ' + "[" * 1500 + "]" * 1500 + "}"

    assert_refused(post(pk, raw))


def test_a_body_nested_deeper_than_the_apis_limit_is_refused(pk):
    assert_refused(post(pk, nested(MAX_JSON_DEPTH + 1)))


def test_a_body_nested_within_the_limit_still_creates_a_payment(pk):
    response = post(pk, nested(MAX_JSON_DEPTH - 1))

    assert response.status_code == 201
    assert Payment.objects.get().amount == 1500


@pytest.mark.parametrize("constant", ["NaN", "Infinity", "-Infinity", "1e999"])
def test_non_finite_numbers_are_refused_as_the_api_does(pk, constant):
    assert_refused(post(pk, '{"amount": 1500, "x": ' + constant + "}"))


@pytest.mark.parametrize("raw", ["not json", "[1, 2]", '"text"', b'{"amount": 1500, "d": "\xff"}'])
def test_other_bad_bodies_keep_the_same_answer(pk, raw):
    assert_refused(post(pk, raw))
