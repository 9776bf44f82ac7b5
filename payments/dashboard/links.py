"""Dashboard pages of payment links and of the pay button (role MANAGE_LINKS).

Links: list with their payments and totals, create, edit, deactivate, share URL and QR code
(SVG and PNG, made by segno). Pay button: the snippet to paste, with a live preview, and the
origins allowed to use it (a merchant setting: MANAGE_SETTINGS).

Both builders (a link, a button) offer the fields of the chosen amount type only: fields that do
not apply are dropped from the submitted data before validation (so they are neither checked nor
kept), the templates group them in fieldsets that say which type they are for, and
static/js/conditional_fields.js hides the ones that do not apply (issue 12, finding 21).

The button's options are kept per merchant and mode (payments.paybutton.save_button_settings):
saving the allowed websites carries the options shown in the snippet along (hidden `carry-`
fields, kept up to date by static/js/paybutton_preview.js), so nothing goes back to a default
(issue 12, finding 15).
"""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.templatetags.static import static
from django.utils.html import escape
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from merchants import roles
from merchants.decorators import dashboard_view
from merchants.models import ApiKey
from merchants.services.audit import Actor
from payments import amounts, display, links
from payments import paybutton as pay_button  # the module; `paybutton` below is this page's view
from payments.amounts import format_money
from payments.models import PaymentLink
from payplug.qr import qr_image

LANGUAGE_CHOICES = [
    ("", gettext_lazy("The shopper's browser language")),
    ("en", "English"),
    ("fr", "Français"),
    ("it", "Italiano"),
    ("es", "Español"),
]


def _links(request):
    return PaymentLink.objects.for_tenant(request.dashboard.merchant, request.dashboard.is_live)


def _link(request, link_id) -> PaymentLink:
    return get_object_or_404(_links(request).select_related("merchant"), public_id=link_id)


# --- forms ---------------------------------------------------------------------------------------------


class AmountField(forms.CharField):
    """Euros as a merchant types them ('25', '25,50'), cleaned to cents."""

    def __init__(self, *args, **kwargs):
        kwargs.pop("max_length", None)  # the cleaned value is an int: the length check is on the input only
        super().__init__(*args, **kwargs)
        self.widget.attrs.update({"maxlength": "16", "inputmode": "decimal"})

    def to_python(self, value):
        value = super().to_python(value)
        if value in self.empty_values:
            return None
        cents = amounts.parse_amount(value)
        if cents is None:
            raise ValidationError(_("Enter an amount such as 25 or 25.50."))
        return cents


class FrequenciesField(forms.MultipleChoiceField):
    """How often the payer may pay: ticked boxes, or one comma-separated value (the carried field
    and a shared URL write "once,month", as the snippet's data-frequencies does). Cleaned to the
    order of links.FREQUENCIES. The form requires one (`clean_frequencies`): the field's own check
    only runs on the values given."""

    widget = forms.CheckboxSelectMultiple

    def __init__(self, **kwargs):
        kwargs.setdefault("choices", [(value, links.FREQUENCY_LABELS[value]) for value in links.FREQUENCIES])
        kwargs.setdefault("required", False)
        super().__init__(**kwargs)

    def to_python(self, value):
        values = super().to_python(value)
        return [part.strip() for item in values for part in item.split(",") if part.strip()]

    def clean(self, value):
        values = super().clean(value)
        return [choice for choice in links.FREQUENCIES if choice in values]


def clean_frequencies(form: forms.Form) -> list[str]:
    """At least one frequency; a submission that does not carry the field at all (an older page,
    a form posted by a script) keeps the one-off payment only."""
    if form.add_prefix("frequencies") not in form.data:
        return [links.ONCE]
    if not form.cleaned_data.get("frequencies"):
        raise ValidationError(_("Tick at least one: one-off, monthly or yearly."))
    return form.cleaned_data["frequencies"]


