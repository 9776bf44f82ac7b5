"""The fast path of POST /v1/payments returns exactly what PaymentCreateSerializer returns.

`fast_payment_create` may decline any body (None: the serializer runs), but whatever it accepts
must be accepted by the serializer with the same validated data. Hypothesis mutates a valid
body field by field with values chosen to sit on the serializer's edges: blanks, surrounding
spaces, NUL characters, lengths at and over the limits, wrong JSON types, bad URLs, phone
numbers with a trailing newline (which `$` in a regex lets through), unknown keys.
"""

from __future__ import annotations

import copy
from types import SimpleNamespace
from unittest import mock

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rest_framework.exceptions import ValidationError

from payments.api.serializers import PaymentCreateSerializer, fast_payment_create

MERCHANT = SimpleNamespace(min_amount=100, max_amount=500_000)

ADDRESS = {
    "title": "mr",
    "first_name": "John",
    "last_name": "Watson",
    "email": "john.watson@example.net",
    "address1": "221B Baker Street",
    "postcode": "75008",
    "city": "Paris",
    "country": "FR",
    "language": "fr",
}
BODY = {
    "amount": 3300,
    "currency": "EUR",
    "billing": ADDRESS,
    "shipping": {**ADDRESS, "delivery_type": "BILLING"},
    "hosted_payment": {
        "return_url": "https://shop.example.net/success?id=42",
        "cancel_url": "https://shop.example.net/cancel?id=42",
    },
    "notification_url": "https://shop.example.net/notifications?id=42",
    "metadata": {"customer_id": 42, "order": "A-0042"},
    "description": "Order A-0042",
}

EDGE_STRINGS = [
    "",
    " ",
    "\t",
    "x",
    " x",
    "x ",
    "x\n",
    "a\x00b",
    "é",
    "a" * 16,
    "a" * 17,
    "a" * 100,
    "a" * 101,
    "a" * 255,
    "a" * 256,
    "a" * 500,
    "a" * 501,
    "EUR",
    "eur",
    " EUR",
    "USD",
    "FR",
    "fr",
    "XX",
    "en",
    "EN",
    "zz",
    "mr",
    "MR",
    "mrs",
    "miss",
    "BILLING",
    "billing",
    "DIGITAL_GOODS",
    "EMAIL",
    "SMS",
    "+33612345678",
    "+33612345678\n",
    "+336",
    "0612345678",
    "john@example.net",
    "john@",
    "not an email",
    " john@example.net",
    "https://a.example/x",
    "http://a.example",
    "https://a.example/x y",
    " https://a.example/",
    "ftp://a.example",
    "https://u:p@a.example/",
    "https://",
    "https://[::1",
    "https://a.example/" + "p" * 2040,
    "javascript:alert(1)",
    "PAYER",
    "MERCHANT",
]
EDGE_VALUES = [
    None,
    True,
    False,
    0,
    1,
    -1,
    98,
    99,
    100,
    101,
    3300,
    500_000,
    500_001,
    2_000_001,
    2**63,
    1.5,
    float("-0.0"),
    [],
    ["x"],
    {},
    {"a": 1},
    {"nested": {"a": 1}},
    {"": 1},
    {"k" * 41: 1},
    {"k": "v" * 501},
    {"k": 2**64},
    {"k": None, "b": True, "f": 1.25},
    {str(i): i for i in range(21)},
    *EDGE_STRINGS,
]
TOP_KEYS = [
    *BODY,
    "authorized_amount",
    "auto_capture",
    "save_card",
    "allow_save_card",
    "force_3ds",
    "sent_by",
    "integration",
    "initiator",
    "payment_context",
    "customer",
    "unknown_field",
]
ADDRESS_KEYS = [
    *ADDRESS,
    "company_name",
    "mobile_phone_number",
    "landline_phone_number",
    "address2",
    "state",
    "delivery_type",
    "zip",
]
HOSTED_KEYS = ["return_url", "cancel_url", "sent_by", "other"]

values = st.sampled_from(EDGE_VALUES)
mutation = st.one_of(
    st.tuples(st.just("top"), st.sampled_from(TOP_KEYS), values | st.just("<delete>")),
    st.tuples(st.sampled_from(["billing", "shipping"]), st.sampled_from(ADDRESS_KEYS), values | st.just("<delete>")),
    st.tuples(st.just("hosted_payment"), st.sampled_from(HOSTED_KEYS), values | st.just("<delete>")),
)


def apply(body: dict, mutations) -> dict:
    body = copy.deepcopy(body)
    for where, key, value in mutations:
        target = body if where == "top" else body.get(where)
        if not isinstance(target, dict):
            continue
        if value == "<delete>":
            target.pop(key, None)
        else:
            target[key] = copy.deepcopy(value)
    return body


def serializer_result(body: dict, is_live: bool):
    try:
        return PaymentCreateSerializer.check(copy.deepcopy(body), {"merchant": MERCHANT, "is_live": is_live})
    except ValidationError as exc:
        return exc


@settings(
    max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture]
)
@given(st.lists(mutation, max_size=4), st.booleans())
def test_whatever_the_fast_path_accepts_the_serializer_accepts_identically(mutations, is_live):
    body = apply(BODY, mutations)
    fast = fast_payment_create(copy.deepcopy(body), MERCHANT, is_live)
    if fast is None:
        return
    expected = serializer_result(body, is_live)
    assert not isinstance(expected, ValidationError), (body, expected.detail)
    assert fast == dict(expected)


@pytest.mark.parametrize(
    "body",
    [
        BODY,
        {**BODY, "shipping": None, "notification_url": None, "description": None},
        {key: value for key, value in BODY.items() if key not in ("shipping", "metadata", "description")},
        {**{k: v for k, v in BODY.items() if k != "amount"}, "authorized_amount": 5000, "auto_capture": True},
        {**BODY, "save_card": True, "force_3ds": False, "hosted_payment": {"return_url": "http://shop.example/"}},
    ],
)
def test_common_bodies_take_the_fast_path_with_the_serializers_result(body):
    fast = fast_payment_create(copy.deepcopy(body), MERCHANT, False)
    assert fast is not None
    assert fast == dict(serializer_result(body, False))


@pytest.mark.parametrize(
    "change",
    [
        {"currency": " EUR"},  # valid once trimmed: the serializer decides
        {"description": ""},
        {"billing": {**ADDRESS, "first_name": " John"}},
        {"billing": {**ADDRESS, "mobile_phone_number": "+33612345678\n"}},
        {"hosted_payment": {"return_url": "https://shop.example/", "sent_by": "EMAIL"}},
        {"payment_method": "card_x", "initiator": "PAYER"},
        {"amount": True},
        {"amount": 99},
        {"notification_url": "http://shop.example/ipn"},  # live mode wants https
    ],
)
def test_unusual_bodies_go_through_the_serializer(change):
    assert fast_payment_create({**copy.deepcopy(BODY), **change}, MERCHANT, True) is None


def test_the_api_answers_the_same_through_either_path(api):
    """The same body, once by the fast path and once forced through the serializer."""
    first = api.post("/v1/payments", BODY)
    with mock.patch("payments.api.views.fast_payment_create", return_value=None):
        second = api.post("/v1/payments", BODY)
    assert first.status_code == second.status_code == 201
    ignore = {"id", "created_at", "hosted_payment"}
    a, b = first.json(), second.json()
    assert {k: v for k, v in a.items() if k not in ignore} == {k: v for k, v in b.items() if k not in ignore}
    assert a["hosted_payment"]["return_url"] == b["hosted_payment"]["return_url"]
