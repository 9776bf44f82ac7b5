"""Dashboard pages of the payments app: the back office (payments, detail and timeline, refunds,
customers, balance and payouts, disputes, accounting exports) and the API reference.

Views stay thin: parse, check the role, call a service, render. Lists use keyset pages and
exports stream (payments.dashboard.queries).
"""

from __future__ import annotations

from datetime import date, timedelta

from django.conf import settings
from django.contrib import messages
from django.db import transaction
from django.http import Http404, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template import TemplateDoesNotExist
from django.template.loader import get_template
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from merchants import roles
from merchants.decorators import dashboard_view
from merchants.models import ApiKey
from notifications.models import Event
from payments import amounts, display, idempotency, services
from payments.acquirers.base import AcquirerUnavailable
from payments.dashboard import queries
from payments.errors import PaymentError
from payments.models import (
    AccountingReport,
    Card,
    Customer,
    Dispute,
    LedgerTransaction,
    Payment,
    Payout,
    ScheduledChargeback,
)
from payments.money import disputes, ledger, payouts, reports
from payplug.ids import random_base62

RISK_PANEL = "dashboard/fragment_risk_panel.html"


def _tenant(request, model):
    return model.objects.for_tenant(request.dashboard.merchant, request.dashboard.is_live)


def _actor(request) -> str:
    return f"dashboard {request.user.email}"


# --- payments --------------------------------------------------------------------------------------


@dashboard_view(roles.VIEW_PAYMENTS)
def payments(request):
    filters = queries.parse_filters(request.GET)
    queryset = queries.filter_payments(_tenant(request, Payment), filters)
    page, next_cursor = queries.keyset_page(queryset, request.GET.get("after"))
    return render(
        request,
        "dashboard/payments.html",
        {
            "page": page,
            "next_cursor": next_cursor,
            "is_first_page": not request.GET.get("after"),
            "filters": filters,
            "filter_items": filters.query_items(),
            "statuses": queries.status_choices(),
            "can_export": request.dashboard.can(roles.EXPORT),
        },
    )


@dashboard_view(roles.EXPORT)
def payments_export(request):
    """The filtered payments as CSV, streamed in keyset chunks: constant memory at any size."""
    filters = queries.parse_filters(request.GET)
    queryset = queries.filter_payments(_tenant(request, Payment), filters)
    mode = "live" if request.dashboard.is_live else "test"
    response = StreamingHttpResponse(
        # Written while streaming, after the request: its time zone and language go with it.
        reports.stream_csv(
            queries.export_rows(queryset, zone_name=request.dashboard.time_zone, language=translation.get_language())
        ),
        content_type="text/csv; charset=utf-8",
    )
    stamp = timezone.now().strftime("%Y%m%d-%H%M%S")
    response["Content-Disposition"] = f'attachment; filename="payments-{mode}-{stamp}.csv"'
    response["Cache-Control"] = "private, no-store"
    return response


def _risk_panel() -> str | None:
    """The fraud engineer's fragment, when installed (read only through the template)."""
    try:
        get_template(RISK_PANEL)
    except TemplateDoesNotExist:
        return None
    return RISK_PANEL


