"""Dashboard pages: webhook endpoints, the IPN secret, the delivery log, email subscriptions.

Thin views: parse a form, call notifications.services.*, render. Every object is looked up within
the current merchant and mode, so another organisation's id answers 404 like an unknown one.
Signing secrets are shown once, on the page that answers their creation or rotation.
"""

from django.contrib import messages
from django.core.exceptions import BadRequest
from django.core.paginator import Paginator
from django.db.models import Q
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.cache import add_never_cache_headers
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from merchants.decorators import dashboard_view
from merchants.roles import MANAGE_WEBHOOKS
from notifications import signing
from notifications.forms import DeliveryFilterForm, EmailSubscriptionForm, EndpointEventsForm, EndpointForm
from notifications.models import WEBHOOK_EVENT_TYPES, Delivery, EmailSubscription, IpnSecret, WebhookEndpoint
from notifications.services import emails, endpoints
from notifications.services.delivery import attempt_message, resend

PAGE_SIZE = 50
EVENT_LABELS = dict(WEBHOOK_EVENT_TYPES)


def _tenant(request, model):
    return model.objects.filter(merchant=request.dashboard.merchant, is_live=request.dashboard.is_live)


def _show_secret(request, *, secret: str, endpoint=None, rotated: bool = False):
    context = {
        "secret": secret,
        "endpoint": endpoint,
        "rotated": rotated,
        "overlap_hours": int(signing.ROTATION_OVERLAP.total_seconds() // 3600),
    }
    response = render(request, "dashboard/webhooks_secret.html", context)
    add_never_cache_headers(response)
    return response


def _previous_until(row):
    """When the previous secret of a rotation stops signing, while it still does."""
    if row is None or not row.previous_secret_expires_at or row.previous_secret_expires_at <= timezone.now():
        return None
    return row.previous_secret_expires_at


@dashboard_view(MANAGE_WEBHOOKS)
def webhooks(request):
    dashboard = request.dashboard
    form = EndpointForm(is_live=dashboard.is_live)
    if request.method == "POST":
        form = EndpointForm(request.POST, is_live=dashboard.is_live)
        if form.is_valid():
            endpoint, secret = endpoints.create_endpoint(
                dashboard.merchant,
                dashboard.is_live,
                url=form.cleaned_data["url"],
                event_types=form.cleaned_data["event_types"],
                description=form.cleaned_data["description"],
                created_by=request.user,
            )
            return _show_secret(request, secret=secret, endpoint=endpoint)
    rows = list(_tenant(request, WebhookEndpoint).order_by("-is_enabled", "created_at", "pk"))
    ipn_secret = _tenant(request, IpnSecret).first()
    context = {
        "endpoints": rows,
        "form": form,
        "ipn_secret": ipn_secret,
        "ipn_previous_until": _previous_until(ipn_secret),
        "failed_count": _tenant(request, Delivery).filter(status=Delivery.Status.FAILED).count(),
    }
    return render(request, "dashboard/webhooks.html", context)


@dashboard_view(MANAGE_WEBHOOKS)
def webhook(request, endpoint_id):
    endpoint = get_object_or_404(_tenant(request, WebhookEndpoint), public_id=endpoint_id)
    form = EndpointEventsForm(initial={"event_types": endpoint.event_types, "description": endpoint.description})
    if request.method == "POST":
        action = request.POST.get("action")
        if action == "rotate":
            return _show_secret(
                request, secret=endpoints.rotate_endpoint_secret(endpoint), endpoint=endpoint, rotated=True
            )
        if action == "disable":
            endpoints.disable_endpoint(endpoint)
            messages.success(request, _("The endpoint is disabled: no more events are sent to it."))
            return redirect("dashboard:webhook", endpoint.public_id)
        if action == "enable":
            endpoints.enable_endpoint(endpoint)
            messages.success(request, _("The endpoint is enabled again."))
            return redirect("dashboard:webhook", endpoint.public_id)
        if action != "update":
            raise BadRequest("unknown action")
        form = EndpointEventsForm(request.POST)
        if form.is_valid():
            endpoints.update_endpoint(
                endpoint, event_types=form.cleaned_data["event_types"], description=form.cleaned_data["description"]
            )
            messages.success(request, _("The endpoint was updated."))
            return redirect("dashboard:webhook", endpoint.public_id)
    deliveries = endpoint.deliveries.select_related("event").order_by("-created_at", "-pk")[:20]
    context = {
        "endpoint": endpoint,
        "form": form,
        "deliveries": deliveries,
        "event_labels": [EVENT_LABELS.get(t, t) for t in endpoint.event_types],
        "previous_until": _previous_until(endpoint),
    }
    return render(request, "dashboard/webhooks_endpoint.html", context)


@require_POST
@dashboard_view(MANAGE_WEBHOOKS)
def rotate_ipn_secret(request):
    secret = endpoints.rotate_ipn_secret(request.dashboard.merchant, request.dashboard.is_live)
    return _show_secret(request, secret=secret, rotated=True)


@dashboard_view(MANAGE_WEBHOOKS)
def deliveries(request):
    queryset = _tenant(request, Delivery).select_related("event", "endpoint").order_by("-created_at", "-pk")
    form = DeliveryFilterForm(request.GET or None)
    if form.is_valid():
        if form.cleaned_data["kind"]:
            queryset = queryset.filter(kind=form.cleaned_data["kind"])
        if form.cleaned_data["status"]:
            queryset = queryset.filter(status=form.cleaned_data["status"])
        if form.cleaned_data["event"]:
            wanted = form.cleaned_data["event"].strip()
            queryset = queryset.filter(Q(event__public_id=wanted) | Q(event__object_id=wanted))
    page = Paginator(queryset, PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request, "dashboard/webhooks_deliveries.html", {"page": page, "form": form, "query": query.urlencode()}
    )


@dashboard_view(MANAGE_WEBHOOKS)
def delivery(request, delivery_id):
    item = get_object_or_404(
        _tenant(request, Delivery).select_related("event", "endpoint", "recipient"), public_id=delivery_id
    )
    if request.method == "POST":
        if request.POST.get("action") != "resend":
            raise BadRequest("unknown action")
        if resend(item):
            messages.success(request, _("The notification is being sent again."))
        else:
            messages.error(request, _("It cannot be sent now: an attempt is in progress or the endpoint is disabled."))
        return redirect("dashboard:webhook_delivery", item.public_id)
    attempts = list(item.attempt_log.all())
    for attempt in attempts:
        # The recorded error is for operators; the page says what happened in the merchant's words.
        attempt.message = attempt_message(attempt)
    context = {"delivery": item, "attempts": attempts}
    return render(request, "dashboard/webhooks_delivery.html", context)


@dashboard_view()
def notification_settings(request):
    """Every member chooses their own emails, per organisation and mode."""
    dashboard = request.dashboard
    subscription = EmailSubscription.objects.filter(
        user=request.user, merchant=dashboard.merchant, is_live=dashboard.is_live
    ).first()
    topics = subscription.topics if subscription else emails.default_topics(dashboard.role)
    form = EmailSubscriptionForm(initial={"topics": topics})
    if request.method == "POST":
        form = EmailSubscriptionForm(request.POST)
        if form.is_valid():
            emails.update_email_subscription(
                request.user, dashboard.merchant, dashboard.is_live, form.cleaned_data["topics"]
            )
            messages.success(request, _("Your email preferences were saved."))
            return redirect("dashboard:notification_settings")
    return render(request, "dashboard/notification_settings.html", {"form": form})
