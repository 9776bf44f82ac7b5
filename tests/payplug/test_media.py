"""`/media/` serves merchant logos only (issue 12, finding 1: path traversal under /media/).

The old route handed `logos/<anything>` to django.views.static.serve, which normalises `..` away
and so served `/media/logos/../reports/<y>/<m>/<ar_id>.csv` (an accounting report) and
`/media/logos/%2e%2e/disputes/...` (dispute evidence) to anyone. The test Client decodes the path
the way a WSGI server does (`%2e` -> `.`, `%2f` -> `/`) and never normalises `..`: it sends what
`curl --path-as-is` sends.
"""

import io
import os
from datetime import timedelta

import pytest
from django.core.files.base import ContentFile
from django.test import Client
from django.utils import timezone
from PIL import Image

from merchants.models import Merchant
from payments.models import Payment
from payments.money import disputes, reports
from tests.payments.helpers import create_payment, pay

DISPUTE_CARD = "4000 0000 0000 0259"
EVIDENCE_BYTES = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\nSECRET-EVIDENCE\n%%EOF\n"
OUTSIDE_BYTES = b"SECRET-OUTSIDE-MEDIA-ROOT"


def png_bytes() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), "#1f5fbf").save(buffer, format="PNG")
    return buffer.getvalue()


def body_of(response) -> bytes:
    if getattr(response, "streaming", False):
        return b"".join(response.streaming_content)
    return response.content


@pytest.fixture(autouse=True)
def _real_commits(transactional_db):
    """The payment flow behind a dispute runs on on_commit hooks (as in tests/payments)."""


@pytest.fixture
def media(settings, tmp_path):
    root = tmp_path / "media"
    root.mkdir()
    settings.MEDIA_ROOT = str(root)
    (tmp_path / "outside.txt").write_bytes(OUTSIDE_BYTES)
    return root


@pytest.fixture
def private_files(api, merchant_a, media):
    """A real accounting report and a real piece of dispute evidence, on disk under MEDIA_ROOT."""
    today = timezone.now().date()
    report = reports.generate(reports.create_report(merchant_a, False, today - timedelta(days=7), today, None).pk)
    assert report.file.name.startswith("reports/")
    payment = create_payment(api)
    pay(payment, number=DISPUTE_CARD)
    dispute = disputes.open_scheduled(Payment.objects.get(public_id=payment["id"]).pk, force=True)
    evidence = dispute.evidence.create(
        file=ContentFile(EVIDENCE_BYTES, name=f"{dispute.public_id}.pdf"),
        original_name="proof.pdf",
        content_type="application/pdf",
        size=len(EVIDENCE_BYTES),
    )
    assert evidence.file.name.startswith("disputes/")
    with report.file.open("rb") as handle:
        report_bytes = handle.read()
    return {"report": report.file.name, "report_bytes": report_bytes, "evidence": evidence.file.name}


@pytest.fixture
def logo(merchant_a, media):
    merchant_a.logo.save("0123456789abcdef.png", ContentFile(png_bytes()), save=True)
    merchant_a.refresh_from_db()
    return merchant_a.logo


