"""The hosted payment page (spec §13): a card form that works without JavaScript.

static/js/checkout.js only enhances it (formatting, brand, the same checks before sending,
double-submission guard). The full number and the security code exist only in this request: the
form hands them to payments.services.submit_card as a CardData, which vaults the number and
passes both to the acquirer. Nothing here logs or stores them (and error reports hide them:
sensitive_post_parameters), and the page never renders them back. When only another field was
wrong, a valid number is kept in the vault and the form shows its last four digits with a signed
reference bound to the payment, so that a shopper who mistyped the code does not type the number
again (KeptCard; unused kept numbers are deleted by services.expire_due).

Every answer is in the shopper's language (billing language, else the browser's), carries the
merchant's branding through a per-merchant stylesheet (no inline style: strict CSP), and may be
framed only by the merchant's allowed origins, for pay-button payments (the lightbox).
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from django import forms
from django.core import signing
from django.http import Http404, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_GET, require_http_methods

from merchants.models import Merchant
from payments import amounts, cards, display, services, subscriptions, vault
from payments.acquirers.base import CardData
from payments.checkout import guards
from payments.errors import MerchantUnavailable, PaymentError
from payments.models import MAX_FAILED_ATTEMPTS, Card, Payment, PaymentAttempt
from payplug.client import client_ip
from payplug.views import shopper_not_found

SUPPORTED_LANGUAGES = display.SHOPPER_LANGUAGES
# How long a card number kept for the shopper's next try is usable (services.KEPT_CARD_LIFETIME
# deletes it later if unused).
KEPT_CARD_USABLE = 15 * 60
WAIT_FOR_DECISION_SECONDS = 3.0
# The result page sends the shopper back to the shop after this long (spec §13: meta refresh).
RETURN_DELAY_SECONDS = {"success": 5, "failed": 10, "confirming": 10, "retry": 120}

FAILURE_TEXTS = {
    "card_declined": _("Your card was declined."),
    "processing_error": _("A technical error occurred while processing your card."),
    "3ds_declined": _("The 3-D Secure authentication failed."),
    "incorrect_number": _("The card number is incorrect."),
    "fraud_suspected": _("The payment was refused by our security checks."),
    "method_unsupported": _("This card brand is not accepted."),
    "timeout": _("The payment was not completed in time."),
    "aborted": _("The payment was cancelled by the merchant."),
}
# The sandbox's (and acquirers') reasons for a decline, as the shopper reads them (sandbox-cards.md),
# and the form field the reason is about (shown next to it when the form is offered again), if any.
# Fragments of failure_message, lower-cased: the sandbox's and the HTTP acquirer's English texts.
DECLINE_REASONS = [
    ("insufficient funds", _("The card has insufficient funds."), None),
    ("lost or stolen", _("The card was reported lost or stolen."), None),
    ("security code", _("The security code is incorrect."), "cvc"),
    ("incorrect cvc", _("The security code is incorrect."), "cvc"),
    ("expiry date is incorrect", _("The expiry date is incorrect."), "expiry"),
    ("has expired", _("The card has expired."), "expiry"),
    ("expired card", _("The card has expired."), "expiry"),
]
# Failure codes about one field of the form.
FAILURE_FIELDS = {"incorrect_number": "number"}
# The security code's hint: it names American Express only to shoppers of a merchant who takes it.
CVC_HINT = _("The 3 digits on the back of the card.")
CVC_HINT_WITH_AMEX = _("3 digits on the back, 4 on the front for American Express.")
# Drawn for this site in static/img/cards/ (<name>.svg; the brand in lower case otherwise).
LOGO_FILES = {cards.AMERICAN_EXPRESS: "amex"}


class SecretInput(forms.TextInput):
    """Never rendered back: a form with errors asks for the security code again."""

    def format_value(self, value):
        return None


class CardNumberInput(SecretInput):
    """Never rendered back either: a valid number the shopper must not type again is kept in the
    vault, and the form shows only its last four digits (KeptCard)."""


@dataclass(frozen=True)
class KeptCard:
    """A valid card number kept in the vault while the shopper corrects another field: the form
    carries only a signed reference to it, bound to this payment, for KEPT_CARD_USABLE."""

    vault_token: str
    brand: str
    last4: str


class CardForm(forms.Form):
    cardholder = forms.CharField(
        label=_("Name on card"),
        max_length=100,
        widget=forms.TextInput(
            attrs={"autocomplete": "cc-name", "autocapitalize": "characters", "spellcheck": "false"}
        ),
    )
    number = forms.CharField(
        label=_("Card number"),
        max_length=23,
        widget=CardNumberInput(
            attrs={
                "autocomplete": "cc-number",
                "inputmode": "numeric",
                "autocorrect": "off",
                "spellcheck": "false",
                "placeholder": "1234 1234 1234 1234",
                "data-card-number": "",
            }
        ),
    )
    expiry = forms.CharField(
        label=_("Expiry date (MM/YY)"),
        max_length=7,
        widget=forms.TextInput(
            attrs={"autocomplete": "cc-exp", "inputmode": "numeric", "placeholder": _("MM/YY"), "data-card-expiry": ""}
        ),
    )
    cvc = forms.CharField(
        label=_("Security code"),
        max_length=4,
        help_text=CVC_HINT,
        widget=SecretInput(
            attrs={
                "autocomplete": "cc-csc",
                "inputmode": "numeric",
                "autocorrect": "off",
                "placeholder": "123",
                "data-card-cvc": "",
            }
        ),
    )

    def __init__(
        self,
        *args,
        merchant=None,
        allow_save_card=False,
        kept: KeptCard | None = None,
        consent: str | None = None,
        **kwargs,
    ):
        super().__init__(*args, **kwargs)
        self.kept = None
        if consent is not None:  # a subscription's page: the subscriber agrees to the future charges first
            box = forms.BooleanField(
                label=consent,
                error_messages={"required": _("Tick this box to agree to the payments of the subscription.")},
            )
            self.fields = {"consent": box, **self.fields}
        if cards.is_accepted(cards.AMERICAN_EXPRESS, merchant):
            self.fields["cvc"].help_text = CVC_HINT_WITH_AMEX
        if kept is not None:
            self.keep(kept)
        if allow_save_card:
            self.fields["save_card"] = forms.BooleanField(
                label=_("Remember this card for my next payments"), required=False
            )
        for name, field in self.fields.items():
            if field.required:
                field.widget.attrs["required"] = ""
            if field.help_text:
                field.widget.attrs["aria-describedby"] = f"id_{name}_hint"

    def clean_number(self):
        number = cards.normalize_number(self.cleaned_data["number"])
        if not number and self.kept is not None:
            return None  # the kept card's (CardForm.card)
        if cards.number_error(number):
            raise forms.ValidationError(_("This card number is not valid."))
        return number

    def clean_expiry(self):
        parsed = cards.parse_expiry(self.cleaned_data["expiry"])
        if parsed is None:
            raise forms.ValidationError(_("Enter the expiry date as MM/YY."))
        if cards.is_expired(*parsed):
            raise forms.ValidationError(_("This card has expired."))
        return parsed

    def clean(self):
        data = super().clean()
        number, cvc = data.get("number"), data.get("cvc")
        if cvc is None:  # missing: "This field is required." already
            return data
        # Checked even when the number is wrong: every mistake is reported at once.
        if not number and self.kept is not None and "number" not in self.errors:
            number = None
            brand = self.kept.brand
        else:
            brand = cards.detect_brand(number) if number else None
        if not cards.valid_cvc(cvc.strip(), brand if (number or brand) else cards.ANY_BRAND):
            if cards.cvc_length(brand) == 4:
                message = _("The security code is not valid: enter 4 digits.")
            else:
                message = _("The security code is not valid: enter 3 digits.")
            self.add_error("cvc", message)
        return data

    def keep(self, kept: KeptCard) -> None:
        """Offer the kept card: an empty number means that card (pay.html says so)."""
        self.kept = kept
        number = self.fields["number"]
        number.required = False
        number.widget.attrs.pop("required", None)
        number.widget.attrs["aria-describedby"] = "id_number_kept"

    def valid_number(self) -> str | None:
        """The number typed, when the form found it valid (another field was wrong)."""
        if not self.is_bound or "number" in self.errors:
            return None
        return self.cleaned_data.get("number") or None

    def describe_errors(self):
        """Point each invalid input at its message (screen readers read it with the label)."""
        for name in self.errors:
            if name not in self.fields:
                continue
            attrs = self.fields[name].widget.attrs
            described = [f"id_{name}_error"]
            if self.fields[name].help_text:
                described.append(f"id_{name}_hint")
            attrs["aria-describedby"] = " ".join(described)
            attrs["aria-invalid"] = "true"

    def card(self, kept_number: str | None = None) -> CardData:
        month, year = self.cleaned_data["expiry"]
        return CardData(
            number=self.cleaned_data["number"] or kept_number,
            exp_month=month,
            exp_year=year,
            cvc=self.cleaned_data["cvc"].strip(),
            holder=self.cleaned_data["cardholder"],
        )


# --- helpers ----------------------------------------------------------------------------------------


def accepted_logos(merchant) -> list[tuple[str, str]]:
    """(brand, static path) of the logos of the cards this merchant accepts, shown by the card number."""
    return [
        (brand, f"img/cards/{LOGO_FILES.get(brand, brand.lower())}.svg") for brand in cards.accepted_brands(merchant)
    ]


def _payment(token: str) -> Payment:
    payment = Payment.objects.select_related("merchant").filter(hosted_token=token).first()
    if payment is None:
        raise Http404
    return payment


def _language(request, payment) -> str:
    return display.shopper_language(request, (payment.billing or {}).get("language"), payment.shopper_language)


def _decline_reason(payment):
    if payment.failure_code != "card_declined":
        return None
    message = (payment.failure_message or "").lower()
    return next((reason for reason in DECLINE_REASONS if reason[0] in message), None)


def failure_text(payment) -> str | None:
    if not payment.failure_code:
        return None
    reason = _decline_reason(payment)
    if reason:
        return str(reason[1])
    text = FAILURE_TEXTS.get(payment.failure_code)
    return str(text) if text else str(FAILURE_TEXTS["processing_error"])


def failure_field(payment) -> str | None:
    """The form field the last failure is about (the security code, the expiry date...), if any."""
    if not payment.failure_code:
        return None
    reason = _decline_reason(payment)
    if reason:
        return reason[2]
    return FAILURE_FIELDS.get(payment.failure_code)


def brand_css_url(merchant) -> str:
    version = display.brand_version(merchant.brand_color)
    return reverse("checkout:brand_css", args=[merchant.public_id]) + "?v=" + version


def _render(request, payment, template, context=None, status=200):
    language = _language(request, payment)
    with translation.override(language):
        response = render(
            request,
            template,
            {
                "payment": payment,
                "merchant": payment.merchant,
                "amount_text": amounts.format_amount(payment.amount, payment.currency, language),
                "brand_css_url": brand_css_url(payment.merchant),
                "form_token": guards.form_token(payment),
                "cancel_url": payment.cancel_url or payment.return_url,
                "is_test": not payment.is_live,
                "description": payment.description,
                **(context or {}),
            },
            status=status,
        )
    response["Cache-Control"] = "no-store"
    response["Content-Language"] = language
    return guards.allow_framing(response, payment)


def _see_other(url):
    response = HttpResponseRedirect(url)
    response.status_code = 303
    return response


def _awaiting_3ds(payment) -> PaymentAttempt | None:
    return payment.attempts.filter(status=PaymentAttempt.Status.AWAITING_3DS).order_by("-created_at").first()


def saved_cards(payment) -> list[Card]:
    """The customer's usable saved cards, offered for one click (newest first)."""
    if not payment.customer_public_id or payment.payment_method:
        return []
    today = timezone.now().date()
    found = (
        Card.objects.for_tenant(payment.merchant, payment.is_live)
        .alive()
        .filter(customer__public_id=payment.customer_public_id, customer__deleted_at__isnull=True)
        .order_by("-created_at", "-id")[:5]
    )
    return [card for card in found if not card.is_expired(today) and cards.is_accepted(card.brand, payment.merchant)]


