"""The form that makes a password for an e-commerce plugin (merchants.services.plugin_passwords)."""

from __future__ import annotations

from django import forms
from django.contrib.auth import authenticate
from django.utils.translation import gettext_lazy as _

from merchants.services.plugin_passwords import NAME_MAX_LENGTH


class PluginPasswordForm(forms.Form):
    """A name for the new password, and the account password again: proof that the person at the
    screen is the user, not someone at a session left open.

    The account password is checked through django.contrib.auth.authenticate, so wrong ones count
    towards the login lockout (django-axes) like on the login page.
    """

    name = forms.CharField(
        label=_("Name"),
        max_length=NAME_MAX_LENGTH,
        help_text=_("What it is for, such as “WooCommerce, my shop”: you see it in the list, to revoke it later."),
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )
    password = forms.CharField(
        label=_("Your account password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )

    def __init__(self, *args, request, **kwargs):
        self.request = request
        super().__init__(*args, **kwargs)

    def clean_name(self) -> str:
        name = " ".join(self.cleaned_data["name"].split())
        if not name:
            raise forms.ValidationError(_("Enter a name."), code="required")
        return name

    def clean_password(self) -> str:
        password = self.cleaned_data["password"]
        user = self.request.user
        checked = authenticate(self.request, username=user.email, password=password)
        if getattr(self.request, "axes_locked_out", False):
            self.request.axes_locked_out = False  # answered on this form, not by axes' lockout page
            raise forms.ValidationError(
                _("Too many wrong passwords: try again later."),
                code="locked",
            )
        if checked is None or checked.pk != user.pk:
            raise forms.ValidationError(_("The password is not correct."), code="invalid")
        return password
