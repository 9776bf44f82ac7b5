"""Drives the official PayPlug SDK (payplug 1.4.0 from PyPI) against a running server.

Run with the SDK's own virtualenv, never with the project's (both packages are called `payplug`):

    <sdk venv>/bin/python -I sdk_driver.py BASE_URL SECRET_KEY SCENARIO [PARAMS_JSON]

The only configuration is what a merchant would do: `payplug.routes.API_BASE_URL = BASE_URL`
and `payplug.set_secret_key(SECRET_KEY)`. Each scenario makes SDK calls and records what the SDK
returned: resource objects as `{"_class": "payplug.resources.Payment", <attributes>}` (nested
objects too), exceptions as `{"_error": "payplug.exceptions.BadRequest", "http_status", "error_object"}`.

Protocol, JSON lines: when a scenario needs the outside world (a shopper paying on the hosted
page, the notification body the platform sent) it writes `{"kind": "ask", "op": ...}` on stdout
and reads one `{"data": ...}` line on stdin. The last line is
`{"kind": "result", "ok": bool, "data": {...}, "error": str|null}`.

This file must not import anything from the platform.
"""

from __future__ import annotations

import json
import socket
import sys
import time
import traceback

import payplug
from payplug import exceptions, network, notifications, resources, routes

PROTOCOL = sys.stdout
sys.stdout = sys.stderr  # anything else printed goes to stderr, the protocol stays clean
socket.setdefaulttimeout(30)  # the SDK sets no timeout; a stuck server must not hang the test run

SCENARIOS = {}

BILLING = {
    "title": "mrs",
    "first_name": "Jeanne",
    "last_name": "Martin",
    "email": "jeanne.martin@example.org",
    "address1": "12 rue des Lilas",
    "postcode": "75011",
    "city": "Paris",
    "country": "FR",
    "language": "fr",
}
SHIPPING = {**BILLING, "delivery_type": "BILLING"}
HOSTED = {"return_url": "https://shop.example.org/ok?order=42", "cancel_url": "https://shop.example.org/cancel"}
SUCCESS_CARD = "4242 4242 4242 4242"
MASTERCARD = "5555 5555 5555 4444"
DECLINED_CARD = "4000 0000 0000 0002"
CHALLENGE_CARD = "4000 0025 0000 3155"


def scenario(function):
    SCENARIOS[function.__name__] = function
    return function


# --- helpers ------------------------------------------------------------------------------------


def ask(op, **fields):
    PROTOCOL.write(json.dumps({"kind": "ask", "op": op, **fields}) + "\n")
    PROTOCOL.flush()
    line = sys.stdin.readline()
    if not line:
        raise RuntimeError(f"no answer to {op!r}: the test closed the channel")
    return json.loads(line)["data"]


def qualname(value) -> str:
    return f"{type(value).__module__}.{type(value).__qualname__}"


