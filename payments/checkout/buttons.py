"""The embeddable pay button's public endpoint: POST /pay/button/<publishable key>/.

static/js/paybutton.js, pasted into any page, asks this endpoint for a payment and opens its
hosted page (lightbox, or a redirect on small screens). It is not the secret-key API:

* only publishable keys (`pk_test_`/`pk_live_`) are accepted, and they can do nothing else;
* only from the merchant's allowed origins (Merchant.allowed_origins, whose rules live in
  payments.paybutton, shared with the dashboard that edits them): CORS headers name exactly
  the caller's origin when it is allowed, and the preflight (OPTIONS) is answered the same way.
  http://localhost origins work in test mode only; our own origin works in test mode only (the
  dashboard's live preview);
* each creation counts against a per-address rate limit.

The button may ask for the payer's name and email address (data-name, data-email: optional or
required). The body then carries `first_name`, `last_name`, `email` and `required` (the fields the
button made mandatory): a malformed email, or a required field left out, is a 400
(`invalid_email`, `invalid_name`) in the shopper's language and nothing is created; given ones go
into the payment's billing, so the receipt is sent to that address (issue 12, finding 15).

The button may offer monthly or yearly payments (data-frequencies="once,month"): the body then
carries `frequencies` (what the snippet offers, as a list) and `frequency` (the payer's choice;
absent: the first offered, and a body without either is a one-off payment, as before). An unknown
value, an empty list or a choice the list does not offer is a 400 (`invalid_frequency`) and nothing
is created. A monthly or yearly choice needs an email address (`invalid_email` otherwise) and
starts a subscription (payments.subscriptions, source "button"); `payment_url` is then its hosted
page, where the subscriber consents to the future charges. The snippet itself carries the offer,
as it carries the amount: a button pasted earlier keeps working whatever the dashboard saves.

The key is in the path so that the preflight, which carries no body, can be checked too.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.http import HttpResponse, JsonResponse
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt

from merchants.models import ApiKey, Merchant
from merchants.services.keys import find_api_key
from payments import amounts, display, links, paybutton, representations, services, subscriptions
from payments.checkout import guards
from payments.errors import MerchantUnavailable, PaymentError
from payplug.api import ApiError, parse_json_object
from payplug.client import client_ip

MAX_BODY_BYTES = 4096
PREFLIGHT_MAX_AGE = 600
MAX_NAME_LENGTH = 100
MAX_EMAIL_LENGTH = 254


# --- allowed origins ----------------------------------------------------------------------------------


def origin_allowed(request, merchant: Merchant, origin: str, is_live: bool) -> bool:
    if not origin or origin == "null":
        return False
    origin = origin.lower().rstrip("/")
    if not is_live and origin in guards.own_origins(request):
        return True
    allowed = {o.lower() for o in (merchant.allowed_origins or []) if isinstance(o, str)}
    return origin in allowed and paybutton.origin_usable(origin, is_live)


# --- the endpoint ------------------------------------------------------------------------------------


def _publishable_key(raw: str) -> ApiKey | None:
    if not (raw.startswith("pk_test_") or raw.startswith("pk_live_")):
        return None
    key = find_api_key(raw)
    if key is None or key.kind != ApiKey.Kind.PUBLISHABLE:
        return None
    merchant = key.merchant
    if merchant.status == Merchant.Status.SUSPENDED:
        return None
    if key.is_live and not merchant.live_enabled:
        return None
    return key


def _cors(response, origin: str):
    response["Access-Control-Allow-Origin"] = origin
    response["Vary"] = "Origin"
    return response


def _error(code: str, message: str, status: int, origin: str | None = None):
    response = JsonResponse({"object": "error", "code": code, "message": message}, status=status)
    response["Cache-Control"] = "no-store"
    response["Vary"] = "Origin"
    return _cors(response, origin) if origin else response


def _body(request) -> dict | None:
    """The body as a JSON object, read as the API reads it (payplug.api.parse_json_object): not
    UTF-8, not JSON, NaN/Infinity, nested beyond MAX_JSON_DEPTH or deep enough for json.loads to
    raise RecursionError, or not an object -> None (a 400, never a 500)."""
    if len(request.body) > MAX_BODY_BYTES:
        return None
    try:
        return parse_json_object(request.body)
    except ApiError:
        return None


def _return_url(value, origin: str) -> str | None:
    """Where the result page sends the shopper back: a page of the calling origin only."""
    if not isinstance(value, str) or not value or len(value) > 2048:
        return origin + "/"
    parts = urlsplit(value)
    if f"{parts.scheme}://{parts.netloc}".lower() != origin.lower():
        return origin + "/"
    return value


class PayerRefused(Exception):
    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code, self.message = code, message


def _text(value) -> str | None:
    """A stripped string, '' when absent; None when it is not a string at all."""
    if value is None:
        return ""
    return value.strip() if isinstance(value, str) else None


def _payer(data: dict) -> dict:
    """The payer's name and email from the body, checked; raises PayerRefused (translated in the
    active language)."""
    required = data.get("required")
    required = {name for name in required if isinstance(name, str)} if isinstance(required, list) else set()
    first, last, email = _text(data.get("first_name")), _text(data.get("last_name")), _text(data.get("email"))
    if first is None or last is None or len(first) > MAX_NAME_LENGTH or len(last) > MAX_NAME_LENGTH:
        raise PayerRefused("invalid_name", _("Enter your first and last name (100 characters at most each)."))
    if "name" in required and not (first and last):
        raise PayerRefused("invalid_name", _("Enter your first and last name."))
    if email is None or (not email and "email" in required):
        raise PayerRefused("invalid_email", _("Enter your email address: your receipt is sent to it."))
    if email:
        try:
            if len(email) > MAX_EMAIL_LENGTH:
                raise ValidationError("too long")
            validate_email(email)
        except ValidationError:
            raise PayerRefused("invalid_email", _("Enter a valid email address.")) from None
        local, _at, domain = email.rpartition("@")
        email = f"{local}@{domain.lower()}"
    payer = {"first_name": first, "last_name": last, "email": email}
    return {name: value for name, value in payer.items() if value}


def _frequency(data: dict) -> str:
    """The payer's choice among the frequencies the snippet offers; raises PayerRefused."""
    offered, chosen = data.get("frequencies", [links.ONCE]), data.get("frequency")
    if isinstance(offered, str):
        offered = offered.split(",")
    try:
        if not isinstance(offered, list):
            raise ValueError(offered)
        offered = links.clean_frequencies(offered)
    except ValueError:
        raise PayerRefused(
            "invalid_frequency",
            _("This button offers an unknown frequency: data-frequencies takes once, month or year, comma-separated."),
        ) from None
    if chosen is None:
        return offered[0]
    if not isinstance(chosen, str) or chosen.strip().lower() not in offered:
        raise PayerRefused("invalid_frequency", _("Choose one of the frequencies this button offers."))
    return chosen.strip().lower()


