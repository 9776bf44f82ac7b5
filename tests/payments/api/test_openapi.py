"""The OpenAPI document at /v1/schema: served without authentication, valid, complete, and true.

"True" means the objects our views really return validate against the response schemas the
document declares for that operation and status (jsonschema, with OpenAPI 3.0's `nullable`
translated), and carry the response headers it declares as required.
"""

from __future__ import annotations

import copy
import json
import re
from datetime import timedelta

import pytest
import yaml
from django.test import Client
from django.utils import timezone
from drf_spectacular.validation import validate_schema
from jsonschema import Draft7Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT7

from payments.api import urls as api_urls
from payments.api.schema import strip_trailing_slashes
from tests import factories
from tests.payments.helpers import create_payment, pay, payment_body

pytestmark = pytest.mark.django_db

SCHEMA_URL = "/v1/schema"
DOCUMENT_URI = "urn:payplatform:openapi"


# --- helpers shared with test_schemathesis ---------------------------------------------------------


def load_document(client=None) -> dict:
    response = (client or Client()).get(SCHEMA_URL)
    assert response.status_code == 200, response.content[:500]
    return json.loads(response.content)


def route(template: str) -> str:
    """Documented path → our canonical route (the document may show the accepted trailing slash)."""
    return template.rstrip("/") or "/"


def operations(document: dict):
    for template, item in document["paths"].items():
        for method, operation in item.items():
            if method in ("get", "post", "put", "patch", "delete"):
                yield route(template), method, operation


def to_json_schema(node):
    """OpenAPI 3.0 schema objects → JSON Schema: `nullable: true` becomes "or null"."""
    if isinstance(node, list):
        return [to_json_schema(item) for item in node]
    if not isinstance(node, dict):
        return node
    converted = {key: to_json_schema(value) for key, value in node.items() if key not in ("nullable", "example")}
    if node.get("nullable") is True:
        return {"anyOf": [converted, {"type": "null"}]}
    return converted


class Document:
    """The served document, with jsonschema validators for its components and responses."""

    def __init__(self, document: dict):
        self.raw = document
        contents = to_json_schema(copy.deepcopy(document))
        self.registry = Registry().with_resource(
            DOCUMENT_URI, Resource.from_contents(contents, default_specification=DRAFT7)
        )
        self.by_route = {}
        for path, method, operation in operations(document):
            self.by_route[path, method] = operation

    def validator(self, pointer: str) -> Draft7Validator:
        return Draft7Validator({"$ref": f"{DOCUMENT_URI}#{pointer}"}, registry=self.registry)

    def component(self, name: str) -> Draft7Validator:
        return self.validator(f"/components/schemas/{name}")

    def response(self, method: str, path: str, status: int) -> dict:
        operation = self.by_route[path, method]
        assert str(status) in operation["responses"], f"{method.upper()} {path}: {status} is not documented"
        return operation["responses"][str(status)]

    def check(self, method: str, path: str, response) -> dict:
        """Validate a Django test-client response against the document; returns its JSON body."""
        documented = self.response(method, path, response.status_code)
        body = json.loads(response.content)
        content = documented["content"]["application/json"]["schema"]
        assert "$ref" in content, content
        pointer = content["$ref"].removeprefix("#")
        errors = sorted(self.validator(pointer).iter_errors(body), key=lambda e: list(e.absolute_path))
        assert not errors, f"{method.upper()} {path} {response.status_code}: " + "; ".join(
            f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in errors[:5]
        )
        for name, header in documented.get("headers", {}).items():
            if header.get("required"):
                assert name in response.headers, f"{method.upper()} {path} {response.status_code}: no {name} header"
                value = response.headers[name]
                schema = header.get("schema", {})
                if schema.get("pattern"):
                    assert re.search(schema["pattern"], value), (name, value)
                if schema.get("type") == "integer":
                    assert re.fullmatch(r"-?[0-9]+", value), (name, value)
        assert response.headers["Content-Type"].startswith("application/json")
        return body


def route_names() -> set[str]:
    return {pattern.name for pattern in api_urls.urlpatterns}


