"""The public page of a payment link (/l/<slug>/): amount, quantity and the fields the merchant
asked for, then a payment of its own and a 303 to its hosted page.

A link that offers "month" or "year" (PaymentLink.frequencies) lets the shopper choose how often
(radio buttons, the first offered ticked; no choice when only one is offered, the page then says
"every month" or "every year"). A monthly or yearly choice starts a subscription instead of a
payment, and the 303 goes to its hosted page (where the subscriber consents): no quantity (one
unit each period: the field is ignored, and hidden by static/js/link.js), and an email address is
required (asked for even when the link does not collect it)."""

from __future__ import annotations

import gettext as gettext_module

import pycountry
from django import forms
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import render
from django.utils import translation
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from payments import amounts, display, links, representations, services, subscriptions
from payments.checkout import guards
from payments.checkout.page import brand_css_url
from payments.errors import MerchantUnavailable, PaymentError
from payments.models import PaymentLink
from payplug.client import client_ip
from payplug.views import shopper_not_found


def _countries(language: str) -> list[tuple[str, str]]:
    try:
        names = gettext_module.translation("iso3166-1", pycountry.LOCALES_DIR, languages=[language])
        translate = names.gettext
    except OSError:
        translate = str
    rows = [(country.alpha_2, translate(country.name)) for country in pycountry.countries]
    return [("", "—"), *sorted(rows, key=lambda row: row[1])]


class LinkForm(forms.Form):
    def __init__(self, data=None, *args, link: PaymentLink, language: str, **kwargs):
        self.offered = links.frequencies_of(link)
        self.frequency = self.offered[0]  # the one chosen (or shown ticked)
        if data is not None and len(self.offered) > 1 and data.get("frequency") in self.offered:
            self.frequency = data["frequency"]
        if data is not None and self.recurring and link.ask_quantity:
            data = data.copy()
            data["quantity"] = "1"  # a quantity applies to one-off payments only: ignored
        super().__init__(data, *args, **kwargs)
        self.link = link
        self.language = language
        if len(self.offered) > 1:
            self.fields["frequency"] = forms.ChoiceField(
                label=_("How often"),
                choices=[(value, links.FREQUENCY_LABELS[value]) for value in self.offered],
                initial=self.offered[0],
                widget=forms.RadioSelect,
            )
        if link.is_free_amount:
            low, high = links.amount_bounds(link)
            self.low, self.high = low, high
            self.fields["amount"] = forms.CharField(
                label=_("Amount (€)"),
                max_length=16,
                help_text=_("Between %(min)s and %(max)s.")
                % {
                    "min": amounts.format_amount(low, "EUR", language),
                    "max": amounts.format_amount(high, "EUR", language),
                },
                widget=forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "transaction-amount"}),
            )
        if link.ask_quantity and links.ONCE in self.offered:
            self.fields["quantity"] = forms.IntegerField(
                label=_("Quantity"),
                help_text=_("For a one-off payment only.") if len(self.offered) > 1 else "",
                min_value=1,
                max_value=link.max_quantity,
                initial=1,
                widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
            )
        if link.collect_name:
            self.fields["first_name"] = forms.CharField(
                label=_("First name"), max_length=100, widget=forms.TextInput(attrs={"autocomplete": "given-name"})
            )
            self.fields["last_name"] = forms.CharField(
                label=_("Last name"), max_length=100, widget=forms.TextInput(attrs={"autocomplete": "family-name"})
            )
        self.email_for_recurring_only = not link.collect_email and self.offers_recurring and links.ONCE in self.offered
        if link.collect_email or self.offers_recurring:
            self.fields["email"] = forms.EmailField(
                label=_("Email address"),
                max_length=255,
                required=not self.email_for_recurring_only,
                help_text=_("Needed for a monthly or yearly payment: your receipts are sent to it.")
                if self.email_for_recurring_only
                else _("Your receipt is sent to this address."),
                widget=forms.EmailInput(attrs={"autocomplete": "email"}),
            )
        if link.collect_address:
            self.fields["address1"] = forms.CharField(
                label=_("Address"), max_length=255, widget=forms.TextInput(attrs={"autocomplete": "address-line1"})
            )
            self.fields["postcode"] = forms.CharField(
                label=_("Postcode"), max_length=16, widget=forms.TextInput(attrs={"autocomplete": "postal-code"})
            )
            self.fields["city"] = forms.CharField(
                label=_("City"), max_length=100, widget=forms.TextInput(attrs={"autocomplete": "address-level2"})
            )
            self.fields["country"] = forms.ChoiceField(
                label=_("Country"),
                choices=_countries(language),
                widget=forms.Select(attrs={"autocomplete": "country"}),
            )
        for name, field in self.fields.items():
            if field.required:
                field.widget.attrs["required"] = ""
            if field.help_text:
                field.widget.attrs["aria-describedby"] = f"id_{name}_hint"

    @property
    def recurring(self) -> bool:
        return links.is_recurring(self.frequency)

    @property
    def offers_recurring(self) -> bool:
        return any(links.is_recurring(value) for value in self.offered)

    @property
    def every(self):
        """The words "every month" or "every year" when that is the only frequency offered."""
        return links.EVERY.get(self.offered[0]) if len(self.offered) == 1 else None

    def clean_amount(self):
        cents = amounts.parse_amount(self.cleaned_data["amount"])
        if cents is None:
            raise forms.ValidationError(_("Enter an amount such as 25 or 25.50."))
        if not self.low <= cents <= self.high:
            raise forms.ValidationError(
                _("Enter an amount between %(min)s and %(max)s.")
                % {
                    "min": amounts.format_amount(self.low, "EUR", self.language),
                    "max": amounts.format_amount(self.high, "EUR", self.language),
                }
            )
        return cents

    def clean(self):
        data = super().clean()
        if self.recurring and not data.get("email") and "email" not in self.errors:
            self.add_error("email", _("Enter your email address: it is needed for a monthly or yearly payment."))
        unit = self.link.amount if not self.link.is_free_amount else data.get("amount")
        quantity = 1 if self.recurring else data.get("quantity") or 1
        if unit:
            low, high = links.merchant_bounds(self.link.merchant)
            if not low <= unit * quantity <= high:
                message = _("The total must be between %(min)s and %(max)s.") % {
                    "min": amounts.format_amount(low, "EUR", self.language),
                    "max": amounts.format_amount(high, "EUR", self.language),
                }
                # Next to what the shopper can change (shown without JavaScript too).
                where = next((name for name in ("quantity", "amount") if name in self.fields), None)
                self.add_error(where, message)
        return data

    def describe_errors(self):
        for name in self.errors:
            if name in self.fields:
                attrs = self.fields[name].widget.attrs
                hint = [f"id_{name}_hint"] if self.fields[name].help_text else []
                attrs["aria-describedby"] = " ".join([f"id_{name}_error", *hint])
                attrs["aria-invalid"] = "true"

    def visit(self, shopper_ip) -> links.Visit:
        data = self.cleaned_data
        keys = ("first_name", "last_name", "email", "address1", "postcode", "city", "country")
        billing = {key: data[key] for key in keys if data.get(key)}
        return links.Visit(
            unit_amount=self.link.amount if not self.link.is_free_amount else data["amount"],
            quantity=1 if self.recurring else data.get("quantity") or 1,
            billing=billing,
            shopper_ip=shopper_ip,
            language=self.language,
        )


