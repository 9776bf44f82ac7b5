"""The hosted payment page (spec §13): a plain-HTML card form that works without JavaScript.

The full number and the security code exist only in this request: the form hands them to
payments.services.submit_card as a CardData, which vaults the number and passes both to the
acquirer. Nothing here logs or stores them, and the form never re-renders them.
"""

from __future__ import annotations

import time

from django import forms
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from merchants.services import client_ip

from . import cards, services
from .acquirers.base import CardData
from .errors import PaymentError
from .models import Payment, PaymentAttempt

SUPPORTED_LANGUAGES = ("en", "fr", "it", "es")
WAIT_FOR_DECISION_SECONDS = 3.0

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


class CardForm(forms.Form):
    cardholder = forms.CharField(
        label=_("Name on card"),
        max_length=100,
        widget=forms.TextInput(attrs={"autocomplete": "cc-name", "autocapitalize": "characters"}),
    )
    number = forms.CharField(
        label=_("Card number"),
        max_length=23,
        widget=forms.TextInput(
            attrs={"autocomplete": "cc-number", "inputmode": "numeric", "placeholder": "1234 1234 1234 1234"}
        ),
    )
    expiry = forms.CharField(
        label=_("Expiry date (MM/YY)"),
        max_length=7,
        widget=forms.TextInput(attrs={"autocomplete": "cc-exp", "inputmode": "numeric", "placeholder": "MM/YY"}),
    )
    cvc = forms.CharField(
        label=_("Security code"),
        max_length=4,
        widget=forms.PasswordInput(attrs={"autocomplete": "cc-csc", "inputmode": "numeric", "placeholder": "123"}),
    )

    def __init__(self, *args, allow_save_card=False, **kwargs):
        super().__init__(*args, **kwargs)
        if allow_save_card:
            self.fields["save_card"] = forms.BooleanField(
                label=_("Remember this card for my next payments"), required=False
            )

    def clean_number(self):
        number = cards.normalize_number(self.cleaned_data["number"])
        problem = cards.number_error(number)
        if problem:
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
        if number and cvc is not None and not cards.valid_cvc(cvc, cards.detect_brand(number)):
            self.add_error("cvc", _("Enter the 3 or 4 digit security code."))
        return data

    def card(self) -> CardData:
        month, year = self.cleaned_data["expiry"]
        return CardData(
            number=self.cleaned_data["number"],
            exp_month=month,
            exp_year=year,
            cvc=self.cleaned_data["cvc"],
            holder=self.cleaned_data["cardholder"],
        )


def _payment(token: str) -> Payment:
    payment = Payment.objects.select_related("merchant").filter(hosted_token=token).first()
    if payment is None:
        raise Http404
    return payment


def _language(request, payment) -> str:
    wanted = (payment.billing or {}).get("language") or payment.shopper_language
    if wanted in SUPPORTED_LANGUAGES:
        return wanted
    browser = translation.get_language_from_request(request)
    return browser if browser in SUPPORTED_LANGUAGES else "en"


def _render(request, payment, template, context=None, status=200):
    with translation.override(_language(request, payment)):
        response = render(
            request,
            template,
            {"payment": payment, "merchant": payment.merchant, "amount": payment.amount / 100, **(context or {})},
            status=status,
        )
    response["Cache-Control"] = "no-store"
    return response


def _see_other(url):
    response = HttpResponseRedirect(url)
    response.status_code = 303
    return response


def _awaiting_3ds(payment) -> PaymentAttempt | None:
    return payment.attempts.filter(status=PaymentAttempt.Status.AWAITING_3DS).order_by("-created_at").first()


@never_cache
@require_http_methods(["GET", "POST"])
def pay(request, token):
    payment = _payment(token)
    if payment.status == Payment.Status.PENDING and _awaiting_3ds(payment):
        return _see_other(reverse("checkout:three_ds", args=[token]))
    if not payment.is_payable:
        return _see_other(reverse("checkout:result", args=[token]))
    form = CardForm(request.POST or None, allow_save_card=payment.allow_save_card)
    if request.method == "POST" and form.is_valid():
        try:
            attempt = services.submit_card(
                payment.pk,
                form.card(),
                save_card=form.cleaned_data.get("save_card", False),
                shopper_ip=client_ip(request),
            )
        except PaymentError:
            return _see_other(reverse("checkout:result", args=[token]))
        if attempt.status == PaymentAttempt.Status.AWAITING_3DS:
            return _see_other(reverse("checkout:three_ds", args=[token]))
        return _see_other(reverse("checkout:result", args=[token]))
    return _render(
        request,
        payment,
        "checkout/pay.html",
        {
            "form": form,
            "failure_text": FAILURE_TEXTS.get(payment.failure_code) if payment.failure_code else None,
            "cancel_url": payment.cancel_url or payment.return_url,
        },
        status=400 if request.method == "POST" else 200,
    )


@never_cache
@require_http_methods(["GET", "POST"])
def three_ds(request, token):
    payment = _payment(token)
    attempt = _awaiting_3ds(payment)
    if attempt is None:
        return _see_other(reverse("checkout:result", args=[token]))
    if request.method == "POST":
        outcome = request.POST.get("outcome")
        if outcome in ("approve", "fail", "abandon"):
            services.complete_3ds(attempt.pk, authenticated=outcome == "approve")
            return _see_other(reverse("checkout:result", args=[token]))
    return _render(request, payment, "checkout/three_ds.html", {"attempt": attempt})


@never_cache
def result(request, token):
    payment = _payment(token)
    deadline = time.monotonic() + WAIT_FOR_DECISION_SECONDS
    # The fraud decision usually lands within a second of the authorisation: wait briefly for it.
    while payment.status in (Payment.Status.AUTHORIZED, Payment.Status.PENDING) and time.monotonic() < deadline:
        time.sleep(0.2)
        payment.refresh_from_db()
    if payment.status == Payment.Status.PENDING and _awaiting_3ds(payment):
        return _see_other(reverse("checkout:three_ds", args=[token]))
    if payment.is_payable and not payment.failure_code:
        return _see_other(reverse("checkout:pay", args=[token]))
    if payment.status in (Payment.Status.PAID, Payment.Status.CAPTURABLE):
        state = "success"
    elif payment.status == Payment.Status.FAILED:
        state = "failed"
    elif payment.is_payable:
        state = "retry"
    elif payment.status == Payment.Status.CREATED:
        state = "expired"
    else:
        state = "confirming"
    return _render(
        request,
        payment,
        "checkout/result.html",
        {
            "state": state,
            "failure_text": FAILURE_TEXTS.get(payment.failure_code) if payment.failure_code else None,
            "return_url": payment.return_url,
            "attempts_left": max(0, 3 - payment.failed_attempts),
        },
    )