def expected_routes() -> set[tuple[str, str]]:
    """Every (path, method) that payments/api/urls.py serves, the schema route excepted."""
    expected = set()
    for pattern in api_urls.urlpatterns:
        if pattern.name == "api_schema":
            continue
        regex = str(pattern.pattern).removeprefix("^").removesuffix("$").removesuffix("/?")
        path = "/v1/" + re.sub(r"\(\?P<(\w+)>\[\^/\]\+\)", r"{\1}", regex)
        view = getattr(pattern.callback, "view_class", None)
        if view is None:  # a plain Django view (the report file link): not part of the API document
            continue
        for method in ("get", "post", "put", "patch", "delete"):
            if hasattr(view, method):
                expected.add((path, method))
    return expected


def build_world(api, label: str) -> dict:
    """One merchant's objects, made through the API and the hosted page like a real integration."""
    customer = api.post(
        "/v1/customers",
        {
            "email": f"{label}@example.org",
            "first_name": label.title(),
            "last_name": "Durand",
            "city": "Lyon",
            "country": "FR",
            "metadata": {"crm_id": 7, "vip": True, "note": None},
        },
    )
    assert customer.status_code == 201, customer.content
    customer = customer.json()
    paid = create_payment(
        api,
        save_card=True,
        customer_id=customer["id"],
        notification_url=None,
        description=f"Order of {label}",
        shipping={"first_name": "Jeanne", "city": "Paris", "country": "FR", "delivery_type": "NEW"},
        payment_context={"cart": [{"sku": "A1", "quantity": 2}]},
    )
    pay(paid)
    refund = api.post(f"/v1/payments/{paid['id']}/refunds", {"amount": 500, "metadata": {"reason": "damaged"}})
    assert refund.status_code == 201, refund.content
    paid = api.get(f"/v1/payments/{paid['id']}").json()
    assert paid["is_paid"] and paid["card"]["id"], paid
    report = None
    if "api_accounting_reports" in route_names():
        today = timezone.now().date()
        report = api.post(
            "/v1/accounting_reports",
            {"start_date": (today - timedelta(days=7)).isoformat(), "end_date": today.isoformat()},
        )
        assert report.status_code == 201, report.content
        report = report.json()
    unpaid = create_payment(api, notification_url=None)
    deferred = payment_body(authorized_amount=4000, notification_url=None)
    del deferred["amount"]
    deferred = api.post("/v1/payments", deferred).json()
    pay(deferred)  # authorized, waiting for its capture
    loose_cards = []
    for _ in range(2):  # cards saved without a customer
        loose = create_payment(api, save_card=True, notification_url=None)
        pay(loose)
        loose_cards.append(api.get(f"/v1/payments/{loose['id']}").json()["card"]["id"])
    return {
        "customer": customer,
        "payment": paid,
        "refund": refund.json(),
        "card": api.get(f"/v1/cards/{paid['card']['id']}").json(),
        "unpaid": unpaid,
        "deferred": deferred,
        "loose_card": api.get(f"/v1/cards/{loose_cards[0]}").json(),
        "spare_card": api.get(f"/v1/cards/{loose_cards[1]}").json(),
        "report": report,
    }


def snapshot(api, world: dict) -> dict:
    """How a merchant's own objects look through the API (to prove nobody else changed them)."""
    payment, customer, card, refund = world["payment"], world["customer"], world["card"], world["refund"]
    paths = [
        f"/v1/payments/{payment['id']}",
        f"/v1/payments/{world['unpaid']['id']}",
        f"/v1/payments/{world['deferred']['id']}",
        f"/v1/payments/{payment['id']}/refunds",
        f"/v1/payments/{payment['id']}/refunds/{refund['id']}",
        f"/v1/customers/{customer['id']}",
        f"/v1/customers/{customer['id']}/cards",
        f"/v1/customers/{customer['id']}/cards/{card['id']}",
        f"/v1/cards/{card['id']}",
        f"/v1/cards/{world['loose_card']['id']}",
        f"/v1/cards/{world['spare_card']['id']}",
        "/v1/payments?per_page=100",
        "/v1/customers?per_page=100",
    ]
    if world["report"]:
        paths.append(f"/v1/accounting_reports/{world['report']['id']}")
    state = {}
    for path in paths:
        response = api.get(path)
        state[path] = (response.status_code, _stable(response.json()))
    return state