def _see_other(url):
    response = HttpResponseRedirect(url)
    response.status_code = 303
    return response


def _unavailable(request, context):
    response = render(request, "checkout/unavailable.html", context, status=403)
    response["Cache-Control"] = "no-store"
    return response


@shopper_not_found
@never_cache
@require_http_methods(["GET", "POST"])
def page(request, slug):
    link = PaymentLink.objects.select_related("merchant").filter(slug=slug).first()
    if link is None:
        raise Http404
    language = display.shopper_language(request)
    context = {
        "link": link,
        "merchant": link.merchant,
        "is_test": not link.is_live,
        "description": link.description,
        "amount_text": amounts.format_amount(link.amount, "EUR", language) if link.amount else None,
        "brand_css_url": brand_css_url(link.merchant),
    }
    status = 200
    with translation.override(language):
        if not link.is_active:
            return render(request, "checkout/link_inactive.html", context, status=410)
        if services.merchant_refusal(link.merchant, link.is_live) is not None:
            return _unavailable(request, context)  # suspended, or live mode switched off: no form
        country = guards.blocked_country(request, link.merchant)
        if country:
            return render(request, "checkout/blocked.html", {**context, "country": country}, status=403)
        form = LinkForm(request.POST or None, link=link, language=language)
        if request.method == "POST":
            if form.is_valid():
                limit = guards.payment_creation(request, "link")
                if not limit.allowed:
                    response = render(
                        request,
                        "checkout/too_many.html",
                        {**context, "retry_minutes": max(1, limit.retry_after // 60)},
                        status=429,
                    )
                    response["Retry-After"] = str(limit.retry_after)
                    return response
                visit = form.visit(client_ip(request))
                try:
                    if form.recurring:
                        subscription = links.start_subscription(link, visit, form.frequency)
                        return _see_other(subscriptions.hosted_url(subscription))
                    payment = links.start_payment(link, visit)
                    return _see_other(representations.hosted_payment_url(payment))
                except MerchantUnavailable:  # suspended (or live mode off) since the check above
                    return _unavailable(request, context)
                except PaymentError as refusal:
                    if form.recurring and refusal.code == "feature_not_enabled":  # live, no saved cards
                        form.add_error("frequency", _("This merchant cannot take monthly or yearly payments yet."))
                    elif not form.recurring or refusal.code != "invalid_request":
                        return render(request, "checkout/link_inactive.html", context, status=410)
                    else:
                        # The subscription's own checks (payments.subscriptions.validate) refused it.
                        form.add_error(None, _("This payment cannot be started: check the amount and your details."))
            form.describe_errors()
            status = 400
        response = render(request, "checkout/link.html", {**context, "form": form}, status=status)
    response["Cache-Control"] = "no-store"
    return response