def timeline(payment: Payment, attempts, refunds, dispute, events) -> list[dict]:
    items = [{"at": payment.created_at, "kind": "created", "label": _("Payment created"), "detail": payment.source}]
    for attempt in attempts:
        detail = f"{attempt.card_brand} •••• {attempt.card_last4}" + (" · 3-D Secure" if attempt.is_3ds else "")
        items.append({"at": attempt.created_at, "kind": "attempt", "label": _("Card attempt"), "detail": detail})
        if attempt.failure_code:
            items.append(
                {
                    "at": attempt.updated_at,
                    "kind": "failed",
                    "label": _("Attempt failed"),
                    "detail": display.failure_label(attempt.failure_code, attempt.failure_message),
                }
            )
    if payment.authorized_at:
        items.append({"at": payment.authorized_at, "kind": "authorized", "label": _("Authorised"), "detail": ""})
    if payment.paid_at:
        items.append({"at": payment.paid_at, "kind": "captured", "label": _("Paid"), "detail": ""})
    for refund in refunds:
        items.append(
            {
                "at": refund.created_at,
                "kind": "refund",
                "label": _("Refunded %(amount)s") % {"amount": refund.amount_display},
                "detail": f"{refund.public_id} {refund.created_by}".strip(),
            }
        )
    if dispute is not None:
        items.append(
            {
                "at": dispute.created_at,
                "kind": "dispute",
                "label": _("Dispute opened: %(amount)s") % {"amount": dispute.amount_display},
                "detail": dispute.get_reason_display(),
            }
        )
        if dispute.evidence_submitted_at:
            items.append(
                {"at": dispute.evidence_submitted_at, "kind": "dispute", "label": _("Evidence submitted"), "detail": ""}
            )
        if dispute.closed_at:
            items.append(
                {
                    "at": dispute.closed_at,
                    "kind": "dispute",
                    "label": _("Dispute %(status)s") % {"status": dispute.get_status_display()},
                    "detail": "",
                }
            )
    for event in events:
        items.append({"at": event.created_at, "kind": "event", "label": _("Notification"), "detail": event.type})
    items.sort(key=lambda item: item["at"])
    return items


@dashboard_view(roles.VIEW_PAYMENTS)
def payment_detail(request, payment_id):
    payment = get_object_or_404(_tenant(request, Payment), public_id=payment_id)
    attempts = list(payment.attempts.order_by("created_at", "pk"))
    refunds = list(payment.refunds.order_by("created_at", "pk"))
    dispute = Dispute.objects.filter(payment=payment).first()
    object_ids = [payment.public_id, *[r.public_id for r in refunds]]
    events = list(Event.objects.filter(object_id__in=object_ids).order_by("created_at", "pk")[:200])
    lines = list(LedgerTransaction.objects.filter(payment=payment).order_by("created_at", "pk"))
    can_refund = (
        request.dashboard.can(roles.REFUND)
        and payment.status == Payment.Status.PAID
        and not payment.dispute
        and payment.remaining_amount > 0
    )
    scheduled = ScheduledChargeback.objects.filter(payment=payment, opened_at__isnull=True).first()
    return render(
        request,
        "dashboard/payment_detail.html",
        {
            "payment": payment,
            "attempts": attempts,
            "refunds": refunds,
            "dispute": dispute,
            "timeline": timeline(payment, attempts, refunds, dispute, events),
            "lines": lines,
            "metadata": queries.metadata_items(payment.metadata),
            "risk_panel": _risk_panel(),
            "can_refund": can_refund,
            "scheduled_chargeback": scheduled,
            "can_simulate_chargeback": not payment.is_live
            and payment.status == Payment.Status.PAID
            and dispute is None
            and request.dashboard.can(roles.REFUND),
        },
    )


# The refund forms the dashboard showed, in the session: token -> [payment, amount in cents]. The
# POST refunds the amount its form showed, and only that (the token is claimed with it).
REFUND_FORMS = "dashboard_refund_forms"
REFUND_FORMS_KEPT = 20


@dashboard_view(roles.REFUND)
def refund_confirm(request, payment_id):
    """Two steps: GET the confirmation page (the amount checked, a fresh form token), POST to refund.

    The page shows one form: the amount field, "Review" and "Confirm the refund of €X". The POST
    refunds exactly the amount its form showed (remembered in the session with the token): an
    amount typed since, or any other, is not refunded but shown for confirmation (a fresh form).
    The token is claimed as an idempotency key (payments.idempotency, the API's key table) before
    the refund, so a double submit, a reload or two tabs refund once; when nothing was refunded
    (acquirer unavailable) the key is freed and the same form may retry."""
    payment = get_object_or_404(_tenant(request, Payment), public_id=payment_id)
    if request.method == "POST":
        return _refund_post(request, payment)
    typed = request.GET.get("amount", "").strip() or amounts.amount_for_input(max(payment.remaining_amount, 0))
    return _refund_page(request, payment, typed)