def _stable(node):
    """A report's `temporary_url` is signed anew (with the time) on every read: compare its presence."""
    if isinstance(node, list):
        return [_stable(item) for item in node]
    if isinstance(node, dict):
        return {key: bool(value) if key == "temporary_url" else _stable(value) for key, value in node.items()}
    return node


@pytest.fixture(autouse=True)
def _media_in_tmp(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)  # accounting report files


# --- the document itself ------------------------------------------------------------------------------


def test_schema_is_served_without_authentication_as_json():
    response = Client().get(SCHEMA_URL)

    assert response.status_code == 200
    assert "json" in response.headers["Content-Type"]
    assert response.headers["X-Request-Id"].startswith("req_")
    document = json.loads(response.content)
    assert document["openapi"].startswith("3.")
    assert document["info"]["title"]


def test_schema_is_served_as_yaml_and_says_the_same():
    as_json = load_document()

    response = Client().get(SCHEMA_URL, {"format": "yaml"})

    assert response.status_code == 200
    assert "openapi" in response.headers["Content-Type"] or "yaml" in response.headers["Content-Type"]
    assert yaml.safe_load(response.content) == as_json


def test_schema_ignores_a_bad_key():
    response = Client().get(SCHEMA_URL, headers={"Authorization": "Bearer sk_test_nonsense"})

    assert response.status_code == 200


def test_schema_is_a_valid_openapi_document():
    validate_schema(load_document())


def test_schema_documents_every_route_and_nothing_else():
    document = load_document()

    documented = {(path, method) for path, method, _ in operations(document)}

    assert documented == expected_routes()
    assert len(documented) >= 18
    ids = [operation["operationId"] for _, _, operation in operations(document)]
    assert len(ids) == len(set(ids))


# The plugin login (addendum §19) takes an email and password, no key, and no Idempotency-Key (it answers
# new secret keys, never stored in clear); GET /v1/account is one object, not a list.
LOGIN_OPERATIONS = {("/v1/keys", "post")}
SINGLE_OBJECT_ROUTES = {"/v1/account"}
# Actions that create nothing answer 200 with the object they changed (the installment plan's test clock).
ACTION_OPERATIONS = {
    ("/v1/installment_plans/{installment_plan_id}/test_clock", "post"),
    ("/v1/subscriptions/{subscription_id}/test_clock", "post"),
}


def test_every_operation_documents_auth_errors_headers_and_parameters():
    document = load_document()
    schemes = document["components"]["securitySchemes"]
    assert schemes["SecretKey"] == {**schemes["SecretKey"], "type": "http", "scheme": "bearer"}

    for path, method, operation in operations(document):
        where = f"{method.upper()} {path}"
        login = (path, method) in LOGIN_OPERATIONS
        assert operation.get("security") == (None if login else [{"SecretKey": []}]), where
        responses = operation["responses"]
        success = [code for code in responses if code.startswith("2")]
        assert success == (["201"] if method == "post" and (path, method) not in ACTION_OPERATIONS else ["200"]), where
        for code in ("400", "401", "403", "429"):
            assert code in responses, f"{where}: {code}"
        if "{" in path:
            assert "404" in responses, where
        if method in ("post", "patch"):
            for code in ("413",) if login else ("409", "413"):
                assert code in responses, f"{where}: {code}"
        for code, answer in responses.items():
            assert answer["headers"]["X-Request-Id"]["required"] is True, f"{where} {code}"
            schema = answer["content"]["application/json"]["schema"]
            if not code.startswith("2"):
                assert schema == {"$ref": "#/components/schemas/Error"}, f"{where} {code}"
        assert responses["401"]["headers"]["WWW-Authenticate"]["required"] is True
        parameters = {(p["in"], p["name"]): p for p in operation.get("parameters", [])}
        for name in re.findall(r"{(\w+)}", path):
            assert parameters[("path", name)]["required"] is True, f"{where}: {name}"
        if method in ("post", "patch"):
            assert (("header", "Idempotency-Key") in parameters) is not login, where
            assert list(operation["requestBody"]["content"]) == ["application/json"], where
        else:
            assert ("header", "Idempotency-Key") not in parameters, where
            assert "requestBody" not in operation, where
        if method == "get" and not path.endswith("}") and path not in SINGLE_OBJECT_ROUTES:
            assert ("query", "page") in parameters and ("query", "per_page") in parameters, where
    by_route = {(path, method): operation for path, method, operation in operations(document)}
    for path, method in [
        ("/v1/payments", "post"),
        ("/v1/payments/{payment_id}", "patch"),
        ("/v1/payments/{payment_id}/refunds", "post"),
    ]:  # the operations that may call the card acquirer
        answer = by_route[path, method]["responses"]["503"]
        assert answer["headers"]["Retry-After"]["required"] is True, (method, path)


