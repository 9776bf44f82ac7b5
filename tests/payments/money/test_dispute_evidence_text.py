"""The dispute page keeps the merchant's explanation when a file is uploaded (issue 12, finding 21).

The explanation and the file are one form: uploading a file saves the text typed so far as a draft
(shown again in the text area, never as submitted evidence), a refused file re-renders the page
with the text, and submitting with a file chosen attaches the file and submits both.
"""

import re
from html import unescape

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from payments.models import Dispute, Payment
from payments.money import disputes
from tests.payments.helpers import create_payment, pay
from tests.payments.money.test_ledger_tripwire import ledger_tripwire  # noqa: F401  autouse: check_ledger after each test

DISPUTE_CARD = "4000 0000 0000 0259"
PDF = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\nendobj\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89"
TEXT = "Delivered on 3 March & signed for by <the customer>."


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)


@pytest.fixture
def dispute(api) -> Dispute:
    payment = create_payment(api)
    pay(payment, number=DISPUTE_CARD)
    return disputes.open_scheduled(Payment.objects.get(public_id=payment["id"]).pk, force=True)


def textarea(page: str) -> str:
    match = re.search(r'<textarea[^>]*id="e-text"[^>]*>(.*?)</textarea>', page, re.S)
    assert match, "the explanation field is missing"
    return unescape(match.group(1)).strip()


def test_uploading_a_file_keeps_the_explanation_typed_before(dispute, alice_client):
    url = reverse("dashboard:dispute", args=[dispute.public_id])
    upload = SimpleUploadedFile("receipt.pdf", PDF, content_type="application/pdf")

    response = alice_client.post(url, {"action": "upload", "file": upload, "text": TEXT}, follow=True)

    page = response.content.decode()
    assert textarea(page) == TEXT
    assert "<blockquote" not in page  # a draft is not shown as submitted evidence
    dispute.refresh_from_db()
    assert dispute.status == Dispute.Status.NEEDS_RESPONSE and dispute.evidence_submitted_at is None
    assert dispute.evidence.get().original_name == "receipt.pdf"
    # The draft survives a later visit too.
    assert textarea(alice_client.get(url).content.decode()) == TEXT


def test_a_refused_file_keeps_the_explanation_in_the_field(dispute, alice_client):
    url = reverse("dashboard:dispute", args=[dispute.public_id])
    upload = SimpleUploadedFile("contract.pdf", PNG, content_type="application/pdf")

    response = alice_client.post(url, {"action": "upload", "file": upload, "text": TEXT})

    assert response.status_code == 400
    assert textarea(response.content.decode()) == TEXT
    assert not dispute.evidence.exists()


def test_submitting_with_a_file_chosen_attaches_it_and_submits_the_text(dispute, alice_client):
    url = reverse("dashboard:dispute", args=[dispute.public_id])
    upload = SimpleUploadedFile("receipt.pdf", PDF, content_type="application/pdf")

    response = alice_client.post(url, {"action": "submit", "file": upload, "text": TEXT})

    assert response.status_code == 302
    dispute.refresh_from_db()
    assert dispute.status == Dispute.Status.UNDER_REVIEW
    assert dispute.evidence_text == TEXT
    assert dispute.evidence.get().original_name == "receipt.pdf"
    page = alice_client.get(url).content.decode()
    assert "<blockquote" in page and 'id="e-text"' not in page


def test_the_explanation_and_the_file_are_one_form(dispute, alice_client):
    page = alice_client.get(reverse("dashboard:dispute", args=[dispute.public_id])).content.decode()

    forms = re.findall(r"<form\b.*?</form>", page, re.S)
    (evidence_form,) = [form for form in forms if 'id="e-file"' in form]
    assert 'id="e-text"' in evidence_form and 'enctype="multipart/form-data"' in evidence_form


def test_submitting_nothing_is_refused_next_to_the_explanation_in_the_merchants_words(dispute, alice_client):
    url = reverse("dashboard:dispute", args=[dispute.public_id])

    response = alice_client.post(url, {"action": "submit", "text": "   "})

    assert response.status_code == 400
    page = response.content.decode()
    assert 'aria-describedby="e-text-error"' in page
    assert "Explain your case or upload a file before you submit." in page
    assert "evidence:" not in page  # not the API's message
    dispute.refresh_from_db()
    assert dispute.status == Dispute.Status.NEEDS_RESPONSE