def _refund_page(request, payment, typed: str, *, error: str | None = None, notice: str | None = None):
    """The confirmation of `typed`, or its refusal next to the field (no form to confirm then)."""
    cents = None
    if error is None:
        cents, error = _refund_amount(payment, typed)
    context = {"payment": payment, "amount": typed, "amount_cents": cents, "error": error, "notice": notice}
    context["token"] = None
    if error is None:
        context["token"] = token = random_base62(24)
        context["amount"] = amounts.amount_for_input(cents)
        shown = request.session.get(REFUND_FORMS, {})
        shown[token] = [payment.public_id, cents]
        request.session[REFUND_FORMS] = dict(list(shown.items())[-REFUND_FORMS_KEPT:])
    return render(request, "dashboard/payments_refund.html", context)


def _refund_amount(payment, text: str) -> tuple[int | None, str | None]:
    """The amount in cents, or why `services.refund` would refuse it now, in the merchant's words:
    the service's own rules (`services.check_refundable`), read without writing."""
    text = (text or "").strip()
    try:
        with transaction.atomic():
            # The payment's state first, as if all that remains were refunded; then what was typed.
            services.check_refundable(payment, None)
            cents = amounts.parse_amount(text)
            if text.startswith(("-", "\u2212")) or cents == 0:
                return None, _("Enter an amount above zero.")
            if cents is None:
                return None, _("Enter an amount in euros, e.g. 12.50.")
            return services.check_refundable(payment, cents), None
    except PaymentError as exc:
        if exc.code == "refund_exceeds_remaining" and payment.remaining_amount <= 0:
            return None, _("This payment is already fully refunded.")
        return None, _refusal(payment, exc)


def _at_most(payment) -> str:
    remaining = amounts.format_money(max(payment.remaining_amount, 0), payment.currency)
    return _("This exceeds the remaining refundable amount: you can refund at most %(amount)s.") % {"amount": remaining}


def _minimum(payment) -> str:
    return _("A refund must be at least %(minimum)s, or the whole remaining %(remaining)s.") % {
        "minimum": amounts.format_money(services.MIN_REFUND, payment.currency),
        "remaining": amounts.format_money(payment.remaining_amount, payment.currency),
    }


def _short_balance() -> str:
    return _("Your balance does not cover this refund and its fee; wait for incoming payments or contact support.")


def _refusal(payment, exc: PaymentError) -> str:
    """A refusal of `services.refund` in the merchant's words (its text is the API's, for developers)."""
    if exc.code == "refund_refused":
        return _short_balance() if "amount" in exc.details else _("The bank refused this refund; nothing was refunded.")
    if exc.code == "refund_exceeds_remaining":
        return _at_most(payment)
    if exc.code == "refund_amount_too_small":
        return _minimum(payment)
    refused = {
        "payment_not_paid": _("Only paid payments can be refunded."),
        "payment_disputed": _("This payment is disputed: it cannot be refunded while the dispute is open."),
        "refund_not_yet_allowed": _("This payment cannot be refunded yet."),
        "refund_window_closed": _("The refund period of this payment is over."),
    }
    return refused.get(exc.code) or _("This refund could not be made; nothing was refunded.")