def _objects(schema: dict, components: dict, seen=None):
    """Every object schema reachable from `schema` (following $ref), once."""
    seen = set() if seen is None else seen
    if isinstance(schema, dict):
        ref = schema.get("$ref")
        if ref:
            name = ref.rsplit("/", 1)[-1]
            if name not in seen:
                seen.add(name)
                yield from _objects(components[name], components, seen)
            return
        if schema.get("type") == "object" and "properties" in schema:
            yield schema
        for value in schema.values():
            yield from _objects(value, components, seen)
    elif isinstance(schema, list):
        for item in schema:
            yield from _objects(item, components, seen)


def test_request_bodies_reject_unknown_keys_at_every_level():
    document = load_document()
    components = document["components"]["schemas"]

    checked = 0
    for path, method, operation in operations(document):
        if "requestBody" not in operation:
            continue
        body = operation["requestBody"]["content"]["application/json"]["schema"]
        for schema in _objects(body, components):
            assert schema.get("additionalProperties") is False, (method, path, sorted(schema["properties"]))
            checked += 1
    assert checked >= 8  # payments (with billing, shipping, hosted_payment), update, refund, customers, cards


def test_request_schemas_describe_what_the_serializers_accept():
    document = Document(load_document())

    create = document.component("PaymentCreateRequest")
    good = payment_body(customer={"first_name": "A", "last_name": "B", "email": "a@example.org"})
    del good["billing"]
    assert create.is_valid(good)
    assert create.is_valid(payment_body(shipping=None, description=None, metadata={}))
    assert not create.is_valid(payment_body(notifcation_url="https://x.example"))  # typo: unknown key
    assert not create.is_valid(payment_body(currency="USD"))
    assert not create.is_valid(payment_body(amount="3300"))
    assert not create.is_valid(payment_body(authorized_amount=3300))  # both amounts
    assert not create.is_valid(payment_body(billing={"first_name": "A", "last_name": "B"}))  # no email
    assert not create.is_valid(payment_body(billing={**payment_body()["billing"], "zip": "75011"}))
    assert not create.is_valid(payment_body(metadata={"nested": {"a": 1}}))
    assert create.is_valid(payment_body(billing={**payment_body()["billing"], "title": "", "state": None}))
    assert not create.is_valid(payment_body(billing={**payment_body()["billing"], "country": "France"}))
    assert not create.is_valid(payment_body(billing={**payment_body()["billing"], "mobile_phone_number": "06"}))
    assert create.is_valid(payment_body(billing={**payment_body()["billing"], "mobile_phone_number": ""}))
    assert create.is_valid(payment_body(hosted_payment={"return_url": "https://x.example/ok", "sent_by": "EMAIL"}))
    assert not create.is_valid(payment_body(hosted_payment={"return_url": "https://x.example/ok", "sent_by": "SMS"}))

    update = document.component("PatchedPaymentUpdateRequest")
    assert update.is_valid({"abort": True}) and update.is_valid({"captured": True})
    assert not update.is_valid({}) and not update.is_valid({"abort": True, "captured": True})
    assert not update.is_valid({"abort": False})

    refund = document.component("RefundCreateRequest")
    assert refund.is_valid({}) and refund.is_valid({"amount": 10, "metadata": {"a": "b"}})
    assert not refund.is_valid({"amount": 0}) and not refund.is_valid({"amount": 10, "reason": "x"})

    customer = document.component("CustomerRequest")
    assert customer.is_valid({"email": "a@example.org", "first_name": None, "country": "FR"})
    assert not customer.is_valid({"first_name": "A"})
    patched = document.component("PatchedCustomerRequest")
    assert patched.is_valid({"city": "Lyon"}) and not patched.is_valid({"email": None})

    attach = document.component("CardAttachRequest")
    assert attach.is_valid({"card": "card_abc"}) and not attach.is_valid({"card": "card_abc", "number": "4242"})


