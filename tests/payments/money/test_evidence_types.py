"""Dispute evidence: the type comes from the file's bytes, never from the browser (issue 12, finding 7).

A file whose first bytes match none of the allowed types (PDF, PNG, JPEG, UTF-8 text), or that do
not match the type the browser declared or the file's extension, is refused, and the dashboard says
why next to the upload field. What is stored is the detected type.
"""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from payments.errors import PaymentError
from payments.models import Dispute, Payment
from payments.money import disputes
from tests.payments.helpers import create_payment, pay
from tests.payments.money.test_ledger_tripwire import ledger_tripwire  # noqa: F401  autouse: check_ledger after each test

DISPUTE_CARD = "4000 0000 0000 0259"
PDF = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\nendobj\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89"
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00\xff\xd9"
TEXT = "Livré le 3 décembre, signé par le client.\n".encode()
HTML = b"<html><script>alert(document.cookie)</script></html>\n"


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)


@pytest.fixture
def dispute(api) -> Dispute:
    payment = create_payment(api)
    pay(payment, number=DISPUTE_CARD)
    return disputes.open_scheduled(Payment.objects.get(public_id=payment["id"]).pk, force=True)


def upload(name, data, content_type):
    file = SimpleUploadedFile(name, data, content_type=content_type)
    file._original_name = name
    return file


def refused(dispute, name, data, content_type) -> PaymentError:
    with pytest.raises(PaymentError) as caught:
        disputes.add_evidence(dispute, upload(name, data, content_type))
    assert caught.value.details.get("file")
    assert not dispute.evidence.exists()
    return caught.value


# --- what is kept, with the type its bytes give ------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "data", "declared", "stored"),
    [
        ("receipt.pdf", PDF, "application/pdf", "application/pdf"),
        ("photo.png", PNG, "image/png", "image/png"),
        ("photo.jpg", JPEG, "image/jpeg", "image/jpeg"),
        ("PHOTO.JPEG", JPEG, "image/jpeg", "image/jpeg"),
        ("notes.txt", TEXT, "text/plain", "text/plain"),
        ("notes.txt", b"\xef\xbb\xbf" + TEXT, "text/plain; charset=utf-8", "text/plain"),  # a BOM is still text
    ],
)
def test_real_files_pass_and_keep_their_detected_type(dispute, name, data, declared, stored):
    evidence = disputes.add_evidence(dispute, upload(name, data, declared))

    assert evidence.content_type == stored
    assert evidence.file.name.endswith(disputes.EVIDENCE_TYPES[stored])
    with evidence.file.open("rb") as handle:
        assert handle.read() == data


@pytest.mark.parametrize(("name", "data"), [("scan.png", PNG), ("scan.jpg", JPEG), ("scan.pdf", PDF)])
def test_the_stored_type_is_the_detected_one_when_the_browser_does_not_know(dispute, name, data):
    evidence = disputes.add_evidence(dispute, upload(name, data, "application/octet-stream"))

    assert evidence.content_type == disputes.sniff_evidence_type(data)
    assert evidence.content_type != "application/octet-stream"


def test_an_old_browsers_jpeg_alias_is_stored_as_image_jpeg(dispute):
    assert disputes.add_evidence(dispute, upload("photo.jpg", JPEG, "image/pjpeg")).content_type == "image/jpeg"


# --- what is refused ----------------------------------------------------------------------------------


def test_a_png_renamed_pdf_and_declared_pdf_is_refused(dispute):
    error = refused(dispute, "contract.pdf", PNG, "application/pdf")

    assert "PDF" in error.message