def _refund_post(request, payment):
    typed = request.POST.get("amount", "")
    if "review" in request.POST:
        return _refund_page(request, payment, typed)
    token = request.POST.get("token", "")
    if not token or len(token) > 64:
        messages.error(request, _("The form expired; try again."))
        return redirect("dashboard:payment", payment.public_id)
    amount = amounts.parse_amount(typed)
    shown = request.session.get(REFUND_FORMS, {}).get(token)
    confirmed = shown[1] if shown and shown[0] == payment.public_id else None
    changed = _("Check the amount, then confirm the refund.")
    if amount is None or (confirmed is not None and amount != confirmed):
        return _refund_page(request, payment, typed, notice=changed)  # not what this form showed
    key = f"dashboard-refund:{token}"
    merchant, is_live = request.dashboard.merchant, request.dashboard.is_live
    try:
        record = idempotency.claim(merchant, is_live, key, f"{payment.public_id}:{amount}")
    except (idempotency.KeyReused, idempotency.KeyInUse):
        record = None
    if record is None or record.status_code is not None:
        messages.info(request, _("This refund was already submitted; it was made once."))
        return redirect("dashboard:payment", payment.public_id)
    if confirmed is None:  # a form the dashboard never showed (or forgot): spent, nothing refunded
        idempotency.store(record, 409, {"code": "refund_not_confirmed"})
        return _refund_page(request, payment, typed, notice=changed)
    try:
        refund = services.refund(payment, confirmed, idempotency_key=key, created_by=_actor(request))
    except PaymentError as exc:
        idempotency.store(record, 400, {"code": exc.code, "message": exc.message})
        payment.refresh_from_db()
        return _refund_page(request, payment, typed, error=_refusal(payment, exc))
    except AcquirerUnavailable:
        idempotency.release(record)  # nothing happened: the same form may retry
        messages.error(request, _("The acquirer is unavailable; nothing was refunded. Try again in a moment."))
        return redirect("dashboard:payment", payment.public_id)
    idempotency.store(record, 201, {"refund": refund.public_id})
    messages.success(
        request, _("Refunded %(amount)s (%(id)s).") % {"amount": refund.amount_display, "id": refund.public_id}
    )
    return redirect("dashboard:payment", payment.public_id)


@require_POST
@dashboard_view(roles.REFUND)
def simulate_chargeback(request, payment_id):
    """Test mode only: open the sandbox chargeback now instead of waiting for it."""
    payment = get_object_or_404(_tenant(request, Payment), public_id=payment_id, is_live=False)
    try:
        if ScheduledChargeback.objects.filter(payment=payment, opened_at__isnull=True).exists():
            disputes.open_scheduled(payment.pk, force=True)
        else:
            disputes.open_dispute(payment, Dispute.Reason.FRAUDULENT)
    except PaymentError as exc:
        messages.error(request, exc.message)
    return redirect("dashboard:payment", payment.public_id)


# --- customers -------------------------------------------------------------------------------------


@dashboard_view(roles.VIEW_CUSTOMERS)
def customers(request):
    """Every shopper who paid (by email) and every customer object, newest activity first."""
    q = request.GET.get("q", "").strip()[:255]
    page, next_cursor = queries.customer_page(
        _tenant(request, Payment), _tenant(request, Customer).alive(), q, request.GET.get("after")
    )
    return render(request, "dashboard/customers.html", {"page": page, "next_cursor": next_cursor, "q": q})


@dashboard_view(roles.VIEW_CUSTOMERS)
def customer_detail(request, customer_id):
    """A customer by its cus_ id or by one of its payments: 404 for anything of another merchant or mode."""
    found = queries.customer_view(_tenant(request, Payment), _tenant(request, Customer).alive(), customer_id)
    if found is None:
        raise Http404
    cards = []
    if found.customer is not None:
        cards = _tenant(request, Card).alive().filter(customer=found.customer).order_by("-created_at")
    page, next_cursor = queries.keyset_page(found.payments, request.GET.get("after"))
    return render(
        request,
        "dashboard/customers_detail.html",
        {
            "found": found,
            "customer": found.customer,
            "customer_id": customer_id,
            "cards": cards,
            "payments": page,
            "next_cursor": next_cursor,
        },
    )


# --- balance, payouts, accounting exports -----------------------------------------------------------


