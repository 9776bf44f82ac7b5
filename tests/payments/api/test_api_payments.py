"""POST/GET/PATCH /v1/payments: validation, lists, abort and capture rules (spec §5-§7)."""

import pytest

from payments.models import Payment
from tests.payments.helpers import create_payment, pay, payment_body

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"amount": "3300"}, "amount"),
        ({"amount": 33.5}, "amount"),
        ({"amount": True}, "amount"),
        ({"amount": 98}, "amount"),
        ({"amount": 2_000_001}, "amount"),
        ({"currency": "USD"}, "currency"),
        ({"notifcation_url": "https://x.example"}, "notifcation_url"),
        ({"notification_url": "ftp://x.example"}, "notification_url"),
        ({"notification_url": "https://user:pw@x.example/ipn"}, "notification_url"),
        ({"metadata": {"a": {"nested": 1}}}, "metadata"),
        ({"metadata": {f"k{i}": i for i in range(21)}}, "metadata"),
        ({"metadata": {"k": "x" * 501}}, "metadata"),
        ({"description": "x" * 256}, "description"),
        ({"hosted_payment": {"cancel_url": "https://x.example"}}, "hosted_payment"),
        ({"hosted_payment": {"return_url": "https://x.example", "sent_by": "SMS"}}, "hosted_payment"),
        ({"save_card": True, "allow_save_card": True}, "allow_save_card"),
        ({"payment_method": "american_express", "initiator": "PAYER"}, "payment_method"),
        ({"payment_method": "card_doesnotexist000000000", "initiator": "PAYER"}, "payment_method"),
        ({"integration": "INTEGRATED_PAYMENT"}, "integration"),
    ],
)
def test_invalid_creation_is_400_naming_the_field_and_writes_nothing(api, change, field):
    response = api.post("/v1/payments", payment_body(**change))

    assert response.status_code == 400
    body = response.json()
    assert body["object"] == "error"
    assert body["code"] == "invalid_request"
    assert body["message"].startswith(field)
    assert field in body["details"]
    assert not Payment.objects.exists()


def test_billing_is_required_with_its_names_and_email(api):
    response = api.post("/v1/payments", payment_body(billing={"first_name": "A"}))

    assert response.status_code == 400
    assert set(response.json()["details"]["billing"]) == {"last_name", "email"}


def test_billing_country_must_be_iso(api):
    body = payment_body()
    body["billing"]["country"] = "France"
    response = api.post("/v1/payments", body)
    assert response.status_code == 400
    assert response.json()["message"].startswith("billing.country:")


def test_legacy_customer_field_becomes_billing(api):
    body = payment_body()
    body["customer"] = body.pop("billing")
    payment = create_payment_from(api, body)
    assert payment["billing"]["email"] == "jeanne@example.org"
    assert "customer" not in payment


def create_payment_from(api, body):
    response = api.post("/v1/payments", body)
    assert response.status_code == 201, response.content
    return response.json()


def test_empty_optional_strings_are_null_and_billing_has_every_key(api):
    body = payment_body()
    body["billing"]["address2"] = ""
    payment = create_payment_from(api, body)
    assert payment["billing"]["address2"] is None
    assert set(payment["billing"]) == {
        "title",
        "first_name",
        "last_name",
        "email",
        "company_name",
        "mobile_phone_number",
        "landline_phone_number",
        "address1",
        "address2",
        "postcode",
        "city",
        "state",
        "country",
        "language",
    }


def test_metadata_types_are_preserved(api):
    payment = create_payment(api, metadata={"customer_id": 42710, "vip": True, "note": None})
    again = api.get(f"/v1/payments/{payment['id']}").json()
    assert again["metadata"] == {"customer_id": 42710, "vip": True, "note": None}


def test_body_that_is_not_an_object_is_invalid_json(api):
    response = api.client.post(
        "/v1/payments", "[1, 2]", content_type="application/json", headers={"Authorization": f"Bearer {api.key}"}
    )
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_json"


def test_malformed_json_is_invalid_json(api):
    response = api.client.post(
        "/v1/payments", "{nope", content_type="text/plain", headers={"Authorization": f"Bearer {api.key}"}
    )
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_json"


def test_body_over_64_kib_is_413(api):
    response = api.post("/v1/payments", payment_body(description="x" * 70_000))
    assert response.status_code == 413
    assert response.json()["code"] == "payload_too_large"


def test_trailing_slash_is_accepted_without_redirect(api):
    response = api.post("/v1/payments/", payment_body())
    assert response.status_code == 201


def test_list_is_newest_first_with_has_more(api):
    ids = [create_payment(api)["id"] for _ in range(3)]

    first = api.get("/v1/payments", {"per_page": 2}).json()
    second = api.get("/v1/payments", {"per_page": 2, "page": 1}).json()

    assert first["object"] == first["type"] == "list"
    assert [p["id"] for p in first["data"]] == ids[::-1][:2]
    assert first["has_more"] is True and first["count"] == 2
    assert [p["id"] for p in second["data"]] == ids[:1]
    assert second["has_more"] is False


@pytest.mark.parametrize("params", [{"page": -1}, {"per_page": 0}, {"per_page": 101}, {"page": "x"}])
def test_bad_paging_is_400(api, params):
    response = api.get("/v1/payments", params)
    assert response.status_code == 400


def test_page_past_the_end_is_empty(api):
    create_payment(api)
    body = api.get("/v1/payments", {"page": 5}).json()
    assert body["data"] == [] and body["has_more"] is False


def test_abort_unpaid_payment(api):
    payment = create_payment(api)

    response = api.patch(f"/v1/payments/{payment['id']}", {"abort": True})

    assert response.status_code == 200
    assert response.json()["failure"]["code"] == "aborted"
    assert api.patch(f"/v1/payments/{payment['id']}", {"aborted": True}).status_code == 200


def test_abort_of_paid_payment_is_refused(api):
    payment = create_payment(api)
    pay(payment)

    response = api.patch(f"/v1/payments/{payment['id']}", {"abort": True})

    assert response.status_code == 400
    assert response.json()["code"] == "payment_already_paid"


def test_patch_needs_exactly_one_action(api):
    payment = create_payment(api)
    response = api.patch(f"/v1/payments/{payment['id']}", {"abort": True, "captured": True})
    assert response.status_code == 400


def test_capture_of_immediate_payment_is_refused(api):
    payment = create_payment(api)
    pay(payment)
    response = api.patch(f"/v1/payments/{payment['id']}", {"captured": True})
    assert response.status_code == 400
    assert response.json()["code"] == "payment_not_deferred"


def test_capture_before_authorisation_is_refused(api):
    body = payment_body()
    body["authorized_amount"] = body.pop("amount")
    payment = create_payment_from(api, body)
    response = api.patch(f"/v1/payments/{payment['id']}", {"captured": True})
    assert response.json()["code"] == "payment_not_authorized"


def test_method_not_allowed_is_405(api):
    response = api.client.put(
        "/v1/payments", "{}", content_type="application/json", headers={"Authorization": f"Bearer {api.key}"}
    )
    assert response.status_code == 405
    assert response.json()["code"] == "method_not_allowed"