@pytest.mark.parametrize(
    ("name", "data", "declared"),
    [
        ("contract.pdf", JPEG, "application/pdf"),  # bytes of one allowed type, declared as another
        ("photo.png", PDF, "image/png"),
        ("photo.png", PNG, "image/jpeg"),  # declared type and bytes disagree
        ("receipt.png", PDF, "application/pdf"),  # the extension and the bytes disagree
        ("notes.txt", PDF, "text/plain"),  # bytes say PDF
        ("notes.pdf", TEXT, "application/pdf"),  # text pretending to be a PDF
        ("notes.txt", TEXT, "image/png"),
        ("page.html", HTML, "text/html"),  # not an allowed type at all
        ("notes.html", TEXT, "text/plain"),  # an extension that is not an allowed type
        ("scan", PNG, "application/octet-stream"),  # neither the browser nor the name says what it is
    ],
)
def test_bytes_that_do_not_match_the_declared_type_or_extension_are_refused(dispute, name, data, declared):
    refused(dispute, name, data, declared)


@pytest.mark.parametrize(
    ("name", "data", "declared"),
    [
        ("tool.txt", b"MZ\x90\x00\x03\x00\x00\x00\x04\x00", "text/plain"),  # an executable: NUL bytes
        ("notes.txt", b"caf\xe9 cr\xe8me\n", "text/plain"),  # not UTF-8
        ("notes.txt", b"GIF89a\x01\x00\x01\x00", "text/plain"),  # another format's magic
        ("archive.txt", b"PK\x03\x04\x14\x00", "text/plain"),
        ("photo.png", b"GIF89a\x01\x00\x01\x00\x80\x00\x00", "image/png"),
        ("photo.jpg", b"\xff\xd8", "image/jpeg"),  # a truncated signature is not a JPEG
        ("empty.txt", b"", "text/plain"),
    ],
)
def test_bytes_of_no_allowed_type_are_refused(dispute, name, data, declared):
    error = refused(dispute, name, data, declared)

    assert "PDF" in error.message


def test_the_size_limit_is_checked_before_the_bytes_are_read(dispute, monkeypatch):
    monkeypatch.setattr(disputes, "EVIDENCE_MAX_BYTES", 16)

    refused(dispute, "receipt.pdf", PDF, "application/pdf")


# --- the HTML-as-text case: kept as text, never rendered ---------------------------------------------


def test_html_declared_as_text_is_kept_as_text_and_downloaded_as_an_inert_attachment(dispute, alice_client):
    evidence = disputes.add_evidence(dispute, upload("notes.txt", HTML, "text/plain"))

    response = alice_client.get(reverse("dashboard:dispute_evidence", args=[dispute.public_id, evidence.pk]))

    assert evidence.content_type == "text/plain"
    assert response.status_code == 200
    assert response["Content-Type"].split(";")[0] == "text/plain"
    assert response["Content-Disposition"].startswith("attachment;")
    assert response["X-Content-Type-Options"] == "nosniff"


def test_the_download_itself_says_nosniff_whatever_the_middleware(dispute):
    evidence = disputes.add_evidence(dispute, upload("notes.txt", HTML, "text/plain"))

    assert disputes.evidence_response(evidence)["X-Content-Type-Options"] == "nosniff"


# --- the dashboard ------------------------------------------------------------------------------------


def test_the_dashboard_shows_the_refusal_next_to_the_upload_field(dispute, alice_client):
    url = reverse("dashboard:dispute", args=[dispute.public_id])

    response = alice_client.post(url, {"action": "upload", "file": upload("contract.pdf", PNG, "application/pdf")})

    assert response.status_code == 400
    page = response.content.decode()
    assert 'id="e-file-error"' in page and 'aria-describedby="e-file-error"' in page
    field = page[page.index('id="e-file"') : page.index("</div>", page.index('id="e-file"'))]
    assert 'id="e-file-error"' in field  # inside the field's block, not a banner elsewhere
    assert not dispute.evidence.exists()


def test_a_real_upload_from_the_dashboard_still_works(dispute, alice_client):
    url = reverse("dashboard:dispute", args=[dispute.public_id])

    response = alice_client.post(url, {"action": "upload", "file": upload("photo.jpg", JPEG, "image/jpeg")})

    assert response.status_code == 302
    assert dispute.evidence.get().content_type == "image/jpeg"