def _guarded(request, payment):
    """The answer that replaces the page when the shopper may not pay from where they are."""
    country = guards.blocked_country(request, payment.merchant)
    if country:
        return _render(request, payment, "checkout/blocked.html", {"country": country}, status=403)
    return None


def _unavailable(request, payment):
    """The merchant may not take this payment now (suspended, or live mode switched off): say so
    instead of showing a form that payments.services would refuse anyway."""
    if services.merchant_refusal(payment.merchant, payment.is_live) is None:
        return None
    return _render(request, payment, "checkout/unavailable.html", status=403)


def _too_many(request, payment, retry_after):
    response = _render(request, payment, "checkout/too_many.html", {"retry_minutes": max(1, retry_after // 60)}, 429)
    response["Retry-After"] = str(retry_after)
    return response


# --- views ------------------------------------------------------------------------------------------


@shopper_not_found
@csrf_exempt  # the page's own token (guards.form_token): it must work in a cross-site iframe too
@never_cache
@sensitive_post_parameters("number", "cvc")
@require_http_methods(["GET", "POST"])
def pay(request, token):
    payment = _payment(token)
    refusal = _guarded(request, payment)
    if refusal:
        return refusal
    if payment.status == Payment.Status.PENDING and _awaiting_3ds(payment):
        return _see_other(reverse("checkout:three_ds", args=[token]))
    if not payment.is_payable:
        return _see_other(reverse("checkout:result", args=[token]))
    unavailable = _unavailable(request, payment)
    if unavailable:
        return unavailable
    consent, terms = _subscription_terms(request, payment)
    # A subscription's card is entered under the consent box: no one-click around it.
    offered = saved_cards(payment) if consent is None else []
    form = CardForm(merchant=payment.merchant, allow_save_card=payment.allow_save_card, consent=consent)
    status, card_error, kept_reference = 200, None, ""
    if request.method == "POST":
        if not guards.form_is_genuine(request, payment):
            return _render(request, payment, "checkout/stale.html", status=403)
        limit = guards.card_submission(request, payment)
        if not limit.allowed:
            return _too_many(request, payment, limit.retry_after)
        if "saved_card" in request.POST:
            chosen = next((c for c in offered if c.public_id == request.POST["saved_card"]), None)
            if chosen is not None:
                return _attempt(token, lambda: services.pay_with_saved_card(payment, chosen, shopper_present=True))
            card_error, status = _("This saved card can no longer be used. Enter a card below."), 400
        else:
            kept, kept_reference = _kept_card(request, payment)
            form = CardForm(
                request.POST,
                merchant=payment.merchant,
                allow_save_card=payment.allow_save_card,
                kept=kept,
                consent=consent,
            )
            if form.is_valid():
                card = form.card(_reveal_kept(payment, kept) if form.cleaned_data["number"] is None else None)

                def start():
                    if consent is not None:  # the box was ticked (the form requires it): recorded first
                        subscriptions.record_consent(payment, ip=client_ip(request), text=consent)
                    return services.submit_card(
                        payment.pk,
                        card,
                        save_card=form.cleaned_data.get("save_card", False),
                        shopper_ip=client_ip(request),
                    )

                response = _attempt(token, start)
                if kept is not None:  # used (the attempt vaulted the number again) or replaced
                    vault.discard_unreferenced(kept.vault_token)
                return response
            form.describe_errors()
            number = form.valid_number()
            if number:  # the shopper must not type it again: kept in the vault, never shown back
                if kept is not None:
                    vault.discard_unreferenced(kept.vault_token)
                kept, kept_reference = _keep_card(payment, number)
                form.keep(kept)
            status = 400
    if request.method == "GET":
        _point_at_failure(form, payment)
    return _render(
        request,
        payment,
        "checkout/pay.html",
        {
            "form": form,
            "saved_cards": offered,
            "card_error": card_error,
            "failure_text": failure_text(payment),
            "attempts_left": max(0, MAX_FAILED_ATTEMPTS - payment.failed_attempts),
            "card_logos": accepted_logos(payment.merchant),
            "kept_card": form.kept,
            "kept_card_reference": kept_reference if request.method == "POST" else "",
            "subscription_terms": terms,
        },
        status=status,
    )


def _subscription_terms(request, payment) -> tuple[str | None, dict | None]:
    """A subscription's page: the consent text to tick (None when none is asked) and the terms
    shown above the form, both in the shopper's language (the text recorded is the one shown)."""
    if not payment.subscription_id:
        return None, None
    sub = payment.subscription
    with translation.override(_language(request, payment)):
        consent = subscriptions.consent_text(sub) if subscriptions.needs_consent(payment) else None
        started = sub.status != sub.Status.INCOMPLETE
        # A started subscription's new card: when it is first charged (a period's page pays now).
        charge = subscriptions.next_charge(sub) if started and payment.subscription_period is None else None
        terms = {
            "subscription": sub,
            "every": subscriptions.interval_text(sub),
            "amount_text": amounts.format_amount(sub.amount, sub.currency, translation.get_language()),
            "start_date": None if started else sub.start_date,
            "next_date": charge.date if charge is not None else None,
            # A card check: authorised to check the card, then released; nothing is charged now.
            "card_check": payment.subscription_period is None,
        }
    return consent, terms


def _kept_salt(payment) -> str:
    return f"checkout.kept-card:{payment.hosted_token}"


def _keep_card(payment, number: str) -> tuple[KeptCard, str]:
    entry = vault.store(payment.merchant, number)
    kept = KeptCard(vault_token=entry.token, brand=cards.detect_brand(number) or "", last4=number[-4:])
    reference = signing.dumps({"v": kept.vault_token, "b": kept.brand, "l": kept.last4}, salt=_kept_salt(payment))
    return kept, reference


def _kept_card(request, payment) -> tuple[KeptCard | None, str]:
    """The kept card this form refers to: signed for this payment, recent, and still in the vault."""
    reference = request.POST.get("kept_card", "")
    if not reference:
        return None, ""
    try:
        data = signing.loads(reference, salt=_kept_salt(payment), max_age=KEPT_CARD_USABLE)
    except signing.BadSignature:  # expired included
        return None, ""
    if vault.find_unreferenced(payment.merchant, str(data.get("v", ""))) is None:
        return None, ""
    return KeptCard(vault_token=data["v"], brand=str(data.get("b", "")), last4=str(data.get("l", ""))), reference


def _reveal_kept(payment, kept: KeptCard) -> str:
    entry = vault.find_unreferenced(payment.merchant, kept.vault_token)
    if entry is None:  # used meanwhile by another tab: nothing to charge it with
        raise Http404
    return vault.reveal(entry)


def _point_at_failure(form, payment):
    """After a refusal about one field (a wrong security code...), its message goes next to it."""
    field = failure_field(payment)
    if field in form.fields:
        form.full_clean()  # an unbound form: no error, nothing cleaned
        form.cleaned_data = {}
        form.add_error(field, failure_text(payment))
        form.describe_errors()


def _attempt(token, start):
    """Run one attempt, then post/redirect/get to the challenge or the outcome (spec §13)."""
    try:
        attempt = start()
    except MerchantUnavailable:  # suspended (or live mode off) since the page was shown: its GET says so
        return _see_other(reverse("checkout:pay", args=[token]))
    except PaymentError:  # paid, failed or in progress meanwhile (another tab): show what happened
        return _see_other(reverse("checkout:result", args=[token]))
    if attempt.status == PaymentAttempt.Status.AWAITING_3DS:
        return _see_other(reverse("checkout:three_ds", args=[token]))
    return _see_other(reverse("checkout:result", args=[token]))


@shopper_not_found
@csrf_exempt
@never_cache
@require_http_methods(["GET", "POST"])
def three_ds(request, token):
    """The sandbox issuer's challenge: approve, fail or abandon (buttons name=outcome)."""
    payment = _payment(token)
    refusal = _guarded(request, payment)
    if refusal:
        return refusal
    attempt = _awaiting_3ds(payment)
    if attempt is None:
        return _see_other(reverse("checkout:result", args=[token]))
    unavailable = _unavailable(request, payment)
    if unavailable:
        return unavailable
    if request.method == "POST":
        if not guards.form_is_genuine(request, payment):
            return _render(request, payment, "checkout/stale.html", status=403)
        outcome = request.POST.get("outcome")
        if outcome in ("approve", "fail", "abandon"):
            try:
                services.complete_3ds(attempt.pk, authenticated=outcome == "approve")
            except MerchantUnavailable:  # suspended (or live mode off) since the page was shown
                return _see_other(reverse("checkout:three_ds", args=[token]))
            return _see_other(reverse("checkout:result", args=[token]))
    return _render(request, payment, "checkout/three_ds.html", {"attempt": attempt})


def _unsettled(payment) -> bool:
    """Authorised and waiting for the fraud decision, or an acquirer answer still unknown."""
    if payment.status == Payment.Status.AUTHORIZED:
        return True
    return payment.status == Payment.Status.PENDING and _awaiting_3ds(payment) is None


def _card_checked(payment) -> bool:
    """A subscription's card check that went through: authorised (then voided by the engine, which
    made the card the subscription's). Nothing was charged."""
    if not payment.subscription_id or payment.subscription_period is not None or not payment.card_id:
        return False
    if payment.status == Payment.Status.CAPTURABLE:
        return True
    return payment.failure_code == "aborted" and payment.subscription.card_id == payment.card_id


def outcome_state(payment) -> str:
    status = payment.status
    if status in (Payment.Status.PAID, Payment.Status.CAPTURABLE):
        return "success"
    if status in (Payment.Status.AUTHORIZED, Payment.Status.IN_REVIEW, Payment.Status.PENDING):
        return "confirming"
    if status == Payment.Status.CREATED:
        if not payment.is_payable:
            return "expired"
        return "retry" if payment.failure_code else "payable"
    if payment.failure_code == "aborted":
        return "aborted"
    if payment.failure_code == "timeout":
        return "expired"
    return "failed"


@shopper_not_found
@never_cache
@require_GET
def result(request, token):
    payment = _payment(token)
    deadline = time.monotonic() + WAIT_FOR_DECISION_SECONDS
    pause = 0.05
    # The fraud decision usually lands within a fraction of a second of the authorisation.
    while _unsettled(payment) and time.monotonic() < deadline:
        time.sleep(pause)
        pause = min(pause * 1.5, 0.25)
        payment.refresh_from_db()
    if payment.status == Payment.Status.PENDING and _awaiting_3ds(payment):
        return _see_other(reverse("checkout:three_ds", args=[token]))
    state = outcome_state(payment)
    if state == "payable":
        return _see_other(reverse("checkout:pay", args=[token]))
    if _card_checked(payment):  # a subscriber's card check: saved, then released (never "cancelled")
        return _render(request, payment, "checkout/subscriber_card_saved.html", {"return_url": payment.return_url})
    return_url = payment.return_url
    delay = RETURN_DELAY_SECONDS.get(state)
    if delay and payment.source == "button":
        delay += 5  # in the lightbox, the embedding page takes the shopper back first (paybutton.js)
    return _render(
        request,
        payment,
        "checkout/result.html",
        {
            "state": state,
            "failure_text": failure_text(payment),
            "return_url": return_url,
            "return_delay": delay,
            "attempts_left": max(0, MAX_FAILED_ATTEMPTS - payment.failed_attempts),
            "paid_at": payment.paid_at or payment.authorized_at,
        },
    )


@shopper_not_found
@require_GET
def brand_css(request, merchant_id):
    """The merchant's colours as CSS variables: branding without any inline style (strict CSP)."""
    merchant = Merchant.objects.filter(public_id=merchant_id).only("brand_color").first()
    if merchant is None:
        raise Http404
    palette = display.brand_palette(merchant.brand_color)
    css = f":root {{ --accent: {palette['accent']}; --on-accent: {palette['on_accent']}; --ink: {palette['ink']}; }}\n"
    response = HttpResponse(css, content_type="text/css; charset=utf-8")
    if request.GET.get("v") == display.brand_version(merchant.brand_color):
        response["Cache-Control"] = "public, max-age=31536000, immutable"
    else:
        response["Cache-Control"] = "public, max-age=300"
    return response
