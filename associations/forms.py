"""The donor's form on a campaign page and the campaign editor of the dashboard."""

from __future__ import annotations

import gettext as gettext_module
import re
import secrets

import pycountry
from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from associations import services
from associations.models import Campaign
from payments import amounts, links

PICTURE_MAX_BYTES = 2 * 1024 * 1024
PICTURE_MAX_PIXELS = 4096
PICTURE_FORMATS = {"PNG": "png", "JPEG": "jpg"}
OTHER = "other"


def _countries(language: str) -> list[tuple[str, str]]:
    """Country choices in the donor's language (pycountry's translations), "—" first."""
    try:
        translate = gettext_module.translation("iso3166-1", pycountry.LOCALES_DIR, languages=[language]).gettext
    except OSError:
        translate = str
    rows = [(country.alpha_2, translate(country.name)) for country in pycountry.countries]
    return [("", "—"), *sorted(rows, key=lambda row: row[1])]


def _euros(cents: int, language: str | None = None) -> str:
    return amounts.format_amount(cents, "EUR", language)


# --- the donor's form -------------------------------------------------------------------------------


class GiftForm(forms.Form):
    """Suggested amounts as radio buttons plus a free amount, how often (when several are offered),
    the donor's name, email and postal address, and the consent to appear in the list of donors."""

    def __init__(self, data=None, *args, campaign: Campaign, language: str, **kwargs):
        super().__init__(data, *args, **kwargs)
        self.campaign = campaign
        self.language = language
        self.offered = services.frequencies_of(campaign)
        self.low, self.high = services.amount_bounds(campaign)
        suggested = [cents for cents in campaign.suggested_amounts or [] if self.low <= cents <= self.high]
        bounds = _("Between %(min)s and %(max)s.") % {
            "min": _euros(self.low, language),
            "max": _euros(self.high, language),
        }
        if suggested:
            self.fields["amount_choice"] = forms.ChoiceField(
                label=_("Amount"),
                choices=[(str(cents), _euros(cents, language)) for cents in suggested] + [(OTHER, _("Another amount"))],
                initial=str(suggested[0]),
                widget=forms.RadioSelect,
            )
        self.fields["other_amount"] = forms.CharField(
            label=_("Another amount (€)") if suggested else _("Amount (€)"),
            max_length=16,
            required=not suggested,
            help_text=bounds,
            widget=forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "transaction-amount"}),
        )
        if len(self.offered) > 1:
            self.fields["frequency"] = forms.ChoiceField(
                label=_("How often"),
                choices=[(value, links.FREQUENCY_LABELS[value]) for value in self.offered],
                initial=self.offered[0],
                widget=forms.RadioSelect,
            )
        self.fields["first_name"] = forms.CharField(
            label=_("First name"), max_length=100, widget=forms.TextInput(attrs={"autocomplete": "given-name"})
        )
        self.fields["last_name"] = forms.CharField(
            label=_("Last name"), max_length=100, widget=forms.TextInput(attrs={"autocomplete": "family-name"})
        )
        recurring_only = links.ONCE in self.offered
        self.fields["email"] = forms.EmailField(
            label=_("Email address"),
            max_length=255,
            required=not recurring_only,
            help_text=_("Needed for a monthly or yearly gift: your receipts are sent to it.")
            if recurring_only and len(self.offered) > 1
            else _("Your receipt is sent to this address."),
            widget=forms.EmailInput(attrs={"autocomplete": "email"}),
        )
        self.fields["address1"] = forms.CharField(
            label=_("Address"),
            max_length=255,
            required=False,
            widget=forms.TextInput(attrs={"autocomplete": "address-line1"}),
        )
        self.fields["postcode"] = forms.CharField(
            label=_("Postcode"),
            max_length=16,
            required=False,
            widget=forms.TextInput(attrs={"autocomplete": "postal-code"}),
        )
        self.fields["city"] = forms.CharField(
            label=_("City"),
            max_length=100,
            required=False,
            widget=forms.TextInput(attrs={"autocomplete": "address-level2"}),
        )
        self.fields["country"] = forms.ChoiceField(
            label=_("Country"),
            choices=_countries(language),
            required=False,
            widget=forms.Select(attrs={"autocomplete": "country"}),
        )
        if campaign.show_donors:
            self.fields["public"] = forms.BooleanField(label=_("Show my name in the list of donors"), required=False)
            self.fields["public_name"] = forms.CharField(
                label=_("Name to show (optional)"),
                max_length=60,
                required=False,
                help_text=_("Leave empty to show your first name and the initial of your last name."),
            )
        for name, field in self.fields.items():
            if field.required and not isinstance(field.widget, forms.RadioSelect):
                field.widget.attrs["required"] = ""
            if field.help_text:
                field.widget.attrs["aria-describedby"] = f"id_{name}_hint"

    @property
    def frequency(self) -> str:
        chosen = (self.data or {}).get("frequency") if self.is_bound else None
        return chosen if chosen in self.offered else self.offered[0]

    @property
    def every(self):
        return links.EVERY.get(self.offered[0]) if len(self.offered) == 1 else None

    def _amount_error(self):
        return _("Enter an amount between %(min)s and %(max)s.") % {
            "min": _euros(self.low, self.language),
            "max": _euros(self.high, self.language),
        }

    def clean(self):
        data = super().clean()
        choice = data.get("amount_choice")
        cents = None
        if choice and choice != OTHER:
            cents = int(choice)
        elif "other_amount" not in self.errors:
            text = (data.get("other_amount") or "").strip()
            if not text:
                self.add_error("other_amount", _("Enter the amount you want to give."))
            else:
                cents = amounts.parse_amount(text)
                if cents is None:
                    self.add_error("other_amount", _("Enter an amount such as 25 or 25.50."))
                elif not self.low <= cents <= self.high:
                    self.add_error("other_amount", self._amount_error())
                    cents = None
        data["amount"] = cents
        if links.is_recurring(self.frequency) and not data.get("email") and "email" not in self.errors:
            self.add_error("email", _("Enter your email address: it is needed for a monthly or yearly gift."))
        return data

    def describe_errors(self):
        for name in self.errors:
            if name in self.fields:
                attrs = self.fields[name].widget.attrs
                hint = [f"id_{name}_hint"] if self.fields[name].help_text else []
                attrs["aria-describedby"] = " ".join([f"id_{name}_error", *hint])
                attrs["aria-invalid"] = "true"

    def donor(self) -> services.Donor:
        data = self.cleaned_data
        return services.Donor(
            amount=data["amount"],
            frequency=self.frequency,
            first_name=data["first_name"].strip(),
            last_name=data["last_name"].strip(),
            email=data.get("email") or "",
            address_line1=data.get("address1") or "",
            postcode=data.get("postcode") or "",
            city=data.get("city") or "",
            country=data.get("country") or "",
            public=bool(data.get("public")),
            public_name=" ".join((data.get("public_name") or "").split()),
        )


