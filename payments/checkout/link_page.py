"""The public page of a payment link (/l/<slug>/): amount, quantity and the fields the merchant
asked for, then a payment of its own and a 303 to its hosted page."""

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

from payments import amounts, display, links, representations, services
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
    def __init__(self, *args, link: PaymentLink, language: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.link = link
        self.language = language
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
        if link.ask_quantity:
            self.fields["quantity"] = forms.IntegerField(
                label=_("Quantity"),
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
        if link.collect_email:
            self.fields["email"] = forms.EmailField(
                label=_("Email address"),
                max_length=255,
                help_text=_("Your receipt is sent to this address."),
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
        unit = self.link.amount if not self.link.is_free_amount else data.get("amount")
        quantity = data.get("quantity") or 1
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
            quantity=data.get("quantity") or 1,
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
                try:
                    payment = links.start_payment(link, form.visit(client_ip(request)))
                except MerchantUnavailable:  # suspended (or live mode off) since the check above
                    return _unavailable(request, context)
                except PaymentError:
                    return render(request, "checkout/link_inactive.html", context, status=410)
                return _see_other(representations.hosted_payment_url(payment))
            form.describe_errors()
            status = 400
        response = render(request, "checkout/link.html", {**context, "form": form}, status=status)
    response["Cache-Control"] = "no-store"
    return response