class ApplicableFieldsForm(forms.Form):
    """A form whose submitted data loses, before validation, the fields that do not apply."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.is_bound:
            data = self.data.copy()
            for name in self.inapplicable():
                data.pop(self.add_prefix(name), None)
            self.data = data

    def submitted(self, name):
        return self.fields[name].widget.value_from_datadict(self.data, self.files, self.add_prefix(name))

    def inapplicable(self) -> list[str]:
        if self.submitted("amount_type") == "free":
            return ["amount"]
        return ["min_amount", "max_amount"]


class PaymentLinkForm(ApplicableFieldsForm):
    description = forms.CharField(
        label=gettext_lazy("What is the payment for?"),
        max_length=255,
        help_text=gettext_lazy("Shown to the payer, e.g. “Annual membership 2027” or “Donation”."),
    )
    amount_type = forms.ChoiceField(
        label=gettext_lazy("Amount"),
        choices=[
            ("fixed", gettext_lazy("A fixed amount")),
            ("free", gettext_lazy("The payer chooses the amount (donations)")),
        ],
        widget=forms.RadioSelect,
        initial="fixed",
    )
    amount = AmountField(label=gettext_lazy("Fixed amount (€)"), required=False, max_length=16)
    min_amount = AmountField(label=gettext_lazy("Minimum (€)"), required=False, max_length=16)
    max_amount = AmountField(label=gettext_lazy("Maximum (€)"), required=False, max_length=16)
    frequencies = FrequenciesField(
        label=gettext_lazy("How often"),
        initial=[links.ONCE],
        help_text=gettext_lazy(
            "Monthly or yearly starts a subscription (a membership, a monthly donation): the payer "
            "agrees to the future charges, gives an email address and can cancel at any time. "
            "Ticking several lets the payer choose."
        ),
    )
    ask_quantity = forms.BooleanField(label=gettext_lazy("Let the payer choose a quantity"), required=False)
    max_quantity = forms.IntegerField(
        label=gettext_lazy("Largest quantity"), min_value=1, max_value=100, initial=10, required=False
    )
    collect_name = forms.BooleanField(label=gettext_lazy("Ask for the payer's name"), required=False)
    collect_email = forms.BooleanField(
        label=gettext_lazy("Ask for the payer's email address (for the receipt)"),
        help_text=gettext_lazy("A monthly or yearly payment always asks for it."),
        required=False,
        initial=True,
    )
    collect_address = forms.BooleanField(label=gettext_lazy("Ask for the payer's postal address"), required=False)
    return_url = forms.URLField(
        label=gettext_lazy("Page to return to after paying (optional)"),
        required=False,
        max_length=2048,
        assume_scheme="https",
    )

    def __init__(self, *args, merchant, is_live, **kwargs):
        super().__init__(*args, **kwargs)
        self.merchant = merchant
        self.is_live = is_live

    def inapplicable(self) -> list[str]:
        names = super().inapplicable()
        if not self.submitted("ask_quantity"):
            names.append("max_quantity")
        return names

    @classmethod
    def initial_for(cls, link: PaymentLink) -> dict:
        def euros(cents):
            return amounts.amount_for_input(cents) if cents else ""

        return {
            "description": link.description,
            "amount_type": "free" if link.is_free_amount else "fixed",
            "amount": euros(link.amount),
            "min_amount": euros(link.min_amount),
            "max_amount": euros(link.max_amount),
            "ask_quantity": link.ask_quantity,
            "max_quantity": link.max_quantity,
            "collect_name": link.collect_name,
            "collect_email": link.collect_email,
            "collect_address": link.collect_address,
            "return_url": link.return_url or "",
            "frequencies": links.frequencies_of(link),
        }

    def clean_frequencies(self):
        return clean_frequencies(self)

    def clean_return_url(self):
        url = self.cleaned_data["return_url"]
        if url and self.is_live and not url.startswith("https://"):
            raise ValidationError(_("In live mode the return page must use https."))
        return url or None

    def clean(self):
        data = super().clean()
        low, high = links.merchant_bounds(self.merchant)
        bounds = {"min": format_money(low, "EUR"), "max": format_money(high, "EUR")}
        if data.get("amount_type") == "fixed":
            if data.get("amount") is None:
                self.add_error("amount", _("Enter the amount."))
            elif not low <= data["amount"] <= high:
                self.add_error("amount", _("Enter an amount between %(min)s and %(max)s.") % bounds)
            data["min_amount"] = data["max_amount"] = None
        else:
            data["amount"] = None
            for name in ("min_amount", "max_amount"):
                value = data.get(name)
                if value is not None and not low <= value <= high:
                    self.add_error(name, _("Enter an amount between %(min)s and %(max)s.") % bounds)
            if data.get("min_amount") and data.get("max_amount") and data["min_amount"] > data["max_amount"]:
                self.add_error("max_amount", _("The maximum must not be below the minimum."))
        if data.get("ask_quantity") and data.get("frequencies") and links.ONCE not in data["frequencies"]:
            self.add_error(
                "ask_quantity",
                _("A quantity applies to one-off payments only: tick One-off too, or do not ask for a quantity."),
            )
        if data.get("ask_quantity") and not data.get("max_quantity"):
            data["max_quantity"] = 10
        data["max_quantity"] = data.get("max_quantity") or 10
        return data

    def fields_for_service(self) -> dict:
        return {name: self.cleaned_data.get(name) for name in links.EDITABLE}


class OriginsForm(forms.Form):
    origins = forms.CharField(
        label=gettext_lazy("Websites allowed to show your pay button"),
        help_text=gettext_lazy(
            "One origin a line, e.g. https://www.my-association.org. "
            "http://localhost is accepted for tests (test mode only)."
        ),
        widget=forms.Textarea(attrs={"rows": 4, "spellcheck": "false", "autocomplete": "off"}),
        required=False,
    )

    def clean_origins(self):
        return pay_button.clean_origins(self.cleaned_data["origins"].splitlines())


# --- links ---------------------------------------------------------------------------------------------


@dashboard_view(roles.MANAGE_LINKS)
def link_list(request):
    queryset = links.with_totals(_links(request)).order_by("-created_at", "-id")
    page = Paginator(queryset, 50).get_page(request.GET.get("page"))
    for link in page:
        link.paid_total_display = format_money(link.paid_total or 0, "EUR")
        link.amount_display = format_money(link.amount, "EUR") if link.amount else None
        link.share_url = links.public_url(link)
        link.frequencies_display = links.frequencies_text(links.frequencies_of(link))
    return render(request, "dashboard/links.html", {"page": page})


@dashboard_view(roles.MANAGE_LINKS)
@require_http_methods(["GET", "POST"])
def link_create(request):
    merchant, is_live = request.dashboard.merchant, request.dashboard.is_live
    form = PaymentLinkForm(request.POST or None, merchant=merchant, is_live=is_live)
    if request.method == "POST" and form.is_valid():
        link = links.create_link(merchant, is_live, Actor.from_request(request), form.fields_for_service())
        messages.success(request, _("Payment link created."))
        return redirect("dashboard:link", link.public_id)
    return render(request, "dashboard/links_form.html", {"form": form, "link": None})


@dashboard_view(roles.MANAGE_LINKS)
@require_http_methods(["GET", "POST"])
def link_edit(request, link_id):
    link = _link(request, link_id)
    data = request.POST if request.method == "POST" else None
    form = PaymentLinkForm(
        data,
        initial=PaymentLinkForm.initial_for(link),
        merchant=request.dashboard.merchant,
        is_live=request.dashboard.is_live,
    )
    if request.method == "POST" and form.is_valid():
        links.update_link(link, Actor.from_request(request), form.fields_for_service())
        messages.success(request, _("Payment link saved."))
        return redirect("dashboard:link", link.public_id)
    return render(request, "dashboard/links_form.html", {"form": form, "link": link})


@dashboard_view(roles.MANAGE_LINKS)
def link_detail(request, link_id):
    link = _link(request, link_id)
    totals = links.with_totals(_links(request).filter(pk=link.pk)).get()
    payments = link.payments.order_by("-created_at", "-id")
    page = Paginator(payments, 50).get_page(request.GET.get("page"))
    return render(
        request,
        "dashboard/links_detail.html",
        {
            "link": link,
            "share_url": links.public_url(link),
            "totals": totals,
            "paid_total_display": format_money(totals.paid_total or 0, "EUR"),
            "amount_display": format_money(link.amount, "EUR") if link.amount else None,
            "bounds": [format_money(cents, "EUR") for cents in links.amount_bounds(link)],
            "frequencies_display": links.frequencies_text(links.frequencies_of(link)),
            "page": page,
        },
    )


@dashboard_view(roles.MANAGE_LINKS)
@require_POST
def link_active(request, link_id):
    link = _link(request, link_id)
    active = request.POST.get("active") == "1"
    links.set_active(link, Actor.from_request(request), active)
    messages.success(request, _("Payment link activated.") if active else _("Payment link deactivated."))
    return redirect("dashboard:link", link.public_id)


@dashboard_view(roles.MANAGE_LINKS)
def link_qr(request, link_id, kind):
    link = _link(request, link_id)
    if kind not in ("svg", "png"):
        raise Http404
    body, content_type = qr_image(links.public_url(link), kind, link.description)
    response = HttpResponse(body, content_type=content_type)
    if request.GET.get("download"):
        response["Content-Disposition"] = f'attachment; filename="payment-link-{link.slug}.{kind}"'
    response["Cache-Control"] = "private, max-age=300"
    return response


# --- the pay button ---------------------------------------------------------------------------------


COLLECT_CHOICES = [
    ("off", gettext_lazy("Do not ask")),
    ("optional", gettext_lazy("Ask, optional")),
    ("required", gettext_lazy("Ask, required")),
]


class ButtonForm(ApplicableFieldsForm):
    amount_type = forms.ChoiceField(
        label=gettext_lazy("Amount"),
        choices=[
            ("fixed", gettext_lazy("A fixed amount")),
            ("free", gettext_lazy("The payer chooses the amount (donations)")),
        ],
        widget=forms.RadioSelect,
        initial="fixed",
        required=False,
    )
    amount = AmountField(label=gettext_lazy("Fixed amount (€)"), required=False, initial="10", max_length=16)
    min_amount = AmountField(label=gettext_lazy("Minimum (€)"), required=False, max_length=16)
    max_amount = AmountField(label=gettext_lazy("Maximum (€)"), required=False, max_length=16)
    label = forms.CharField(label=gettext_lazy("Button text (optional)"), max_length=40, required=False)
    description = forms.CharField(label=gettext_lazy("Description (optional)"), max_length=255, required=False)
    language = forms.ChoiceField(label=gettext_lazy("Language"), choices=LANGUAGE_CHOICES, required=False)
    collect_name = forms.ChoiceField(
        label=gettext_lazy("Ask for the payer's name"), choices=COLLECT_CHOICES, required=False, initial="off"
    )
    collect_email = forms.ChoiceField(
        label=gettext_lazy("Ask for the payer's email address (to send the receipt)"),
        choices=COLLECT_CHOICES,
        required=False,
        initial="optional",
    )
    frequencies = FrequenciesField(
        label=gettext_lazy("How often"),
        initial=[links.ONCE],
        help_text=gettext_lazy(
            "Monthly or yearly starts a subscription: the payer agrees to the future charges and "
            "gives an email address. Ticking several lets the payer choose."
        ),
    )

    @staticmethod
    def initial_for(options: dict) -> dict:
        """The form's initial values (euros as typed) from saved options (cents)."""

        def euros(cents):
            return amounts.amount_for_input(cents) if cents else ""

        return {
            **options,
            "amount": euros(options.get("amount")),
            "min_amount": euros(options.get("min_amount")),
            "max_amount": euros(options.get("max_amount")),
        }

    def clean(self):
        data = super().clean()
        if data.get("amount_type") != "free":
            data["amount_type"] = "fixed"
        low, high = data.get("min_amount"), data.get("max_amount")
        if data["amount_type"] == "free" and low and high and low > high:
            self.add_error("max_amount", _("The maximum must not be below the minimum."))
        for name in ("collect_name", "collect_email"):
            data[name] = data.get(name) or "off"
        return data

    def clean_frequencies(self):
        return clean_frequencies(self)

    def options(self) -> dict:
        """The cleaned options, amounts in cents (what payments.paybutton keeps)."""
        data = self.cleaned_data
        free = data["amount_type"] == "free"
        return {
            "amount_type": data["amount_type"],
            "amount": None if free else data.get("amount") or 1000,
            "min_amount": data.get("min_amount") if free else None,
            "max_amount": data.get("max_amount") if free else None,
            "label": data.get("label") or "",
            "description": data.get("description") or "",
            "language": data.get("language") or "",
            "collect_name": data["collect_name"],
            "collect_email": data["collect_email"],
            "frequencies": data.get("frequencies") or [links.ONCE],
        }