# --- the objects our views really return -----------------------------------------------------------


@pytest.fixture
def document():
    return Document(load_document())


def test_real_payments_refunds_customers_and_cards_match_the_schema(document, api, merchant_a):
    world = build_world(api, "alice")
    payment, customer, card, refund = world["payment"], world["customer"], world["card"], world["refund"]
    pid, cid, kid, rid = payment["id"], customer["id"], card["id"], refund["id"]
    check = document.check

    # payments: hosted, paid with a saved card, one-click, failed, aborted, deferred and captured
    check("post", "/v1/payments", api.post("/v1/payments", payment_body()))
    paid = check("get", "/v1/payments/{payment_id}", api.get(f"/v1/payments/{pid}"))
    assert paid["card"]["id"] == kid and paid["amount_refunded"] == 500 and paid["customer_id"] == cid
    assert paid["shipping"]["delivery_type"] == "NEW" and paid["payment_context"]
    one_click = check(
        "post",
        "/v1/payments",
        api.post(
            "/v1/payments",
            {
                "amount": 1500,
                "currency": "EUR",
                "billing": payment_body()["billing"],
                "payment_method": kid,
                "initiator": "MERCHANT",
            },
        ),
    )
    assert one_click["card"]["id"] == kid and one_click["hosted_payment"]["payment_url"] is None
    failed = create_payment(api)
    pay(failed, number="4000 0000 0000 0002")
    failed = check("get", "/v1/payments/{payment_id}", api.get(f"/v1/payments/{failed['id']}"))
    assert failed["failure"]["code"] == "card_declined"
    aborted = check(
        "patch", "/v1/payments/{payment_id}", api.patch(f"/v1/payments/{world['unpaid']['id']}", {"abort": True})
    )
    assert aborted["failure"]["code"] == "aborted"
    deferred_body = payment_body(authorized_amount=4000)
    del deferred_body["amount"]
    deferred = check("post", "/v1/payments", api.post("/v1/payments", deferred_body))
    assert deferred["authorization"] == {"authorized_amount": 4000, "authorized_at": None, "expires_at": None}
    pay(deferred)
    captured = check(
        "patch", "/v1/payments/{payment_id}", api.patch(f"/v1/payments/{deferred['id']}", {"captured": True})
    )
    assert captured["is_paid"] and captured["authorization"]["expires_at"]
    listing = check("get", "/v1/payments", api.get("/v1/payments", {"per_page": 100}))
    assert listing["count"] == 9

    # refunds
    check("post", "/v1/payments/{payment_id}/refunds", api.post(f"/v1/payments/{pid}/refunds"))  # the rest
    check("get", "/v1/payments/{payment_id}/refunds/{refund_id}", api.get(f"/v1/payments/{pid}/refunds/{rid}"))
    refunds = check("get", "/v1/payments/{payment_id}/refunds", api.get(f"/v1/payments/{pid}/refunds"))
    assert refunds["count"] == 2
    assert check("get", "/v1/payments/{payment_id}", api.get(f"/v1/payments/{pid}"))["is_refunded"] is True

    # customers and cards
    check("get", "/v1/customers/{customer_id}", api.get(f"/v1/customers/{cid}"))
    check("patch", "/v1/customers/{customer_id}", api.patch(f"/v1/customers/{cid}", {"city": None}))
    check("get", "/v1/customers", api.get("/v1/customers"))
    cards = check("get", "/v1/customers/{customer_id}/cards", api.get(f"/v1/customers/{cid}/cards"))
    assert [c["id"] for c in cards["data"]] == [kid]
    check("get", "/v1/customers/{customer_id}/cards/{card_id}", api.get(f"/v1/customers/{cid}/cards/{kid}"))
    check("get", "/v1/cards/{card_id}", api.get(f"/v1/cards/{kid}"))
    loose_card = world["loose_card"]["id"]
    assert check("get", "/v1/cards/{card_id}", api.get(f"/v1/cards/{loose_card}"))["customer_id"] is None
    attached = check(
        "post",
        "/v1/customers/{customer_id}/cards",
        api.post(f"/v1/customers/{cid}/cards", {"card": loose_card, "metadata": {"label": "work"}}),
    )
    assert attached["customer_id"] == cid
    check("delete", "/v1/customers/{customer_id}/cards/{card_id}", api.delete(f"/v1/customers/{cid}/cards/{kid}"))
    check("delete", "/v1/cards/{card_id}", api.delete(f"/v1/cards/{loose_card}"))
    check("delete", "/v1/customers/{customer_id}", api.delete(f"/v1/customers/{cid}"))

    # accounting reports
    if world["report"]:
        report = world["report"]
        assert report["status"] == "pending"
        rid = report["id"]
        check("get", "/v1/accounting_reports/{report_id}", api.get(f"/v1/accounting_reports/{rid}"))
        check("get", "/v1/accounting_reports/{report_id}", api.get("/v1/accounting_reports/ar_unknown"))
        refused = api.post("/v1/accounting_reports", {"start_date": "2026-02-30", "end_date": "2026-03-01"})
        assert check("post", "/v1/accounting_reports", refused)["code"] == "invalid_request"


