"""Forms of the webhooks and notification pages. They parse input; notifications.services decides."""

import ipaddress
from urllib.parse import urlsplit

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from notifications.models import WEBHOOK_EVENT_TYPES, Delivery, EmailSubscription
from notifications.transport import address_problem, allowed_loopback_ports


def endpoint_url_problem(url: str, *, is_live: bool) -> str | None:
    """Why this URL cannot be a webhook endpoint in this mode, or None.

    Only what the URL itself shows is checked here; names are resolved, and every address
    checked, at each delivery attempt (notifications.transport).
    """
    allow_private = settings.NOTIFICATIONS_ALLOW_PRIVATE_NETWORKS and not is_live
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018  raises ValueError on a bad port
    except ValueError:
        return _("Enter a valid URL.")
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return _("Enter a valid URL starting with https://.")
    if parts.scheme != "https" and not allow_private:
        return _("The URL must start with https://.")
    if parts.username is not None or parts.password is not None:
        return _("The URL must not contain a user name or password.")
    if parts.fragment:
        return _("The URL must not contain a fragment (#...).")
    host = parts.hostname.rstrip(".")
    port = parts.port or (443 if parts.scheme == "https" else 80)
    loopback_ports = allowed_loopback_ports()
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        address = None
    is_localhost = host == "localhost" or host.endswith(".localhost")
    if address is not None:
        if address_problem(address, allow_private=allow_private, port=port, loopback_ports=loopback_ports):
            return _("This address is not reachable from the internet.")
    elif not allow_private and (is_localhost or "." not in host):
        return _("Use a public host name.")
    elif is_localhost and port not in loopback_ports:
        return _("This address is not reachable from the internet.")
    return None


class EndpointForm(forms.Form):
    url = forms.CharField(
        label=_("Endpoint URL"),
        max_length=2048,
        help_text=_("Where we POST the events, for example https://shop.example.org/webhooks/payplatform."),
        widget=forms.URLInput(attrs={"autocomplete": "off", "inputmode": "url"}),
    )
    description = forms.CharField(label=_("Description (optional)"), max_length=200, required=False)
    event_types = forms.MultipleChoiceField(
        label=_("Events to send"),
        choices=WEBHOOK_EVENT_TYPES,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": _("Choose at least one event.")},
    )

    def __init__(self, *args, is_live: bool, **kwargs):
        super().__init__(*args, **kwargs)
        self.is_live = is_live

    def clean_url(self):
        url = self.cleaned_data["url"].strip()
        problem = endpoint_url_problem(url, is_live=self.is_live)
        if problem:
            raise forms.ValidationError(problem)
        return url


class EndpointEventsForm(forms.Form):
    description = forms.CharField(label=_("Description (optional)"), max_length=200, required=False)
    event_types = EndpointForm.base_fields["event_types"]


class DeliveryFilterForm(forms.Form):
    kind = forms.ChoiceField(label=_("Kind"), required=False, choices=[("", _("All")), *Delivery.Kind.choices])
    status = forms.ChoiceField(label=_("Status"), required=False, choices=[("", _("All")), *Delivery.Status.choices])
    event = forms.CharField(label=_("Event or object id"), required=False, max_length=40)


class EmailSubscriptionForm(forms.Form):
    topics = forms.MultipleChoiceField(
        label=_("Email me about"),
        choices=EmailSubscription.Topic.choices,
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )
