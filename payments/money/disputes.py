"""Disputes (chargebacks): opened by the card scheme, answered with evidence, won or lost.

* Opening: the disputed amount (what the payment still holds: amount - refunded) and the dispute
  fee leave the merchant's balance (ledger.post_chargeback), `payment.dispute` is set on the API
  object and `payment.disputed` is published with an IPN of the payment.
* The team hears of it by email (members who get dispute emails), and again REMINDER_BEFORE the
  deadline while no evidence is submitted; each email once per dispute (send_due_emails, beat).
* The merchant uploads evidence before `evidence_due_by` and submits it: under review. The
  explanation typed with an upload is kept as a draft (save_draft) until it is submitted.
* Outcome (the acquirer's verdict, entered by staff, or the sandbox in test mode): won -> the
  amount comes back to the merchant; lost -> final, `payment.dispute_lost` is published (the
  fraud engine learns it as a fraud label). No evidence by the deadline -> lost.

In test mode the sandbox dispute card (4000 0000 0000 0259) schedules a chargeback
SANDBOX_CHARGEBACK_DELAY after capture (a ScheduledChargeback row: a beat task opens it when due,
and a countdown task too when a broker is configured; `open_scheduled` is idempotent).
"""

from __future__ import annotations

import logging
import posixpath
import re
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.http import FileResponse, Http404
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from notifications.models import EmailSubscription
from notifications.services import emails as member_emails
from payments import events
from payments.acquirers import sandbox
from payments.errors import PaymentError
from payments.models import Dispute, DisputeEvidence, Payment, PaymentAttempt, ScheduledChargeback
from payments.money import ledger
from payplug.queue import enqueue_after_commit

logger = logging.getLogger(__name__)
Status = Dispute.Status

SANDBOX_CHARGEBACK_DELAY = timedelta(seconds=getattr(settings, "SANDBOX_CHARGEBACK_DELAY_SECONDS", 300))
RESPONSE_WINDOW = timedelta(days=10)
# The team is reminded this long before the evidence deadline of a dispute still unanswered.
REMINDER_BEFORE = timedelta(days=3)
EVIDENCE_MAX_BYTES = 5 * 1024 * 1024
EVIDENCE_TYPES = {"application/pdf": ".pdf", "image/png": ".png", "image/jpeg": ".jpg", "text/plain": ".txt"}

# The type of a piece of evidence comes from its first bytes, never from the browser's Content-Type
# (issue 12, finding 7); what the browser declared and the file's extension must agree with them.
_SIGNATURES = (("application/pdf", b"%PDF-"), ("image/png", b"\x89PNG\r\n\x1a\n"), ("image/jpeg", b"\xff\xd8\xff"))
# Formats whose signature is valid UTF-8 without NUL: never "text", whatever the declared type.
_OTHER_SIGNATURES = (b"GIF87a", b"GIF89a", b"PK\x03\x04", b"MZ", b"\x7fELF", b"Rar!\x1a\x07", b"{\\rtf")
_EXTENSIONS = {
    ".pdf": "application/pdf",
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".txt": "text/plain",
}
_DECLARED_ALIASES = {"image/jpg": "image/jpeg", "image/pjpeg": "image/jpeg", "application/x-pdf": "application/pdf"}
_UNDECLARED = {"", "application/octet-stream"}  # the browser does not know: the extension must say it


def sniff_evidence_type(data: bytes) -> str | None:
    """The allowed type `data` is (one of EVIDENCE_TYPES), or None. Text: UTF-8 without NUL bytes."""
    for content_type, signature in _SIGNATURES:
        if data.startswith(signature):
            return content_type
    if not data or b"\0" in data or data.startswith(_OTHER_SIGNATURES):
        return None
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return None
    return "text/plain"


def _read(upload) -> bytes:
    upload.seek(0)
    data = upload.read()
    upload.seek(0)
    return data


# --- sandbox: the dispute card ---------------------------------------------------------------------


