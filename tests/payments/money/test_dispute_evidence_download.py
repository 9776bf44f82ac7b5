"""Dispute evidence is downloaded from the dispute page only, by the merchant that uploaded it, in
the mode it belongs to (issue 12, finding 1: evidence was readable by anyone under /media/)."""

import pytest
from django.core.files.base import ContentFile
from django.test import Client
from django.urls import reverse

from merchants.models import Membership
from payments.models import Dispute, Payment
from payments.money import disputes
from tests import factories
from tests.payments.helpers import create_payment, pay
from tests.payments.money.test_ledger_tripwire import ledger_tripwire  # noqa: F401  autouse: check_ledger after each test

DISPUTE_CARD = "4000 0000 0000 0259"
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\nproof of delivery\n%%EOF\n"


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)


def open_dispute(api) -> Dispute:
    payment = create_payment(api)
    pay(payment, number=DISPUTE_CARD)
    return disputes.open_scheduled(Payment.objects.get(public_id=payment["id"]).pk, force=True)


def add_file(dispute, data=PDF, content_type="application/pdf", name="receipt (signed).pdf"):
    extension = disputes.EVIDENCE_TYPES[content_type]
    return dispute.evidence.create(
        file=ContentFile(data, name=f"{dispute.public_id}{extension}"),
        original_name=name,
        content_type=content_type,
        size=len(data),
    )


def url_of(evidence) -> str:
    return reverse("dashboard:dispute_evidence", args=[evidence.dispute.public_id, evidence.pk])


def body_of(response) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


def test_the_dispute_page_links_each_file_and_the_link_downloads_it(api, alice_client):
    dispute = open_dispute(api)
    evidence = add_file(dispute)

    page = alice_client.get(reverse("dashboard:dispute", args=[dispute.public_id])).content.decode()
    response = alice_client.get(url_of(evidence))

    assert f'href="{url_of(evidence)}"' in page
    assert response.status_code == 200
    assert body_of(response) == PDF
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].startswith("attachment;")
    assert 'filename="receipt (signed).pdf"' in response["Content-Disposition"]
    assert {part.strip() for part in response["Cache-Control"].split(",")} >= {"private", "no-store"}
    assert response["X-Content-Type-Options"] == "nosniff"


@pytest.mark.parametrize(
    ("content_type", "data"),
    [("image/png", b"\x89PNG\r\n\x1a\n" + b"\0" * 16), ("image/jpeg", b"\xff\xd8\xff\xe0" + b"\0" * 16)],
)
def test_images_keep_their_type(api, alice_client, content_type, data):
    evidence = add_file(open_dispute(api), data=data, content_type=content_type, name="photo")

    response = alice_client.get(url_of(evidence))

    assert response.status_code == 200 and response["Content-Type"] == content_type
    assert body_of(response) == data
    assert response["Content-Disposition"].startswith("attachment;")


def test_an_uploaders_file_name_cannot_forge_the_header(api, alice_client):
    evidence = add_file(open_dispute(api), name='a"b\r\nSet-Cookie: x=1;\\..\\..\\evil.pdf')

    response = alice_client.get(url_of(evidence))

    assert response.status_code == 200
    disposition = response["Content-Disposition"]
    assert "\r" not in disposition and "\n" not in disposition and "\\" not in disposition
    assert not response.cookies.get("x")


def test_another_merchant_gets_404(api, client, merchant_b, charlie):
    evidence = add_file(open_dispute(api))
    client.force_login(charlie)

    response = client.get(url_of(evidence))

    assert response.status_code == 404
    assert PDF not in body_of(response)


def test_the_other_mode_gets_404(api, alice_client):
    dispute = open_dispute(api)
    evidence = add_file(dispute)
    Dispute.objects.filter(pk=dispute.pk).update(is_live=True)  # the dashboard is in test mode

    response = alice_client.get(url_of(evidence))

    assert response.status_code == 404
    assert PDF not in body_of(response)


def test_a_file_of_another_dispute_of_the_same_merchant_is_not_served_under_this_one(api, alice_client):
    first, second = open_dispute(api), open_dispute(api)
    evidence = add_file(second)

    response = alice_client.get(reverse("dashboard:dispute_evidence", args=[first.public_id, evidence.pk]))

    assert response.status_code == 404


def test_a_file_of_another_merchant_is_not_served_under_a_dispute_of_ones_own(api, api_b, alice_client):
    own = open_dispute(api)
    foreign = add_file(open_dispute(api_b))

    response = alice_client.get(reverse("dashboard:dispute_evidence", args=[own.public_id, foreign.pk]))

    assert response.status_code == 404
    assert PDF not in body_of(response)


def test_without_login_nothing_is_served(api):
    evidence = add_file(open_dispute(api))

    response = Client().get(url_of(evidence))

    assert response.status_code == 302 and "/login" in response["Location"]
    assert PDF not in body_of(response)


def test_every_role_that_sees_the_dispute_can_download_what_it_lists(api, merchant_a):
    evidence = add_file(open_dispute(api))
    for role in Membership.Role:
        if role == Membership.Role.OWNER:
            continue
        client = Client()
        client.force_login(factories.member(merchant_a, f"{role}@example.org", role))
        assert client.get(reverse("dashboard:dispute", args=[evidence.dispute.public_id])).status_code == 200, role
        assert client.get(url_of(evidence)).status_code == 200, role


def test_a_file_missing_from_storage_is_404_not_500(api, alice_client):
    evidence = add_file(open_dispute(api))
    evidence.file.storage.delete(evidence.file.name)

    assert alice_client.get(url_of(evidence)).status_code == 404