@dashboard_view(roles.VIEW_BALANCE)
def balance(request):
    merchant, is_live = request.dashboard.merchant, request.dashboard.is_live
    series = queries.daily_series(merchant.pk, is_live)
    schedule = ledger.settings_for(merchant)
    return render(
        request,
        "dashboard/balance.html",
        {
            "balances": ledger.balances(merchant.pk, is_live),
            "schedule": schedule,
            "chart": queries.chart_svg(series),
            "series": series,
            "payouts": _tenant(request, Payout).order_by("-created_at", "-id")[:20],
            "reports": _tenant(request, AccountingReport).order_by("-created_at", "-id")[:10],
            "can_export": request.dashboard.can(roles.EXPORT),
            "today": timezone.now().date(),
            "month_ago": timezone.now().date() - timedelta(days=30),
        },
    )


@dashboard_view(roles.VIEW_BALANCE)
def payout_detail(request, payout_id):
    payout = get_object_or_404(_tenant(request, Payout), public_id=payout_id)
    return render(request, "dashboard/payouts_detail.html", {"payout": payout, "lines": payouts.payout_lines(payout)})


@require_POST
@dashboard_view(roles.EXPORT)
def accounting_export(request):
    """The dashboard's accounting export: the same report as POST /v1/accounting_reports."""
    try:
        start = date.fromisoformat(request.POST.get("start_date", ""))
        end = date.fromisoformat(request.POST.get("end_date", ""))
    except ValueError:
        messages.error(request, _("Enter both dates as YYYY-MM-DD."))
        return redirect("dashboard:balance")
    today = timezone.now().date()
    if end < start:
        messages.error(request, _("The end date must not be before the start date."))
    elif end > today:
        messages.error(request, _("The end date must not be after today (UTC)."))
    elif (end - start).days >= reports.MAX_DAYS:
        messages.error(request, _("The range must not exceed 366 days."))
    else:
        reports.create_report(
            request.dashboard.merchant, request.dashboard.is_live, start, end, None, created_by=_actor(request)
        )
        messages.success(request, _("The report is being prepared; it appears below when ready."))
    return redirect("dashboard:balance")


@dashboard_view(roles.EXPORT)
def accounting_download(request, report_id):
    report = get_object_or_404(_tenant(request, AccountingReport), public_id=report_id)
    if report.current_status() != AccountingReport.Status.AVAILABLE or not report.file:
        raise Http404
    return reports.file_response(report)


def accounting_report_file(request, token):
    """The API's temporary link (spec §11): no login, a signature that expires with the file."""
    return reports.serve_temporary_link(token)


# --- disputes --------------------------------------------------------------------------------------


@dashboard_view(roles.VIEW_PAYMENTS)
def dispute_list(request):
    queryset = _tenant(request, Dispute).select_related("payment")
    page, next_cursor = queries.keyset_page(queryset, request.GET.get("after"))
    return render(request, "dashboard/disputes.html", {"page": page, "next_cursor": next_cursor})


@dashboard_view(roles.VIEW_PAYMENTS)
def dispute_detail(request, dispute_id):
    dispute = get_object_or_404(_tenant(request, Dispute).select_related("payment"), public_id=dispute_id)
    can_respond = request.dashboard.can(roles.REFUND) and dispute.status == Dispute.Status.NEEDS_RESPONSE
    # The explanation and the file are one form: what was typed is never lost (issue 12, finding 21).
    text, upload_error, text_error = dispute.evidence_text, None, None
    if request.method == "POST":
        if not request.dashboard.can(roles.REFUND):
            raise Http404
        action = request.POST.get("action")
        if action in ("upload", "submit") and can_respond:
            text = request.POST.get("text", "")
            upload_error, text_error = _respond_to_dispute(request, dispute, action, text)
            if not upload_error and not text_error:
                return redirect("dashboard:dispute", dispute.public_id)
        else:
            try:
                if action in ("won", "lost") and not dispute.is_live and dispute.is_open:
                    disputes.close(dispute, won=action == "won")  # test mode: simulate the scheme's verdict
                else:
                    messages.error(request, _("This action is not available."))
            except PaymentError as exc:
                messages.error(request, exc.message)
            return redirect("dashboard:dispute", dispute.public_id)
    return render(
        request,
        "dashboard/disputes_detail.html",
        {
            "dispute": dispute,
            "evidence": dispute.evidence.order_by("created_at"),
            "can_respond": can_respond,
            "text": text,
            "upload_error": upload_error,
            "text_error": text_error,
        },
        status=400 if upload_error or text_error else 200,
    )