def schedule_sandbox_chargeback(payment_id: int) -> ScheduledChargeback | None:
    """Test mode: when a payment made with the sandbox dispute card is paid, schedule its
    chargeback SANDBOX_CHARGEBACK_DELAY after the capture. Run by the `payments.sandbox_chargeback`
    subscriber of `payment.paid`, so the state machine knows nothing of it; safe to run again for
    the same payment (one ScheduledChargeback per payment). None for any other payment."""
    with transaction.atomic():
        p = Payment.objects.select_for_update().filter(pk=payment_id, is_live=False, status=Payment.Status.PAID).first()
        if p is None:
            return None
        captured = p.attempts.filter(acquirer="sandbox", status=PaymentAttempt.Status.CAPTURED)
        attempt = captured.order_by("-created_at").first()
        if not sandbox.is_dispute_card(attempt):
            return None
        scheduled, created = ScheduledChargeback.objects.get_or_create(
            payment=p, defaults={"due_at": (p.paid_at or timezone.now()) + SANDBOX_CHARGEBACK_DELAY}
        )
        if created:
            # A countdown task opens it on time when a broker runs; the beat task opens it otherwise.
            enqueue_after_commit(
                "payments.open_scheduled_chargeback",
                [p.pk],
                countdown=SANDBOX_CHARGEBACK_DELAY.total_seconds(),
                skip_when_eager=True,
            )
    return scheduled


def open_scheduled(payment_id: int, now=None, *, force: bool = False) -> Dispute | None:
    """Open a scheduled sandbox chargeback if it is due (or at once with force)."""
    now = now or timezone.now()
    scheduled = ScheduledChargeback.objects.filter(payment_id=payment_id, opened_at__isnull=True).first()
    if scheduled is None or (scheduled.due_at > now and not force):
        return None
    # Compare-and-set: one worker opens it.
    if not ScheduledChargeback.objects.filter(pk=scheduled.pk, opened_at__isnull=True).update(opened_at=now):
        return None
    payment = Payment.objects.get(pk=payment_id)
    return open_dispute(payment, Dispute.Reason.FRAUDULENT, now=now)


def open_due_chargebacks(now=None) -> int:
    """Beat task body: open every sandbox chargeback that is due."""
    now = now or timezone.now()
    due = ScheduledChargeback.objects.filter(opened_at__isnull=True, due_at__lte=now).values_list(
        "payment_id", flat=True
    )
    return sum(1 for payment_id in list(due[:500]) if open_scheduled(payment_id, now) is not None)


# --- transitions -----------------------------------------------------------------------------------


def open_dispute(payment: Payment, reason: str, now=None) -> Dispute:
    """A chargeback arrived for a paid payment. Idempotent: a second call returns the dispute."""
    now = now or timezone.now()
    with transaction.atomic():
        p = Payment.objects.select_for_update().get(pk=payment.pk)
        existing = Dispute.objects.filter(payment=p).first()
        if existing is not None:
            return existing
        if p.status != Payment.Status.PAID:
            raise PaymentError("payment_not_paid", "Only a paid payment can be disputed.")
        amount = p.amount - p.amount_refunded
        if amount <= 0:
            raise PaymentError("payment_refunded", "A fully refunded payment cannot be disputed.")
        dispute = Dispute.objects.create(
            merchant=p.merchant,
            is_live=p.is_live,
            payment=p,
            amount=amount,
            currency=p.currency,
            fee=ledger.settings_for(p.merchant).dispute_fee,
            reason=reason,
            evidence_due_by=now + RESPONSE_WINDOW,
            created_at=now,
        )
        ledger.post_chargeback(dispute, now)
        p.dispute = {"amount": amount, "reason": reason, "created_at": int(now.timestamp())}
        p.save(update_fields=["dispute", "updated_at"])
        events.publish_payment(p, "payment.disputed", ipn=True)
        # The team's "dispute opened" email (the beat task sends it if this task is lost).
        enqueue_after_commit("payments.send_dispute_opened_email", [dispute.pk])
    return dispute


def add_evidence(dispute: Dispute, upload, uploaded_by: str = "") -> DisputeEvidence:
    """Attach a file (PDF, PNG, JPEG or text, at most 5 MB) to an open dispute."""
    if not dispute.is_open:
        raise PaymentError("dispute_closed", "This dispute is closed; evidence can no longer be added.")
    if dispute.status == Status.UNDER_REVIEW:
        raise PaymentError("dispute_submitted", "The evidence was already submitted.")
    if upload.size > EVIDENCE_MAX_BYTES:
        raise PaymentError("invalid_request", _("The file is larger than 5 MB."), details={"file": "too large"})
    content_type = sniff_evidence_type(_read(upload))
    if content_type is None:
        raise PaymentError("invalid_request", _("Use a PDF, PNG, JPEG or text file."), details={"file": "type"})
    declared = (getattr(upload, "content_type", "") or "").split(";")[0].strip().lower()
    declared = _DECLARED_ALIASES.get(declared, declared)
    name = posixpath.basename((getattr(upload, "_original_name", "") or upload.name or "").replace("\\", "/"))
    extension = posixpath.splitext(name)[1].lower()
    if (
        (declared not in _UNDECLARED and declared != content_type)
        or (extension and _EXTENSIONS.get(extension) != content_type)
        or (declared in _UNDECLARED and not extension)
    ):
        message = _(
            "The content of this file does not match its type or name: upload the original PDF, PNG, JPEG or text file."
        )
        raise PaymentError("invalid_request", message, details={"file": "mismatch"})
    upload.name = f"{dispute.public_id}{EVIDENCE_TYPES[content_type]}"
    return DisputeEvidence.objects.create(
        dispute=dispute,
        file=upload,
        original_name=(getattr(upload, "_original_name", "") or upload.name)[:255],
        content_type=content_type,
        size=upload.size,
        uploaded_by=uploaded_by[:255],
    )