CARRY = "carry"  # prefix of the button's options carried by the origins form


def button_attributes(key: str, data: dict, palette: dict | None = None) -> list[tuple[str, str]]:
    """The data- attributes of the snippet, in a stable order."""
    attributes = [("data-key", key)]
    if data.get("amount_type") == "free":
        attributes.append(("data-amount", "free"))
        if data.get("min_amount"):
            attributes.append(("data-min", str(data["min_amount"])))
        if data.get("max_amount"):
            attributes.append(("data-max", str(data["max_amount"])))
    else:
        attributes.append(("data-amount", str(data.get("amount") or 1000)))
    for name in ("label", "description", "language"):
        if data.get(name):
            attributes.append((f"data-{name}", data[name]))
    for name, attribute in (("collect_name", "data-name"), ("collect_email", "data-email")):
        if data.get(name) in ("optional", "required"):
            attributes.append((attribute, data[name]))
    frequencies = data.get("frequencies") or [links.ONCE]
    if frequencies != [links.ONCE]:  # without the attribute, a one-off payment (older snippets)
        attributes.append(("data-frequencies", ",".join(frequencies)))
    if palette:
        attributes.append(("data-color", palette["accent"]))
        attributes.append(("data-text-color", palette["on_accent"]))
    return attributes


def carried_fields(data: dict) -> list[tuple[str, str, str]]:
    """(input name, option name, value as typed) of the options the origins form carries along."""
    initial = ButtonForm.initial_for(data)

    def typed(value):
        return ",".join(value) if isinstance(value, list) else str(value or "")

    return [(f"{CARRY}-{name}", name, typed(initial.get(name))) for name in ButtonForm.base_fields]


