"""The subscriber's own page (/pay/subscription/<token>/): no account, the signed link of every
email and receipt about the subscription (payments.subscription_emails.manage_url) opens it.

It shows the plan, the card that pays it (brand, last four digits and expiry: never more), the
payments of this subscription, and two actions, each a plain POST form (no JavaScript needed):
replace the card (a hosted card check, back here after) and cancel (after a confirmation step).
A tampered or unknown link is the shoppers' "page not found". Like the hosted checkout: the
merchant's branding, the shopper's language, strict CSP, never cached nor indexed, and its POSTs
are rate-limited per client address.
"""

from __future__ import annotations

from django.http import Http404, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from payments import amounts, representations, subscription_emails, subscriptions
from payments.checkout import guards
from payments.checkout.page import brand_css_url
from payments.errors import PaymentError
from payments.models import Payment, Subscription
from payplug.views import shopper_not_found

# Whose card may be replaced: started and not over (an incomplete one is started from its page).
REPLACEABLE = (Subscription.Status.ACTIVE, Subscription.Status.PAST_DUE, Subscription.Status.PAUSED)
# A payment of the subscription as its subscriber reads it (Payment.Status is the merchant's words).
PAYMENT_STATES = {
    Payment.Status.PAID: _("Paid"),
    Payment.Status.FAILED: _("Declined"),
}
PAYMENT_STATE_OTHER = _("Processing")
HISTORY_LENGTH = 24


class LinkExpired(Exception):
    def __init__(self, sub: Subscription):
        self.sub = sub


def _subscription(token: str) -> Subscription:
    sub, expired = subscription_emails.subscription_for_token(token)
    if sub is None:
        raise Http404
    if expired:
        raise LinkExpired(sub)
    return sub


def _expired(request, sub: Subscription):
    """An expired link shows nothing of the subscription: it offers a fresh link by email."""
    sent = False
    if request.method == "POST" and request.POST.get("action") == "send_link":
        limit = guards.payment_creation(request, "subscriber")
        if not limit.allowed:
            return _too_many(request, sub, limit.retry_after)
        subscription_emails.send_fresh_link(sub)
        sent = True
    return _render(request, sub, "checkout/subscriber_expired.html", {"sent": sent}, status=410)


def _see_other(url: str):
    response = HttpResponseRedirect(url)
    response.status_code = 303
    return response


def _page_url(token: str) -> str:
    return reverse("checkout:subscriber", args=[token])


def _history(sub: Subscription) -> list[dict]:
    """The charges of this subscription (never a card check, nor a page still waiting)."""
    rows = (
        Payment.objects.for_tenant(sub.merchant, sub.is_live)
        .filter(subscription=sub, subscription_period__isnull=False)
        .exclude(status=Payment.Status.CREATED)
        .order_by("-created_at", "-id")[:HISTORY_LENGTH]
    )
    return [
        {
            "date": payment.paid_at or payment.created_at,
            "amount": payment.amount,
            "currency": payment.currency,
            "refunded": payment.amount_refunded > 0,
            "state": PAYMENT_STATES.get(payment.status, PAYMENT_STATE_OTHER),
            "status": payment.status,
        }
        for payment in rows
    ]


def _render(request, sub: Subscription, template: str, context: dict | None = None, status: int = 200):
    language = subscription_emails.language_of(sub, request)
    with translation.override(language):
        charge = subscriptions.next_charge(sub) if sub.is_open else None
        response = render(
            request,
            template,
            {
                "subscription": sub,
                "merchant": sub.merchant,
                "brand_css_url": brand_css_url(sub.merchant),
                "is_test": not sub.is_live,
                "amount_text": amounts.format_amount(sub.amount, sub.currency),
                "every": subscriptions.interval_text(sub),
                "description": sub.description,
                "next_date": charge.date if charge is not None else None,
                "card": sub.card if sub.card_id else None,
                "can_replace_card": sub.status in REPLACEABLE,
                "can_cancel": sub.is_open,
                "token": request.resolver_match.kwargs["token"],
                **(context or {}),
            },
            status=status,
        )
    response["Cache-Control"] = "no-store"
    response["Content-Language"] = language
    return response


def _too_many(request, sub: Subscription, retry_after: int):
    response = _render(request, sub, "checkout/too_many.html", {"retry_minutes": max(1, retry_after // 60)}, status=429)
    response["Retry-After"] = str(retry_after)
    return response


@shopper_not_found
@never_cache
@require_http_methods(["GET", "POST"])
def manage(request, token):
    """The plan, the card, the payments; POST action=replace_card sends the subscriber to a hosted
    card check that comes back here."""
    try:
        sub = _subscription(token)
    except LinkExpired as expired:
        return _expired(request, expired.sub)
    error = None
    if request.method == "POST":
        limit = guards.payment_creation(request, "subscriber")
        if not limit.allowed:
            return _too_many(request, sub, limit.retry_after)
        if request.POST.get("action") == "replace_card" and sub.status in REPLACEABLE:
            back = subscription_emails.manage_url(sub)
            try:
                payment = subscriptions.replace_card_payment(sub, return_url=back)
            except PaymentError:  # canceled meanwhile, or the merchant may not take payments now
                error = _("Your card cannot be replaced at the moment.")
            else:
                return _see_other(representations.hosted_payment_url(payment))
        else:
            error = _("This subscription can no longer be changed.")
        sub = _subscription(token)
    context = {"history": _history(sub), "error": error}
    return _render(request, sub, "checkout/subscriber.html", context, status=400 if error else 200)


@shopper_not_found
@never_cache
@require_http_methods(["GET", "POST"])
def cancel(request, token):
    """The confirmation step (GET), then the cancellation (POST), back to the page that shows it."""
    try:
        sub = _subscription(token)
    except LinkExpired as expired:
        return _expired(request, expired.sub)
    if not sub.is_open:
        return _see_other(_page_url(token))
    if request.method == "POST":
        limit = guards.payment_creation(request, "subscriber")
        if not limit.allowed:
            return _too_many(request, sub, limit.retry_after)
        subscriptions.cancel(sub, by=Subscription.CanceledBy.SUBSCRIBER)
        return _see_other(_page_url(token))
    return _render(request, sub, "checkout/subscriber_cancel.html")