def test_real_errors_match_the_schema(document, api, merchant_a):
    world = build_world(api, "alice")
    pid = world["payment"]["id"]
    check = document.check

    error = check("post", "/v1/payments", api.post("/v1/payments", payment_body(currency="USD")))
    assert error["code"] == "invalid_request" and error["details"] == {"currency": "only EUR is supported."}
    check("post", "/v1/payments", api.post("/v1/payments", payment_body(notifcation_url="https://x.example")))
    check("get", "/v1/payments", api.get("/v1/payments", {"per_page": 0}))
    check("get", "/v1/payments", api.get("/v1/payments", headers={"PayPlug-Version": "yesterday"}))
    check("get", "/v1/payments/{payment_id}", api.get("/v1/payments/pay_doesnotexist"))
    check("patch", "/v1/payments/{payment_id}", api.patch(f"/v1/payments/{pid}", {"abort": True}))
    check("post", "/v1/payments/{payment_id}/refunds", api.post(f"/v1/payments/{pid}/refunds", {"amount": 10**6}))
    raw = api.client.post(
        "/v1/customers", "[1, 2]", content_type="application/json", headers={"Authorization": f"Bearer {api.key}"}
    )
    assert check("post", "/v1/customers", raw)["code"] == "invalid_json"
    big = api.client.post(
        "/v1/customers",
        json.dumps({"email": "a@example.org", "metadata": {"x": "y" * 70_000}}),
        content_type="application/json",
        headers={"Authorization": f"Bearer {api.key}"},
    )
    assert check("post", "/v1/customers", big)["code"] == "payload_too_large"
    api.post("/v1/customers", {"email": "a@example.org"}, headers={"Idempotency-Key": "k-1"})
    conflict = api.post("/v1/customers", {"email": "b@example.org"}, headers={"Idempotency-Key": "k-1"})
    assert check("post", "/v1/customers", conflict)["code"] == "idempotency_key_reused"
    replay = api.post("/v1/customers", {"email": "a@example.org"}, headers={"Idempotency-Key": "k-1"})
    assert check("post", "/v1/customers", replay) and replay.headers["Idempotent-Replayed"] == "true"

    anonymous = Client().get("/v1/customers")
    assert check("get", "/v1/customers", anonymous)["code"] == "authentication_required"
    wrong = factories.ApiClient("sk_test_" + "x" * 30).get("/v1/customers")
    assert check("get", "/v1/customers", wrong)["code"] == "invalid_api_key"
    publishable = factories.ApiClient(factories.publishable_key(merchant_a)).get("/v1/customers")
    assert check("get", "/v1/customers", publishable)["code"] == "publishable_key_not_allowed"