# What a download's file name keeps of the uploader's: letters, digits and a few signs, no control
# character, quote, backslash or separator (the name ends up in a header).
_UNSAFE_NAME = re.compile(r"[^\w .()+-]+")


def evidence_download_name(evidence: DisputeEvidence) -> str:
    """The uploader's file name, made safe for Content-Disposition, with the stored type's extension."""
    extension = EVIDENCE_TYPES.get(evidence.content_type, "")
    base = posixpath.basename((evidence.original_name or "").replace("\\", "/"))
    stem = _UNSAFE_NAME.sub("_", posixpath.splitext(base)[0]).strip(" ._")[:100]
    return f"{stem or evidence.dispute.public_id}{extension}"


def evidence_response(evidence: DisputeEvidence) -> FileResponse:
    """A piece of evidence as a private download. The caller (a dashboard view) has checked that
    the evidence's dispute belongs to the merchant and mode of the request; 404 if the file is gone."""
    content_type = evidence.content_type if evidence.content_type in EVIDENCE_TYPES else "application/octet-stream"
    try:
        handle = evidence.file.open("rb")
    except (FileNotFoundError, ValueError) as exc:
        raise Http404("This file is no longer available.") from exc
    response = FileResponse(
        handle, as_attachment=True, filename=evidence_download_name(evidence), content_type=content_type
    )
    response["Cache-Control"] = "private, no-store"
    response["X-Content-Type-Options"] = "nosniff"  # text/plain stays text, even if it holds HTML
    return response


def save_draft(dispute: Dispute, text: str) -> Dispute:
    """Keep the explanation typed so far (with an upload): a draft until the evidence is submitted."""
    with transaction.atomic():
        locked = Dispute.objects.select_for_update().get(pk=dispute.pk)
        if locked.status == Status.NEEDS_RESPONSE and locked.evidence_text != text.strip()[:20000]:
            locked.evidence_text = text.strip()[:20000]
            locked.save(update_fields=["evidence_text"])
    return locked


def submit_evidence(dispute: Dispute, text: str, now=None) -> Dispute:
    now = now or timezone.now()
    with transaction.atomic():
        locked = Dispute.objects.select_for_update().get(pk=dispute.pk)
        if locked.status == Status.UNDER_REVIEW:
            return locked
        if locked.status != Status.NEEDS_RESPONSE:
            raise PaymentError("dispute_closed", "This dispute is closed.")
        if locked.evidence_due_by <= now:
            raise PaymentError("dispute_deadline_passed", "The deadline to answer this dispute has passed.")
        if not text.strip() and not locked.evidence.exists():
            raise PaymentError("invalid_request", "evidence: explain your case or upload a file first.")
        locked.evidence_text = text.strip()[:20000]
        locked.evidence_submitted_at = now
        locked.status = Status.UNDER_REVIEW
        locked.save(update_fields=["evidence_text", "evidence_submitted_at", "status"])
    return locked


def close(dispute: Dispute, won: bool, now=None) -> Dispute:
    """The scheme's verdict. Won: the amount comes back; lost: final. Idempotent per outcome."""
    now = now or timezone.now()
    outcome = Status.WON if won else Status.LOST
    with transaction.atomic():
        p = Payment.objects.select_for_update().get(pk=dispute.payment_id)
        locked = Dispute.objects.select_for_update().get(pk=dispute.pk)
        if locked.status == outcome:
            return locked
        if not locked.is_open:
            raise PaymentError("dispute_closed", f"This dispute is already {locked.status}.")
        locked.status = outcome
        locked.closed_at = now
        locked.save(update_fields=["status", "closed_at"])
        if won:
            ledger.post_dispute_won(locked, now)
            events.publish_payment(p, "payment.dispute_won", ipn=False)
        else:
            ledger.post_dispute_lost(locked, now)
            events.publish_payment(p, "payment.dispute_lost", ipn=False)
    return locked


