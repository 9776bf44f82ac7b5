"""Forms of the team, developers and audit pages. They parse input; merchants.services decides."""

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from merchants.models import Membership
from merchants.roles import PERMISSIONS


def _role_choices(roles: list[str]) -> list[tuple[str, str]]:
    return [(value, label) for value, label in Membership.Role.choices if value in roles]


class InviteForm(forms.Form):
    email = forms.EmailField(label=_("Email address"), max_length=254)
    role = forms.ChoiceField(label=_("Role"))

    def __init__(self, *args, roles: list[str], **kwargs):
        super().__init__(*args, **kwargs)
        # Only the roles the inviter may hand out (merchants.roles.assignable_roles): anything else
        # posted by hand is "not one of the available choices".
        self.fields["role"].choices = _role_choices(roles)
        # Least privilege: the form starts on the offered role that may do the least.
        if roles:
            self.fields["role"].initial = min(roles, key=lambda role: len(PERMISSIONS.get(role, ())))
        self.fields["email"].widget.attrs["autocomplete"] = "off"


class ChangeRoleForm(forms.Form):
    role = forms.ChoiceField(label=_("Role"))

    def __init__(self, *args, roles: list[str], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["role"].choices = _role_choices(roles)


class CreateApiKeyForm(forms.Form):
    name = forms.CharField(
        label=_("Name (optional)"),
        max_length=60,
        required=False,
        help_text=_("To recognise the key later, for example “Shop server”."),
    )


GRACE_HOURS_CHOICES = [
    (0, _("None: the old key stops working now")),
    (1, _("1 hour")),
    (24, _("24 hours")),
    (72, _("3 days")),
    (168, _("7 days")),
]


class RollApiKeyForm(forms.Form):
    grace_hours = forms.TypedChoiceField(
        label=_("Keep the old key working for"),
        choices=GRACE_HOURS_CHOICES,
        coerce=int,
        help_text=_("Time to deploy the new key before the old one stops working."),
    )

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("initial", {"grace_hours": settings.API_KEY_ROLL_GRACE_HOURS})
        super().__init__(*args, **kwargs)


class AuditFilterForm(forms.Form):
    action = forms.CharField(
        label=_("Action starts with"),
        max_length=64,
        required=False,
        help_text=_("For example “api_key” or “team.invited”."),
    )