@csrf_exempt  # cross-origin by design: the publishable key and the Origin are the checks
def create_session(request, key):
    origin = request.headers.get("Origin", "")
    api_key = _publishable_key(key)
    allowed = api_key is not None and origin_allowed(request, api_key.merchant, origin, api_key.is_live)
    if request.method == "OPTIONS":
        if not allowed:
            return _error("origin_not_allowed", "This origin may not use this key.", 403)
        response = _cors(HttpResponse(status=204), origin)
        response["Access-Control-Allow-Methods"] = "POST, OPTIONS"
        response["Access-Control-Allow-Headers"] = "Content-Type"
        response["Access-Control-Max-Age"] = str(PREFLIGHT_MAX_AGE)
        return response
    if request.method != "POST":
        response = _error("method_not_allowed", "Use POST.", 405, origin if allowed else None)
        response["Allow"] = "POST, OPTIONS"
        return response
    if api_key is None:
        return _error("invalid_key", "Unknown, revoked or non-publishable key.", 401)
    if not allowed:
        # No CORS header: the calling page cannot even read this answer.
        return _error("origin_not_allowed", "This origin may not use this key.", 403)
    merchant, is_live = api_key.merchant, api_key.is_live
    limit = guards.payment_creation(request, "button")
    if not limit.allowed:
        response = _error("rate_limited", "Too many payments started from this address.", 429, origin)
        response["Retry-After"] = str(limit.retry_after)
        return response
    data = _body(request)
    if data is None:
        return _error("invalid_request", "The body must be a JSON object.", 400, origin)
    amount = data.get("amount")
    low, high = links.merchant_bounds(merchant)
    if isinstance(amount, bool) or not isinstance(amount, int) or not low <= amount <= high:
        language = display.shopper_language(request, data.get("language"))
        message = _("Enter an amount between %(min)s and %(max)s.") % {
            "min": amounts.format_amount(low, "EUR", language),
            "max": amounts.format_amount(high, "EUR", language),
        }
        return _error("invalid_amount", message, 400, origin)
    asked = data.get("language") if isinstance(data.get("language"), str) else ""
    asked = asked.strip().lower()[:2] if asked.strip().lower()[:2] in display.SHOPPER_LANGUAGES else ""
    language = display.shopper_language(request, asked)  # else the language of the shopper's browser
    try:
        with translation.override(language):
            frequency = _frequency(data)
            payer = _payer(data)
            if links.is_recurring(frequency) and not payer.get("email"):
                raise PayerRefused(
                    "invalid_email", _("Enter your email address: it is needed for a monthly or yearly payment.")
                )
    except PayerRefused as refusal:
        return _error(refusal.code, refusal.message, 400, origin)
    description = data.get("description") if isinstance(data.get("description"), str) else ""
    return_url = _return_url(data.get("return_url"), origin)
    if links.is_recurring(frequency):
        new_subscription = subscriptions.NewSubscription(
            amount=amount,
            interval=frequency,
            billing={**payer, "language": asked} if asked else payer,
            return_url=return_url,
            cancel_url=return_url,
            description=description.strip()[:255] or None,
            metadata={"origin": origin[:255]},
            source="button",
            shopper_ip=client_ip(request),
            shopper_language=language,
        )
        return _start_subscription(merchant, is_live, new_subscription, origin, language)
    new = services.NewPayment(
        amount=amount,
        billing={"language": asked or None, **payer},
        return_url=return_url,
        cancel_url=return_url,
        description=description.strip()[:255] or None,
        metadata={"origin": origin[:255]},
        source="button",
        shopper_ip=client_ip(request),
        shopper_language=language,
    )
    try:
        payment = services.create_payment(merchant, is_live, new)
    except MerchantUnavailable as refusal:  # suspended, or live mode switched off, since the key was read
        return _error(refusal.code, _("This merchant cannot take payments at the moment."), 403, origin)
    response = JsonResponse(
        {"object": "checkout_session", "payment_url": representations.hosted_payment_url(payment)}, status=201
    )
    response["Cache-Control"] = "no-store"
    return _cors(response, origin)


def _start_subscription(merchant, is_live, new, origin: str, language: str):
    """A monthly or yearly choice: a subscription, whose hosted page asks for the consent."""
    try:
        subscription = subscriptions.create_subscription(merchant, is_live, new)
    except MerchantUnavailable as refusal:  # suspended, or live mode switched off, since the key was read
        with translation.override(language):
            return _error(refusal.code, _("This merchant cannot take payments at the moment."), 403, origin)
    except PaymentError as refusal:  # payments.subscriptions.validate: its message names the field
        if refusal.code == "feature_not_enabled":  # live mode without saved cards
            with translation.override(language):
                message = _("This merchant cannot take monthly or yearly payments yet.")
            return _error(refusal.code, message, 403, origin)
        return _error(refusal.code, refusal.message, 400, origin)
    response = JsonResponse(
        {"object": "checkout_session", "payment_url": subscriptions.hosted_url(subscription)}, status=201
    )
    response["Cache-Control"] = "no-store"
    return _cors(response, origin)