def expire_overdue(now=None) -> int:
    """Beat task body: a dispute left without evidence past its deadline is lost."""
    now = now or timezone.now()
    overdue = Dispute.objects.filter(status=Status.NEEDS_RESPONSE, evidence_due_by__lte=now)
    count = 0
    for dispute in list(overdue[:500]):
        close(dispute, won=False, now=now)
        count += 1
    return count


# --- the team's emails: dispute opened, reminder before the deadline -------------------------------
# Each is sent once per dispute: the task claims it under the dispute's row lock (opened_email_sent_at,
# reminder_sent_at) before sending, so a redelivered or concurrent task finds it claimed. When no
# email could be sent at all, the claim is released and the next beat run tries again.


def _dispute_link(dispute: Dispute) -> str:
    try:
        return settings.PUBLIC_BASE_URL + reverse("dashboard:dispute", args=[dispute.public_id])
    except NoReverseMatch:
        return settings.PUBLIC_BASE_URL + "/dashboard/"


def _claim(dispute_id: int, field: str, now, is_due) -> Dispute | None:
    with transaction.atomic():
        locked = Dispute.objects.select_for_update().filter(pk=dispute_id).first()
        if locked is None or getattr(locked, field) is not None or not is_due(locked):
            return None
        setattr(locked, field, now)
        locked.save(update_fields=[field])
    return locked


def _email_team(dispute: Dispute, field: str, now, template: str) -> bool:
    dispute = Dispute.objects.select_related("merchant", "payment").get(pk=dispute.pk)
    context = {
        "merchant": dispute.merchant,
        "dispute_id": dispute.public_id,
        "payment_id": dispute.payment.public_id,
        "amount": dispute.amount,
        "currency": dispute.currency,
        "fee": dispute.fee,
        "reason": Dispute.Reason(dispute.reason).label,  # lazy: translated in each member's language
        "due_by": dispute.evidence_due_by,
        "link": _dispute_link(dispute),
    }
    sent, recipients = member_emails.email_members(
        dispute.merchant_id, dispute.is_live, EmailSubscription.Topic.DISPUTES, template, context
    )
    if recipients and not sent:
        Dispute.objects.filter(pk=dispute.pk, **{field: now}).update(**{field: None})
        return False
    return sent > 0


def send_opened_email(dispute_id: int, now=None) -> bool:
    """Tell the team a dispute was opened (members who get dispute emails). True when sent now."""
    now = now or timezone.now()
    dispute = _claim(dispute_id, "opened_email_sent_at", now, lambda d: d.status == Status.NEEDS_RESPONSE)
    return dispute is not None and _email_team(dispute, "opened_email_sent_at", now, "dispute_opened")


def send_reminder(dispute_id: int, now=None) -> bool:
    """Remind the team REMINDER_BEFORE the deadline of a dispute whose evidence is not submitted."""
    now = now or timezone.now()

    def is_due(d: Dispute) -> bool:
        return (
            d.status == Status.NEEDS_RESPONSE
            and d.evidence_submitted_at is None
            and now < d.evidence_due_by <= now + REMINDER_BEFORE
        )

    dispute = _claim(dispute_id, "reminder_sent_at", now, is_due)
    return dispute is not None and _email_team(dispute, "reminder_sent_at", now, "dispute_reminder")


def send_due_emails(now=None) -> dict:
    """Beat task body: the reminders that fell due, and any "dispute opened" email whose task was lost."""
    now = now or timezone.now()
    waiting = Dispute.objects.filter(status=Status.NEEDS_RESPONSE)
    unannounced = waiting.filter(opened_email_sent_at__isnull=True, created_at__gte=now - timedelta(days=2))
    due = waiting.filter(
        reminder_sent_at__isnull=True,
        evidence_submitted_at__isnull=True,
        evidence_due_by__gt=now,
        evidence_due_by__lte=now + REMINDER_BEFORE,
    )
    opened = sum(1 for pk in list(unannounced.values_list("pk", flat=True)[:500]) if send_opened_email(pk, now))
    reminded = sum(1 for pk in list(due.values_list("pk", flat=True)[:500]) if send_reminder(pk, now))
    return {"opened": opened, "reminders": reminded}
