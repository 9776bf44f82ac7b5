"""routing.candidates: the merchant's ordered route for the mode, or the defaults of before."""

import pytest
from django.core.exceptions import ValidationError
from django.test import override_settings

from payments.acquirers import routing
from payments.models import AcquirerRoute

from .conftest import make_connector, make_route

pytestmark = pytest.mark.django_db


def _ids(connectors):
    return [c.pk for c in connectors]


def _pick(merchant, is_live=False, *, brand="Visa", amount=1000, country="FR"):
    return routing.candidates(merchant, is_live, brand=brand, amount=amount, country=country)


@pytest.mark.parametrize("is_live", [False, True])
def test_without_routes_the_default_is_what_it_was(merchant_a, is_live):
    (default,) = _pick(merchant_a, is_live)
    assert routing.is_default(default)
    assert default.provider == "sandbox"  # test mode; and live with LIVE_ACQUIRER=sandbox (the default)
    assert default.merchant_id == merchant_a.pk and default.is_live is is_live


@override_settings(LIVE_ACQUIRER="http", ACQUIRER_URL="https://acquirer.example", ACQUIRER_API_KEY="k-settings")
def test_live_without_routes_follows_live_acquirer(merchant_a):
    (default,) = _pick(merchant_a, True)
    assert default.provider == "generic_http" and routing.is_default(default)
    config = routing.connector_config(default)
    assert config.base_url == "https://acquirer.example" and config.api_key == "k-settings"
    # test mode keeps the sandbox whatever LIVE_ACQUIRER says
    assert _pick(merchant_a, False)[0].provider == "sandbox"


def test_routes_are_tried_in_order_and_each_connector_once(merchant_a):
    stripe = make_connector(merchant_a, label="stripe")
    adyen = make_connector(merchant_a, provider="adyen", label="adyen")
    make_route(adyen, 2)
    make_route(stripe, 1)
    make_route(adyen, 3)
    make_route(stripe, 4)
    assert _ids(_pick(merchant_a)) == [stripe.pk, adyen.pk]


def test_brand_condition(merchant_a):
    amex = make_connector(merchant_a, label="amex only")
    anything = make_connector(merchant_a, provider="adyen", label="any")
    make_route(amex, 1, card_brands=["American Express"])
    make_route(anything, 2)
    assert _ids(_pick(merchant_a, brand="American Express")) == [amex.pk, anything.pk]
    assert _ids(_pick(merchant_a, brand="american express")) == [amex.pk, anything.pk]
    assert _ids(_pick(merchant_a, brand="Visa")) == [anything.pk]
    assert _ids(_pick(merchant_a, brand=None)) == [anything.pk]


def test_amount_bounds_are_inclusive(merchant_a):
    small = make_connector(merchant_a, label="small")
    make_route(small, 1, min_amount=100, max_amount=5000)
    assert _ids(_pick(merchant_a, amount=100)) == [small.pk]
    assert _ids(_pick(merchant_a, amount=5000)) == [small.pk]
    assert _pick(merchant_a, amount=99) == []
    assert _pick(merchant_a, amount=5001) == []


def test_open_bounds(merchant_a):
    big = make_connector(merchant_a, label="big")
    make_route(big, 1, min_amount=10000)
    assert _ids(_pick(merchant_a, amount=10**9)) == [big.pk]
    assert _pick(merchant_a, amount=9999) == []


def test_country_condition(merchant_a):
    domestic = make_connector(merchant_a, label="domestic")
    make_route(domestic, 1, card_countries=["FR", "BE"])
    assert _ids(_pick(merchant_a, country="BE")) == [domestic.pk]
    assert _ids(_pick(merchant_a, country="fr")) == [domestic.pk]
    assert _pick(merchant_a, country="DE") == []
    assert _pick(merchant_a, country=None) == []


def test_all_conditions_must_hold(merchant_a):
    connector = make_connector(merchant_a)
    make_route(connector, 1, card_brands=["Visa"], min_amount=500, card_countries=["FR"])
    assert _ids(_pick(merchant_a, brand="Visa", amount=500, country="FR")) == [connector.pk]
    assert _pick(merchant_a, brand="Mastercard", amount=500, country="FR") == []
    assert _pick(merchant_a, brand="Visa", amount=499, country="FR") == []
    assert _pick(merchant_a, brand="Visa", amount=500, country="ES") == []


def test_disabled_connectors_are_skipped_and_no_default_replaces_them(merchant_a):
    off = make_connector(merchant_a, label="off", is_enabled=False)
    on = make_connector(merchant_a, provider="adyen", label="on")
    make_route(off, 1)
    make_route(on, 2)
    assert _ids(_pick(merchant_a)) == [on.pk]
    on.is_enabled = False
    on.save()
    assert _pick(merchant_a) == []  # routes exist: nothing is sent to a default the merchant did not choose


def test_another_merchants_or_another_modes_routes_are_never_used(merchant_a, merchant_b):
    theirs = make_connector(merchant_b, label="b")
    make_route(theirs, 1)
    live = make_connector(merchant_a, True, label="live")
    make_route(live, 1)
    (default,) = _pick(merchant_a, False)
    assert routing.is_default(default)
    assert _ids(_pick(merchant_a, True)) == [live.pk]
    assert _ids(_pick(merchant_b, False)) == [theirs.pk]
    assert _pick(merchant_b, True)[0].pk is None


def test_a_route_to_another_tenants_connector_is_refused_and_ignored(merchant_a, merchant_b):
    theirs = make_connector(merchant_b, label="b")
    live = make_connector(merchant_a, True, label="live")
    for connector, is_live in ((theirs, False), (live, False)):
        route = AcquirerRoute(merchant=merchant_a, is_live=is_live, connector=connector, position=1)
        with pytest.raises(ValidationError) as caught:
            route.full_clean()
        assert "connector" in caught.value.message_dict
        route.save()  # written around clean(), e.g. by a script: the decision still refuses it
    assert _pick(merchant_a, False) == []  # the merchant has (broken) routes: none usable


def test_route_validation(merchant_a):
    connector = make_connector(merchant_a)
    for conditions, field in (
        ({"min_amount": 500, "max_amount": 499}, "max_amount"),
        ({"card_countries": ["fra"]}, "card_countries"),
        ({"card_countries": ["fr"]}, "card_countries"),
        ({"card_brands": [""]}, "card_brands"),
        ({"card_brands": "Visa"}, "card_brands"),
    ):
        route = AcquirerRoute(merchant=merchant_a, is_live=False, connector=connector, position=1, **conditions)
        with pytest.raises(ValidationError) as caught:
            route.full_clean()
        assert field in caught.value.message_dict, conditions


def test_deciding_does_not_write(merchant_a, django_assert_max_num_queries):
    connector = make_connector(merchant_a)
    make_route(connector, 1)
    with django_assert_max_num_queries(1):
        assert _ids(_pick(merchant_a)) == [connector.pk]