def attack_paths(report: str, evidence: str) -> list[str]:
    report_tail = report.removeprefix("reports/")
    evidence_tail = evidence.removeprefix("disputes/")
    enc = lambda s: s.replace("/", "%2f")  # noqa: E731
    return [
        # The finding's own two URLs.
        f"/media/logos/../{report}",
        f"/media/logos/%2e%2e/{evidence}",
        # Every spelling of `..` and of the separator.
        f"/media/logos/%2e%2e/{report}",
        f"/media/logos/%2E%2E/{report}",
        f"/media/logos/.%2e/{report}",
        f"/media/logos/%2e./{evidence}",
        f"/media/logos/..%2f{enc(report)}",
        f"/media/logos/%2e%2e%2f{enc(evidence)}",
        f"/media/logos%2f..%2f{enc(report)}",
        f"/media/logos/..%5c{report}",
        f"/media/logos/..%5c{report.replace('/', '%5c')}",
        f"/media/logos/..\\{report}",
        f"/media/logos/%252e%252e/{report}",
        f"/media/logos/./../{report}",
        f"/media/logos/x/../../{report}",
        f"/media/logos//../{report}",
        f"/media/logos/...//{report}",
        "/media/logos/../../outside.txt",
        "/media/logos/%2e%2e/%2e%2e/outside.txt",
        # Absolute paths and null bytes.
        f"/media/logos//{report}",
        "/media/logos//etc/passwd",
        "/media/logos/%2fetc%2fpasswd",
        f"/media/logos/%2f{enc(report)}",
        f"/media/logos/../{report}%00.png",
        f"/media/logos/..%00/{report}",
        "/media/logos/x.png%00",
        # The private files at their own place.
        f"/media/{report}",
        f"/media/{evidence}",
        f"/media/reports/{report_tail}",
        f"/media/disputes/{evidence_tail}",
        f"/media/./{report}",
        f"/media/%2e/{evidence}",
        # Directories.
        "/media/logos/",
        "/media/logos/..",
        "/media/logos/%2e%2e",
        "/media/",
    ]


def test_no_spelling_of_a_path_under_media_reaches_a_report_or_evidence(private_files, logo):
    client = Client()
    paths = attack_paths(private_files["report"], private_files["evidence"])
    answers = {}
    for path in paths:
        response = client.get(path)
        content = body_of(response)
        answers[path] = response.status_code
        assert b"SECRET-EVIDENCE" not in content, path
        assert b"operation_date" not in content and private_files["report_bytes"] not in content, path
        assert OUTSIDE_BYTES not in content, path
    assert answers == dict.fromkeys(paths, 404)


def test_a_merchants_logo_still_loads_at_its_url(client, logo):
    assert logo.url.startswith("/media/logos/")

    response = client.get(logo.url)

    assert response.status_code == 200
    assert body_of(response) == png_bytes()
    assert response["Content-Type"] == "image/png"
    assert response["X-Content-Type-Options"] == "nosniff"


def test_a_jpeg_logo_is_served_as_jpeg(client, merchant_a, media):
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), "#aa3300").save(buffer, format="JPEG")
    merchant_a.logo.save("fedcba9876543210.jpg", ContentFile(buffer.getvalue()), save=True)

    response = client.get(merchant_a.logo.url)

    assert response.status_code == 200 and response["Content-Type"] == "image/jpeg"


def test_a_file_in_logos_that_no_merchant_shows_is_not_served(client, logo, media):
    (media / "logos" / "aaaaaaaaaaaaaaaa.png").write_bytes(png_bytes())
    (media / "logos" / "notes.txt").write_bytes(b"not a logo")

    assert client.get("/media/logos/aaaaaaaaaaaaaaaa.png").status_code == 404
    assert client.get("/media/logos/notes.txt").status_code == 404


def test_a_symlink_in_logos_pointing_at_a_report_is_not_followed(client, private_files, merchant_a, media):
    link = media / "logos" / "bbbbbbbbbbbbbbbb.png"
    link.parent.mkdir(exist_ok=True)
    os.symlink(media / private_files["report"], link)
    # Even when the merchant row names it (the field is never written from user input like this).
    Merchant.objects.filter(pk=merchant_a.pk).update(logo="logos/bbbbbbbbbbbbbbbb.png")

    response = Client().get("/media/logos/bbbbbbbbbbbbbbbb.png")

    assert response.status_code == 404
    assert private_files["report_bytes"] not in body_of(response)


def test_a_logo_field_naming_a_private_file_is_not_served(client, private_files, merchant_a):
    Merchant.objects.filter(pk=merchant_a.pk).update(logo=f"logos/../{private_files['report']}")

    for path in (f"/media/logos/../{private_files['report']}", f"/media/logos/%2e%2e/{private_files['report']}"):
        response = client.get(path)
        assert response.status_code == 404
        assert private_files["report_bytes"] not in body_of(response)