def _respond_to_dispute(request, dispute, action: str, text: str) -> tuple[str | None, str | None]:
    """Upload (the file, and the explanation kept as a draft) or submit (the file if one is chosen,
    then the explanation). Returns the errors to show next to the file field and the text field."""
    upload = request.FILES.get("file")
    try:
        if upload is not None:
            upload._original_name = upload.name
            disputes.add_evidence(dispute, upload, uploaded_by=_actor(request))
        elif action == "upload":
            raise PaymentError("invalid_request", _("Choose a file to upload."))
    except PaymentError as exc:
        return exc.message, None  # a refused file: said next to the upload field (issue 12, finding 7)
    if action == "upload":
        disputes.save_draft(dispute, text)
        messages.success(
            request, _("File uploaded. Your explanation is kept: submit the evidence when it is complete.")
        )
        return None, None
    try:
        disputes.submit_evidence(dispute, text)
    except PaymentError as exc:
        disputes.save_draft(dispute, text)
        refusals = {
            "invalid_request": _("Explain your case or upload a file before you submit."),
            "dispute_deadline_passed": _("The deadline to answer this dispute has passed."),
        }
        return None, refusals.get(exc.code, _("This dispute can no longer be answered."))
    messages.success(request, _("Evidence submitted: the card scheme reviews it."))
    return None, None


@dashboard_view(roles.VIEW_PAYMENTS)
def dispute_evidence(request, dispute_id, evidence_id):
    """A file uploaded for a dispute, downloaded by whoever sees the dispute's page: 404 for another
    merchant, the other mode, or a file of another dispute (evidence has no public URL)."""
    dispute = get_object_or_404(_tenant(request, Dispute), public_id=dispute_id)
    evidence = get_object_or_404(dispute.evidence.select_related("dispute"), pk=evidence_id)
    return disputes.evidence_response(evidence)


# The example payment of the curl examples (never one of the merchant's: a refund pasted as is
# must not refund anything).
EXAMPLE_PAYMENT_ID = "pay_9ZPGrKSsnfvH5vqYx5BQGioL"


@dashboard_view(roles.VIEW_DEVELOPERS)
def api_reference(request):
    """The OpenAPI schema rendered by Swagger UI (static files of drf-spectacular-sidecar, started by
    static/js/api_reference.js: no inline script), under curl examples for this merchant and mode.

    A secret key is stored hashed and shown once: the examples read it from $PAYPLUG_SECRET_KEY
    and say which of the merchant's keys (by prefix) to put there."""
    dashboard = request.dashboard
    keys = ApiKey.objects.filter(merchant=dashboard.merchant, is_live=dashboard.is_live).usable()
    publishable = keys.filter(kind=ApiKey.Kind.PUBLISHABLE).values_list("publishable_value", flat=True)
    context = {
        "api_base_url": settings.PUBLIC_BASE_URL + "/v1",
        "secret_prefixes": list(keys.filter(kind=ApiKey.Kind.SECRET).values_list("prefix", flat=True)[:5]),
        "key_start": "sk_live_" if dashboard.is_live else "sk_test_",
        "publishable_key": publishable.first(),
        "example_payment_id": EXAMPLE_PAYMENT_ID,
    }
    return render(request, "dashboard/api_reference.html", context)
