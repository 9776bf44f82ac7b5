"""Platform staff: each merchant's acquirer connectors and routes, per mode (docs/acquirers/routing.md).

Secrets are entered in password inputs that are never filled back in; the pages show only when a
secret was set, under which master key version, and its last four characters.
"""

from django import forms
from django.contrib import admin
from django.core.exceptions import ImproperlyConfigured
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext_lazy as _

from payments.acquirers import routing
from payments.models import AcquirerConnector, AcquirerRoute

_KEEP = _("Leave empty to keep the current one.")


class AcquirerConnectorForm(forms.ModelForm):
    api_key = forms.CharField(
        label=_("API key"),
        required=False,
        strip=True,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
        help_text=_KEEP,
    )
    webhook_secret = forms.CharField(
        label=_("Webhook secret / HMAC key"),
        required=False,
        strip=True,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
        help_text=_KEEP,
    )
    clear_webhook_secret = forms.BooleanField(label=_("Remove the webhook secret"), required=False)

    class Meta:
        model = AcquirerConnector
        fields = (
            "merchant",
            "is_live",
            "provider",
            "label",
            "is_enabled",
            "test_environment",
            "base_url",
            "merchant_account",
            "live_url_prefix",
        )

    def _post_clean(self):
        super()._post_clean()
        if self.errors:
            return
        connector = self.instance
        api_key = self.cleaned_data.get("api_key") or None
        webhook_secret = self.cleaned_data.get("webhook_secret") or None  # None: keep the current one
        if self.cleaned_data.get("clear_webhook_secret"):
            webhook_secret = ""
        connector.set_secrets(api_key=api_key, webhook_secret=webhook_secret)
        if connector.provider != AcquirerConnector.Provider.SANDBOX and not connector.has_secret("api_key"):
            self.add_error("api_key", _("This provider needs an API key."))
            return
        try:
            routing.build(connector)  # the connector classes check the configuration; no network
        except (ValueError, ImproperlyConfigured) as exc:
            self.add_error(None, _("This configuration cannot work: %(problem)s") % {"problem": exc})


def _secret_status(connector, field):
    set_at = getattr(connector, f"{field}_set_at")
    if not connector.has_secret(field) or set_at is None:
        return _("not set")
    return _("set on %(date)s, key version %(version)s, ending …%(last4)s") % {
        "date": date_format(timezone.localtime(set_at), "DATETIME_FORMAT"),
        "version": connector.key_version,
        "last4": getattr(connector, f"{field}_last4"),
    }


@admin.register(AcquirerConnector)
class AcquirerConnectorAdmin(admin.ModelAdmin):
    form = AcquirerConnectorForm
    list_display = ("label", "merchant", "is_live", "provider", "is_enabled", "test_environment", "key_version")
    list_filter = ("provider", "is_live", "is_enabled")
    search_fields = ("label", "public_id", "merchant__name", "merchant__public_id")
    raw_id_fields = ("merchant",)
    readonly_fields = (
        "public_id",
        "api_key_status",
        "webhook_secret_status",
        "created_at",
        "rotated_at",
        "rewrapped_at",
    )
    fieldsets = (
        (None, {"fields": ("public_id", "merchant", "is_live", "provider", "label", "is_enabled")}),
        (_("Provider"), {"fields": ("test_environment", "base_url", "merchant_account", "live_url_prefix")}),
        (
            _("Credentials"),
            {
                "fields": (
                    "api_key_status",
                    "api_key",
                    "webhook_secret_status",
                    "webhook_secret",
                    "clear_webhook_secret",
                    "created_at",
                    "rotated_at",
                    "rewrapped_at",
                )
            },
        ),
    )

    @admin.display(description=_("API key"))
    def api_key_status(self, connector):
        return _secret_status(connector, "api_key")

    @admin.display(description=_("Webhook secret"))
    def webhook_secret_status(self, connector):
        return _secret_status(connector, "webhook_secret")


class _CodeListField(forms.CharField):
    """A comma-separated list in the form, a JSON list in the database."""

    def __init__(self, *, upper=False, **kwargs):
        self.upper = upper
        super().__init__(required=False, **kwargs)

    def prepare_value(self, value):
        return ", ".join(value) if isinstance(value, list) else value

    def to_python(self, value):
        items = [item.strip() for item in (value or "").split(",") if item.strip()]
        return [item.upper() for item in items] if self.upper else items


class AcquirerRouteForm(forms.ModelForm):
    card_brands = _CodeListField(
        label=_("Card brands"), help_text=_("Comma-separated, e.g. Visa, Mastercard, CB. Empty: any brand.")
    )
    card_countries = _CodeListField(
        upper=True, label=_("Card countries"), help_text=_("Comma-separated ISO codes, e.g. FR, BE. Empty: any.")
    )

    class Meta:
        model = AcquirerRoute
        fields = (
            "merchant",
            "is_live",
            "position",
            "connector",
            "card_brands",
            "min_amount",
            "max_amount",
            "card_countries",
        )


@admin.register(AcquirerRoute)
class AcquirerRouteAdmin(admin.ModelAdmin):
    form = AcquirerRouteForm
    list_display = (
        "merchant",
        "is_live",
        "position",
        "connector",
        "card_brands",
        "min_amount",
        "max_amount",
        "card_countries",
    )
    list_filter = ("is_live",)
    search_fields = ("merchant__name", "merchant__public_id", "connector__label")
    raw_id_fields = ("merchant", "connector")
    ordering = ("merchant", "is_live", "position", "pk")