# --- odd input gets a documented answer (these were 500s) ---------------------------------------------


def _raw_post(api, path, text):
    return api.client.post(path, text, content_type="application/json", headers={"Authorization": f"Bearer {api.key}"})


@pytest.mark.parametrize(
    "text",
    [
        '{"email": "a@example.org", "metadata": {"x": Infinity}}',
        '{"email": "a@example.org", "metadata": {"x": -Infinity}}',
        '{"email": "a@example.org", "metadata": {"x": NaN}}',
        '{"email": "a@example.org", "metadata": {"x": 1e999}}',
        '{"email": "a@example.org", "metadata": {"x": "\\ud800"}}',
        '{"email": "a@example.org", "metadata": {"\\udfff": "x"}}',
        '{"email": "a@example.org", "metadata": {"x": 1}, "deep": ' + "[" * 5000 + "]" * 5000 + "}",
        '{"email": "a@example.org", "metadata": {"x": 1}, "deep": ' + '{"a":' * 40 + "1" + "}" * 40 + "}",
    ],
    ids=["infinity", "minus-infinity", "nan", "overflow", "surrogate-value", "surrogate-key", "deep-5000", "deep-40"],
)
def test_bodies_json_cannot_carry_back_are_refused_as_invalid_json(document, api, text):
    response = _raw_post(api, "/v1/customers", text)

    assert document.check("post", "/v1/customers", response)["code"] == "invalid_json"
    assert api.get("/v1/customers").json()["data"] == []  # nothing was written


def test_payment_context_that_json_cannot_carry_back_is_refused(document, api):
    text = json.dumps(payment_body())[:-1] + ', "payment_context": {"cart": [1e999]}}'

    response = _raw_post(api, "/v1/payments", text)

    assert document.check("post", "/v1/payments", response)["code"] == "invalid_json"
    assert api.get("/v1/payments").json()["data"] == []


def test_metadata_integers_beyond_64_bits_are_refused(document, api):
    response = api.post("/v1/customers", {"email": "a@example.org", "metadata": {"n": 2**64}})

    assert document.check("post", "/v1/customers", response)["details"] == {
        "metadata": "n: integers must fit in 64 bits."
    }
    assert api.post("/v1/customers", {"email": "a@example.org", "metadata": {"n": 2**63 - 1}}).status_code == 201


@pytest.mark.parametrize("page", [str(2**63), str(10**30), "9" * 1000])
def test_a_page_far_past_the_end_is_empty(document, api, page):
    create_payment(api)

    listing = document.check("get", "/v1/payments", api.get("/v1/payments", {"page": page}))

    assert listing["data"] == [] and listing["has_more"] is False


def test_a_page_number_python_cannot_read_is_refused(document, api):
    response = api.get("/v1/payments", {"page": "9" * 5000})

    assert document.check("get", "/v1/payments", response)["details"] == {"page": "must be an integer >= 0."}


@pytest.mark.parametrize("value", ["1_0", "\u0663", "1.0", "0x1", "-1"])
def test_paging_takes_plain_integers_only(document, api, value):
    response = api.get("/v1/payments", {"per_page": value})

    assert document.check("get", "/v1/payments", response)["details"] == {
        "per_page": "must be an integer between 1 and 100."
    }


def test_the_document_checker_has_teeth(document, api):
    customer = api.post("/v1/customers", {"email": "a@example.org"}).json()
    validator = document.component("Customer")

    assert validator.is_valid(customer)
    assert not validator.is_valid({**customer, "extra": 1})
    assert not validator.is_valid({key: value for key, value in customer.items() if key != "city"})
    assert not validator.is_valid({**customer, "created_at": "yesterday"})
    assert not validator.is_valid({**customer, "object": "card"})
    assert validator.is_valid({**customer, "city": None})
    assert not validator.is_valid({**customer, "email": None})


def test_the_trailing_slash_hook_shows_canonical_routes():
    document = strip_trailing_slashes(copy.deepcopy(load_document()), None, None, True)

    assert {path for path, _, _ in operations(document)} == {path for path, _ in expected_routes()}
    assert not [path for path in document["paths"] if path.endswith("/")]