def dump(value):
    """What the SDK handed back, as JSON: attributes read through the SDK objects themselves."""
    if isinstance(value, resources.APIResourceCollection):
        out = {"_class": qualname(value)}
        out.update({key: dump(getattr(value, key)) for key in value._attributes if key != "data"})
        out["data"] = [dump(item) for item in value]  # the collection's own iterator
        return out
    if isinstance(value, resources.APIResource):
        return {"_class": qualname(value), **{key: dump(getattr(value, key)) for key in value._attributes}}
    if isinstance(value, dict):
        return {key: dump(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [dump(item) for item in value]
    return value


def error(exc) -> dict:
    out = {"_error": qualname(exc), "message": str(exc)}
    if isinstance(exc, exceptions.HttpError):
        out.update(http_status=exc.http_response_code, error_object=exc.error_object)
    return out


def attempt(function, *args, **kwargs):
    """Call the SDK, recording an SDK error (HTTP error or unknown resource) instead of raising."""
    try:
        return dump(function(*args, **kwargs))
    except (exceptions.HttpError, exceptions.UnknownAPIResource) as exc:
        return error(exc)


def pay(payment, number=SUCCESS_CARD, **options):
    """The shopper pays on the hosted page (done by the test, through real HTTP)."""
    return ask("pay", payment_url=payment.hosted_payment.payment_url, number=number, **options)


def capture(payment_id):
    """SDK 1.4.0 has no capture method: its own HttpClient sends the PATCH, as `Payment.abort` does."""
    response, _ = network.HttpClient().patch(
        routes.url(routes.PAYMENT_RESOURCE, resource_id=payment_id), {"captured": True}
    )
    return resources.Payment(**response)


def wait_until_settled(payment_id, seconds=10.0):
    """A one-click payment is paid 'within a few seconds' (spec §7.6): poll like a merchant would."""
    deadline = time.monotonic() + seconds
    while True:
        payment = payplug.Payment.retrieve(payment_id)
        if payment.is_paid or payment.failure is not None or time.monotonic() > deadline:
            return payment
        time.sleep(0.2)


def new_payment(**overrides):
    data = {"amount": 3300, "currency": "EUR", "billing": dict(BILLING), "hosted_payment": dict(HOSTED)}
    data.update(overrides)
    return payplug.Payment.create(**{key: value for key, value in data.items() if value is not None})


def paid_payment(**overrides):
    payment = new_payment(**overrides)
    pay(payment)
    return payplug.Payment.retrieve(payment.id)


# --- scenarios ------------------------------------------------------------------------------------


@scenario
def sdk_identity(params, out):
    """Which SDK runs: the PyPI package, not our project."""
    out.update(version=payplug.__version__, file=payplug.__file__, api_base_url=routes.API_BASE_URL)


@scenario
def payment_lifecycle(params, out):
    """Create -> retrieve -> a declined attempt -> a successful one on the hosted page -> retrieve."""
    payplug.set_api_version("2019-08-06")
    created = payplug.Payment.create(
        amount=3300,
        currency="EUR",
        billing=dict(BILLING),
        shipping=dict(SHIPPING),
        hosted_payment=dict(HOSTED),
        notification_url="https://shop.example.org/ipn",
        metadata={"order_id": "42", "customer_ref": 42710},
        description="Commande n°42 — été",
    )
    out["created"] = dump(created)
    out["retrieved"] = attempt(payplug.Payment.retrieve, created.id)
    out["declined_page"] = pay(created, DECLINED_CARD)
    out["after_decline"] = attempt(payplug.Payment.retrieve, created.id)
    out["paid_page"] = pay(created)
    out["paid"] = attempt(payplug.Payment.retrieve, created.id)
    out["paid_again_page"] = pay(created)  # a page opened after the outcome shows it, charges nothing
    out["final"] = attempt(payplug.Payment.retrieve, created.id)
    # A returned billing object (nulls included) can be posted back unchanged (spec §6.4).
    returned_billing = {key: value for key, value in dump(created.billing).items() if key != "_class"}
    out["billing_posted_back"] = attempt(new_payment, billing=returned_billing)


@scenario
def readme_example(params, out):
    """The SDK README's own example, verbatim: the legacy `customer` address and a numeric metadata value."""
    payment_data = {
        "amount": 3300,
        "currency": "EUR",
        "customer": {"email": "john.watson@example.net", "first_name": "John", "last_name": "Watson"},
        "hosted_payment": {
            "return_url": "https://www.example.net/success?id=42710",
            "cancel_url": "https://www.example.net/cancel?id=42710",
        },
        "notification_url": "https://www.example.net/notifications?id=42710",
        "metadata": {"customer_id": 42710},
    }
    payment = payplug.Payment.create(**payment_data)
    out["created"] = dump(payment)
    out["page"] = pay(payment)
    out["paid"] = attempt(payplug.Payment.retrieve, payment.id)


@scenario
def payment_3ds(params, out):
    approved = new_payment()
    out["approve_page"] = pay(approved, CHALLENGE_CARD, three_ds="approve")
    out["approved"] = attempt(payplug.Payment.retrieve, approved.id)
    failed = new_payment()
    out["fail_page"] = pay(failed, CHALLENGE_CARD, three_ds="fail")
    out["failed"] = attempt(payplug.Payment.retrieve, failed.id)


@scenario
def payment_list(params, out):
    out["ids"] = [new_payment(amount=1000 + index).id for index in range(3)]
    out["default"] = attempt(payplug.Payment.list)
    out["first_page"] = attempt(payplug.Payment.list, per_page=2)
    out["page_0_explicit"] = attempt(payplug.Payment.list, per_page=2, page=0)  # the SDK omits page=0
    out["second_page"] = attempt(payplug.Payment.list, per_page=2, page=1)
    out["past_the_end"] = attempt(payplug.Payment.list, per_page=2, page=5)
    out["too_many"] = attempt(payplug.Payment.list, per_page=101)


@scenario
def payment_abort(params, out):
    unpaid = new_payment()
    out["aborted"] = attempt(payplug.Payment.abort, unpaid.id)
    out["aborted_again"] = attempt(payplug.Payment.retrieve(unpaid.id).abort)  # the resource's own method
    out["refund_unpaid"] = attempt(payplug.Refund.create, unpaid, amount=100)
    out["shopper_after_abort"] = pay(unpaid)
    out["after_shopper"] = attempt(payplug.Payment.retrieve, unpaid.id)
    paid = paid_payment()
    out["paid"] = dump(paid)
    out["abort_paid"] = attempt(payplug.Payment.abort, paid)
    out["paid_after_abort"] = attempt(payplug.Payment.retrieve, paid.id)


@scenario
def deferred_capture(params, out):
    created = new_payment(amount=None, authorized_amount=5000)
    out["created"] = dump(created)
    out["capture_too_early"] = attempt(capture, created.id)
    out["page"] = pay(created)
    out["authorized"] = attempt(payplug.Payment.retrieve, created.id)
    out["captured"] = attempt(capture, created.id)
    out["retrieved"] = attempt(payplug.Payment.retrieve, created.id)
    out["captured_again"] = attempt(capture, created.id)
    immediate = paid_payment()
    out["capture_immediate"] = attempt(capture, immediate.id)


@scenario
def refunds(params, out):
    payment = paid_payment()
    out["paid"] = dump(payment)
    partial = payplug.Refund.create(payment, amount=1000, metadata={"reason": "damaged", "ticket": 7})
    out["partial"] = dump(partial)
    out["too_large"] = attempt(payplug.Refund.create, payment.id, amount=999999)
    out["retrieved"] = attempt(payplug.Refund.retrieve, payment, partial.id)
    out["after_partial"] = attempt(payplug.Payment.retrieve, payment.id)
    out["rest"] = attempt(payplug.Payment.retrieve(payment.id).refund)  # no amount: the SDK sends no body
    out["listed"] = attempt(payplug.Refund.list, payment)
    out["listed_from_payment"] = attempt(payplug.Payment.retrieve(payment.id).list_refunds)
    out["after_full"] = attempt(payplug.Payment.retrieve, payment.id)
    out["one_more"] = attempt(payplug.Refund.create, payment, amount=10)
    out["unknown_refund"] = attempt(payplug.Refund.retrieve, payment.id, "re_doesNotExist0000000000")
    out["refund_of_unknown_payment"] = attempt(payplug.Refund.list, "pay_doesNotExist000000000")


@scenario
def customers(params, out):
    first = payplug.Customer.create(
        email="jeanne.martin@example.org",
        first_name="Jeanne",
        last_name="Martin",
        address1="12 rue des Lilas",
        postcode="75011",
        city="Paris",
        country="FR",
        metadata={"crm_id": 1234},
    )
    out["created"] = dump(first)
    out["retrieved"] = attempt(payplug.Customer.retrieve, first.id)
    out["updated"] = attempt(
        payplug.Customer.update, first.id, first_name="Jeannette", city=None, metadata={"crm_id": 99}
    )
    out["updated_by_resource"] = attempt(payplug.Customer.retrieve(first.id).update, last_name="Durand")
    out["retrieved_after_update"] = attempt(payplug.Customer.retrieve, first.id)
    second = payplug.Customer.create(email="paul@example.org")
    out["second"] = dump(second)
    out["invalid"] = attempt(payplug.Customer.create, email="not-an-email")
    out["listed"] = attempt(payplug.Customer.list)
    out["listed_page_0"] = attempt(payplug.Customer.list, per_page=1)
    out["listed_page_1"] = attempt(payplug.Customer.list, per_page=1, page=1)
    out["deleted"] = attempt(payplug.Customer.delete, second.id)  # None: the SDK returns nothing
    out["deleted_by_resource"] = attempt(payplug.Customer.retrieve(first.id).delete)
    out["retrieve_deleted"] = attempt(payplug.Customer.retrieve, first.id)
    out["update_deleted"] = attempt(payplug.Customer.update, second.id, first_name="Paul")
    out["delete_deleted"] = attempt(payplug.Customer.delete, second.id)
    out["listed_after_delete"] = attempt(payplug.Customer.list)


@scenario
def cards_and_one_click(params, out):
    customer = payplug.Customer.create(email="jeanne.martin@example.org", first_name="Jeanne")
    out["customer"] = dump(customer)
    saving = new_payment(save_card=True, customer_id=customer.id)
    out["save_page"] = pay(saving)
    saved = payplug.Payment.retrieve(saving.id)
    out["saving_payment"] = dump(saved)
    card_id = saved.card.id
    # A second card, saved because the shopper ticked the box the page offered.
    offering = new_payment(allow_save_card=True, customer_id=customer.id)
    out["offer_page"] = pay(offering, MASTERCARD, save_card=True)
    second_card_id = payplug.Payment.retrieve(offering.id).card.id
    out["second_card_id"] = second_card_id
    out["listed"] = attempt(payplug.Card.list, customer)
    out["listed_by_resource"] = attempt(payplug.Customer.retrieve(customer.id).list_cards, per_page=1)
    out["retrieved"] = attempt(payplug.Card.retrieve, customer.id, card_id)
    one_click = dict(amount=2500, currency="EUR", billing=dict(BILLING), payment_method=card_id)
    payer = payplug.Payment.create(initiator="PAYER", **one_click)
    out["payer_created"] = dump(payer)
    out["payer_settled"] = dump(wait_until_settled(payer.id))
    merchant = payplug.Payment.create(initiator="MERCHANT", **one_click)
    out["merchant_created"] = dump(merchant)
    out["merchant_settled"] = dump(wait_until_settled(merchant.id))
    out["without_initiator"] = attempt(payplug.Payment.create, **one_click)
    out["deleted"] = attempt(payplug.Card.delete, customer, card_id)
    out["retrieve_deleted"] = attempt(payplug.Card.retrieve, customer, card_id)
    out["pay_with_deleted"] = attempt(payplug.Payment.create, initiator="MERCHANT", **one_click)
    second = payplug.Card.retrieve(customer, second_card_id)
    out["second_retrieved"] = dump(second)
    out["second_deleted"] = attempt(second.delete)  # the resource's own method (uses its customer_id)
    out["listed_after_delete"] = attempt(payplug.Card.list, customer.id)
    # Card.create attaches a card saved without a customer (spec §10); raw card data is refused.
    loose = new_payment(save_card=True)
    pay(loose)
    loose_card_id = payplug.Payment.retrieve(loose.id).card.id
    out["loose_card_id"] = loose_card_id
    other = payplug.Customer.create(email="paul@example.org")
    out["attached"] = attempt(payplug.Card.create, customer, card=loose_card_id, metadata={"label": "pro"})
    out["attached_retrieved"] = attempt(payplug.Card.retrieve, customer.id, loose_card_id)
    out["attach_to_other"] = attempt(payplug.Customer.retrieve(other.id).add_card, card=loose_card_id)
    out["raw_card"] = attempt(payplug.Card.create, other, number="4242424242424242", cvc="123")
    out["cards_of_other"] = attempt(payplug.Card.list, other)
    out["unknown_card"] = attempt(payplug.Card.retrieve, customer.id, "card_doesNotExist000000000")
    out["cards_of_unknown_customer"] = attempt(payplug.Card.list, "cus_doesNotExist0000000000")


@scenario
def notification_treat(params, out):
    """`payplug.notifications.treat` on the bodies our platform sends to `notification_url`."""
    payment = new_payment(notification_url="https://shop.example.org/ipn")
    pay(payment)
    body = ask("notification", object_id=payment.id, event_type="payment.paid")
    out["payment_body"] = json.loads(body)
    out["payment_treated"] = attempt(notifications.treat, body)
    out["payment_treated_bytes"] = attempt(notifications.treat, body.encode("utf-8"))
    refund = payplug.Refund.create(payment, amount=500, metadata={"reason": "late"})
    refund_body = ask("notification", object_id=refund.id, event_type="refund.created")
    out["refund_body"] = json.loads(refund_body)
    out["refund_treated"] = attempt(notifications.treat, refund_body)
    # A forged body is harmless: treat() re-fetches the resource with the merchant's key.
    unpaid = new_payment(notification_url="https://shop.example.org/ipn")
    forged = {**json.loads(body), "id": unpaid.id, "is_paid": True, "amount": 1}
    out["forged_treated"] = attempt(notifications.treat, json.dumps(forged))
    out["unknown_id"] = attempt(notifications.treat, json.dumps({**forged, "id": "pay_doesNotExist000000"}))
    out["unknown_object"] = attempt(notifications.treat, json.dumps({"object": "event", "id": "evt_x"}))
    out["malformed"] = attempt(notifications.treat, "{not json")


@scenario
def auth_errors(params, out):
    """Wrong, malformed, revoked and publishable keys; another merchant's and the other mode's keys."""
    payment = new_payment()
    customer = payplug.Customer.create(email="jeanne.martin@example.org")
    out["payment_id"], out["customer_id"] = payment.id, customer.id
    for name in ("wrong_key", "malformed_key", "revoked_key", "publishable_key"):
        payplug.set_secret_key(params[name])
        out[name] = {"retrieve": attempt(payplug.Payment.retrieve, payment.id), "list": attempt(payplug.Payment.list)}
    for name in ("other_merchant_key", "live_key"):
        payplug.set_secret_key(params[name])
        out[name] = {
            "retrieve": attempt(payplug.Payment.retrieve, payment.id),
            "abort": attempt(payplug.Payment.abort, payment.id),
            "refunds": attempt(payplug.Refund.list, payment.id),
            "refund": attempt(payplug.Refund.create, payment.id, amount=100),
            "customer": attempt(payplug.Customer.retrieve, customer.id),
            "customer_update": attempt(payplug.Customer.update, customer.id, first_name="Mallory"),
            "customer_delete": attempt(payplug.Customer.delete, customer.id),
            "cards": attempt(payplug.Card.list, customer.id),
            "list": attempt(payplug.Payment.list),
            "customers": attempt(payplug.Customer.list),
        }
    payplug.set_secret_key(params["own_key"])
    out["unknown"] = {
        "payment": attempt(payplug.Payment.retrieve, "pay_doesNotExist0000000000"),
        "abort": attempt(payplug.Payment.abort, "pay_doesNotExist0000000000"),
        "customer": attempt(payplug.Customer.retrieve, "cus_doesNotExist0000000000"),
        "card": attempt(payplug.Card.retrieve, customer.id, "card_doesNotExist000000000"),
        "refund": attempt(payplug.Refund.retrieve, payment.id, "re_doesNotExist0000000000"),
        "odd_shape": attempt(payplug.Payment.retrieve, "not an id"),
    }
    out["not_offered"] = {
        "oney_simulation": attempt(
            payplug.OneyPaymentSimulation.get_simulation,
            amount=50000,
            country="FR",
            operations=["x3_with_fees"],
        ),
        "oney_payment": attempt(
            payplug.Payment.create,
            amount=50000,
            currency="EUR",
            billing=dict(BILLING),
            hosted_payment=dict(HOSTED),
            payment_method="oney_x3_with_fees",
        ),
    }
    out["payment_after"] = attempt(payplug.Payment.retrieve, payment.id)
    out["customer_after"] = attempt(payplug.Customer.retrieve, customer.id)
    out["invalid_amount"] = attempt(
        payplug.Payment.create, amount="3300", currency="EUR", billing=dict(BILLING), hosted_payment=dict(HOSTED)
    )
    out["invalid_currency"] = attempt(
        payplug.Payment.create, amount=3300, currency="USD", billing=dict(BILLING), hosted_payment=dict(HOSTED)
    )


def main(argv):
    base_url, secret_key, name = argv[1], argv[2], argv[3]
    params = json.loads(argv[4]) if len(argv) > 4 else {}
    routes.API_BASE_URL = base_url  # the one change the spec allows
    payplug.set_secret_key(secret_key)
    data, ok, failure = {}, True, None
    try:
        SCENARIOS[name](params, data)
    except Exception:
        ok, failure = False, traceback.format_exc()
    PROTOCOL.write(json.dumps({"kind": "result", "ok": ok, "data": data, "error": failure}) + "\n")
    PROTOCOL.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
