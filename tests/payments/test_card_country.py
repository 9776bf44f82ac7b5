"""The card's country: the acquirer's answer, else the BIN table (payments.bins), in both modes.

The state machine used to ask the sandbox for every card's country, live ones included, and the
sandbox answers "FR" whatever the number: in live mode every fraud feature and rule that compares
the card's country with the IP's or the billing address's ran on a constant.
"""

import re

import pytest
import responses

from payments import bins
from payments.models import Payment
from tests import factories
from tests.payments.helpers import create_payment, pay

ACQUIRER = "https://acquirer.test"
FRENCH_CARD = "5132830000000000"  # BIN 513283: a French Mastercard in the table
ITALIAN_CARD = "5333170000000008"  # BIN 533317: Italian
SANDBOX_CARD = "4242424242424242"  # BIN 424242 is a US BIN in the table; the sandbox says FR


def authorization(status="authorized", **extra):
    return {
        "id": "auth_country_1",
        "object": "authorization",
        "status": status,
        "amount": 3300,
        "currency": "EUR",
        "decline_code": "generic_decline" if status == "declined" else None,
        "message": None,
        "three_ds": {"performed": False, "frictionless": False},
        **extra,
    }


@pytest.fixture
def live_api(settings):
    settings.LIVE_ACQUIRER = "http"
    settings.ACQUIRER_URL = ACQUIRER
    settings.ACQUIRER_API_KEY = "sk_live_acquirer"
    merchant = factories.live_merchant("Country Shop")
    return factories.ApiClient(factories.secret_key(merchant, is_live=True))


@pytest.fixture
def acquirer():
    with responses.RequestsMock(assert_all_requests_are_fired=False) as fake:
        fake.post(
            re.compile(rf"{ACQUIRER}/v1/authorizations/[^/]+/capture"),
            json={"id": "cap_1", "object": "capture", "status": "succeeded", "amount": 3300},
        )
        fake.post(
            re.compile(rf"{ACQUIRER}/v1/authorizations/[^/]+/void"),
            json={"id": "void_1", "object": "void", "status": "succeeded", "amount": 0},
        )
        yield fake


def test_the_bin_table_knows_issuers_and_says_nothing_of_the_rest():
    assert bins.country_of(FRENCH_CARD) == "FR"
    assert bins.country_of(ITALIAN_CARD) == "IT"
    assert bins.country_of("533317") == "IT"  # a BIN alone
    assert bins.country_of("0000000000000000") is None  # not in the table
    for unreadable in ("", "5132", "51328x000000", None):
        assert bins.country_of(unreadable) is None


def test_the_compact_index_holds_what_the_package_ships(tmp_path):
    path = bins.build_index(tmp_path / "bins.idx")
    keys, countries = bins._decode(path.read_bytes())
    table = bins.read_package_table()
    assert len(keys) == len(table) > 100_000
    for i in range(0, len(keys), 997):  # a sample across the whole range
        assert countries[2 * i : 2 * i + 2].decode() == table[keys[i]]


def test_a_live_payment_takes_its_country_from_the_bin(live_api, acquirer):
    acquirer.post(f"{ACQUIRER}/v1/authorizations", json=authorization(), status=201)
    payment = create_payment(live_api)
    assert payment["is_live"] is True

    pay(payment, number=FRENCH_CARD)

    stored = Payment.objects.get(public_id=payment["id"])
    assert stored.card_country == "FR"
    assert stored.attempts.get().card_country == "FR"
    assert live_api.get(f"/v1/payments/{payment['id']}").json()["card"]["country"] == "FR"


def test_in_live_mode_another_bin_gives_another_country(live_api, acquirer):
    acquirer.post(f"{ACQUIRER}/v1/authorizations", json=authorization(), status=201)
    payment = create_payment(live_api)

    pay(payment, number=ITALIAN_CARD)

    assert Payment.objects.get(public_id=payment["id"]).card_country == "IT"


def test_the_live_acquirers_answer_wins_over_the_table(live_api, acquirer):
    acquirer.post(f"{ACQUIRER}/v1/authorizations", json=authorization(card={"country": "BE"}), status=201)
    payment = create_payment(live_api)

    pay(payment, number=FRENCH_CARD)

    assert Payment.objects.get(public_id=payment["id"]).card_country == "BE"


def test_a_declined_live_attempt_keeps_the_country_too(live_api, acquirer):
    acquirer.post(f"{ACQUIRER}/v1/authorizations", json=authorization("declined"), status=201)
    payment = create_payment(live_api)

    pay(payment, number=ITALIAN_CARD)

    stored = Payment.objects.get(public_id=payment["id"])
    assert stored.status != Payment.Status.PAID
    assert stored.attempts.get().card_country == "IT"


def test_test_mode_cards_are_french_as_the_sandbox_answers(api):
    assert bins.country_of(SANDBOX_CARD) == "US"
    payment = create_payment(api)

    pay(payment, number=SANDBOX_CARD)

    stored = Payment.objects.get(public_id=payment["id"])
    assert stored.is_live is False and stored.status == Payment.Status.PAID
    assert stored.card_country == "FR"