# --- the dashboard's editor ---------------------------------------------------------------------------


def parse_euros(text: str) -> int | None:
    """Cents of a typed amount; raises ValidationError on a negative or unreadable one."""
    text = (text or "").strip()
    if not text:
        return None
    if text.startswith("-"):
        raise ValidationError(_("The amount cannot be below zero."), code="negative")
    cents = amounts.parse_amount(text)
    if cents is None:
        raise ValidationError(_("Enter an amount such as 25 or 25.50."), code="invalid")
    return cents


class EurosField(forms.CharField):
    def __init__(self, *args, negative_message=None, **kwargs):
        self.negative_message = negative_message
        super().__init__(*args, max_length=16, **kwargs)
        self.widget.attrs.update({"inputmode": "decimal"})

    def clean(self, value):
        value = super().clean(value)
        try:
            return parse_euros(value)
        except ValidationError as error:
            if error.code == "negative" and self.negative_message:
                raise ValidationError(self.negative_message, code="negative") from error
            raise


def validate_picture(uploaded) -> str:
    """A PNG or JPEG image, 2 MB and 4096 by 4096 pixels at most; returns its extension."""
    if uploaded.size > PICTURE_MAX_BYTES:
        raise ValidationError(_("The picture must be 2 MB or smaller."), code="size")
    image = getattr(uploaded, "image", None)
    # SVG is refused on purpose: it can carry scripts and would be served from our domain.
    if image is None or image.format not in PICTURE_FORMATS:
        raise ValidationError(_("Upload a PNG or JPEG image."), code="format")
    width, height = image.size
    if width > PICTURE_MAX_PIXELS or height > PICTURE_MAX_PIXELS:
        raise ValidationError(
            _("The picture must be at most %(max)d pixels wide and high.") % {"max": PICTURE_MAX_PIXELS},
            code="dimensions",
        )
    return PICTURE_FORMATS[image.format]


class CampaignForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=120)
    story = forms.CharField(
        label=_("Story"),
        required=False,
        max_length=20000,
        widget=forms.Textarea(attrs={"rows": 8}),
        help_text=_(
            "Paragraphs (<p>), line breaks, <strong>, <em>, lists and https:// links; anything else is removed."
        ),
    )
    picture = forms.ImageField(
        label=_("Picture"),
        required=False,
        widget=forms.ClearableFileInput(attrs={"accept": "image/png,image/jpeg"}),
        help_text=_("PNG or JPEG, 2 MB and 4096 by 4096 pixels at most."),
    )
    goal = EurosField(
        label=_("Goal (€)"),
        required=False,
        negative_message=_("The goal cannot be below zero."),
        help_text=_("Leave empty for no goal."),
    )
    suggested_amounts = forms.CharField(
        label=_("Suggested amounts (€)"),
        required=False,
        max_length=200,
        help_text=_("Separated by spaces, e.g. 10 25 50. Donors may also give another amount."),
    )
    min_amount = EurosField(label=_("Smallest gift (€)"), required=False)
    max_amount = EurosField(label=_("Largest gift (€)"), required=False)
    frequencies = forms.MultipleChoiceField(
        label=_("How often donors may give"),
        choices=[(value, links.FREQUENCY_LABELS[value]) for value in links.FREQUENCIES],
        widget=forms.CheckboxSelectMultiple,
        initial=[links.ONCE],
        help_text=_("Monthly or yearly starts a recurring gift that the donor can cancel at any time."),
    )
    show_donors = forms.BooleanField(label=_("Show the list of donors who agree to appear"), required=False)
    end_date = forms.DateField(
        label=_("Last day of the campaign"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        help_text=_("Leave empty for no end. After this day the page takes no gift."),
    )

    @classmethod
    def initial_for(cls, campaign: Campaign) -> dict:
        def euros(cents):
            return amounts.amount_for_input(cents) if cents is not None else ""

        return {
            "title": campaign.title,
            "story": campaign.story,
            "picture": campaign.picture,
            "goal": euros(campaign.goal),
            "suggested_amounts": " ".join(amounts.amount_for_input(c) for c in campaign.suggested_amounts or []),
            "min_amount": euros(campaign.min_amount),
            "max_amount": euros(campaign.max_amount),
            "frequencies": services.frequencies_of(campaign),
            "show_donors": campaign.show_donors,
            "end_date": campaign.end_date,
        }

    def clean_title(self) -> str:
        return " ".join(self.cleaned_data["title"].split())

    def clean_suggested_amounts(self) -> list[int]:
        values = []
        for token in re.split(r"[\s;]+", self.cleaned_data["suggested_amounts"].strip()):
            token = token.rstrip(",")
            if not token:
                continue
            try:
                cents = parse_euros(token)
            except ValidationError as error:
                raise ValidationError(
                    _("Write amounts such as 10 25 50, separated by spaces; none below zero."), code=error.code
                ) from error
            if cents:
                values.append(cents)
        if len(values) > 6:
            raise ValidationError(_("Suggest six amounts at most."))
        return sorted(set(values))

    def clean_frequencies(self) -> list[str]:
        return [value for value in links.FREQUENCIES if value in self.cleaned_data["frequencies"]]

    def clean_picture(self):
        picture = self.cleaned_data.get("picture")
        # None: nothing uploaded; False: "clear" ticked; a stored FieldFile: unchanged.
        if picture and hasattr(picture, "content_type"):
            extension = validate_picture(picture)
            # Never keep the uploader's file name: it is user input and ends up in a URL.
            picture.name = f"{secrets.token_hex(8)}.{extension}"
        return picture

    def clean(self):
        data = super().clean()
        low, high = data.get("min_amount"), data.get("max_amount")
        if low is not None and high is not None and low > high:
            self.add_error("max_amount", _("The largest gift must be at least the smallest."))
        return data

    def fields_for_service(self) -> dict:
        data = self.cleaned_data
        fields = {
            name: data[name]
            for name in (
                "title",
                "story",
                "goal",
                "suggested_amounts",
                "min_amount",
                "max_amount",
                "frequencies",
                "show_donors",
                "end_date",
            )
        }
        picture = data.get("picture")
        if picture is False:
            fields["picture"] = ""
        elif picture and hasattr(picture, "content_type"):
            fields["picture"] = picture
        return fields