def snippet(attributes: list[tuple[str, str]]) -> str:
    script = settings.PUBLIC_BASE_URL + static("js/paybutton.js")
    attrs = "".join(f' {name}="{escape(value)}"' for name, value in attributes)
    return f'<div data-payplatform-button{attrs}></div>\n<script src="{escape(script)}" async></script>'


def _publishable(merchant, is_live) -> str | None:
    key = merchant.api_keys.filter(kind=ApiKey.Kind.PUBLISHABLE, is_live=is_live).usable().first()
    return key.publishable_value if key else None


@dashboard_view(roles.MANAGE_LINKS)
@require_http_methods(["GET", "POST"])
def paybutton(request):
    merchant, is_live = request.dashboard.merchant, request.dashboard.is_live
    data = pay_button.button_settings(merchant, is_live)
    form = ButtonForm(initial=ButtonForm.initial_for(data))
    origins_form = OriginsForm(initial={"origins": "\n".join(merchant.allowed_origins or [])})
    if request.method == "POST":
        action = request.POST.get("action") or ("origins" if "origins" in request.POST else "")
        if action == "button":
            form = ButtonForm(request.POST)
            if form.is_valid():
                pay_button.save_button_settings(merchant, is_live, Actor.from_request(request), form.options())
                messages.success(request, _("Pay button saved."))
                return redirect("dashboard:paybutton")
        elif action == "origins":
            if not request.dashboard.can(roles.MANAGE_SETTINGS):
                raise PermissionDenied  # the page is for MANAGE_LINKS; the origins are a merchant setting
            origins_form = OriginsForm(request.POST)
            carried = ButtonForm(request.POST, prefix=CARRY)
            carried_ok = any(name.startswith(CARRY + "-") for name in request.POST) and carried.is_valid()
            if origins_form.is_valid():
                actor = Actor.from_request(request)
                pay_button.update_allowed_origins(merchant, actor, origins_form.cleaned_data["origins"])
                if carried_ok:  # the options shown in the snippet are kept too
                    pay_button.save_button_settings(merchant, is_live, actor, carried.options())
                messages.success(request, _("Allowed websites saved."))
                return redirect("dashboard:paybutton")
            if carried_ok:
                data = carried.options()
                form = ButtonForm(initial=ButtonForm.initial_for(data))
        else:
            return redirect("dashboard:paybutton")
    elif any(name in ButtonForm.base_fields for name in request.GET):
        form = ButtonForm(request.GET)  # trying options without saving them (a shared or bookmarked URL)
        if form.is_valid():
            data = form.options()
    palette = display.brand_palette(merchant.brand_color)
    key = _publishable(merchant, is_live)
    test_key = _publishable(merchant, False)
    return render(
        request,
        "dashboard/paybutton.html",
        {
            "form": form,
            "origins_form": origins_form,
            "carried": carried_fields(data),
            "palette": palette,
            "key": key,
            "snippet": snippet(button_attributes(key, data, palette)) if key else "",
            "preview_attributes": button_attributes(test_key, data, palette) if test_key else [],
            "script_url": settings.PUBLIC_BASE_URL + static("js/paybutton.js"),
            "allowed_origins": merchant.allowed_origins or [],
        },
    )
