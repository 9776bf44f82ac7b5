"""The Django admin of platform staff, behind the same second factor as the dashboard.

`merchants.apps.PlatformAdminConfig` replaces `django.contrib.admin` in INSTALLED_APPS and makes
this site the default one (`admin.site`), so every `@admin.register` lands here. django-otp's
OTPAdminSite only lets in staff whose session was verified by one of their confirmed devices
(TOTP app or backup code): through the dashboard's login (/login/, then /login/otp/) or through
the admin's own login form, which asks for the device and its code. Staff without a device are
refused until they have one (`manage.py addstatictoken <email>` gives a first backup code).
"""

from django_otp.admin import OTPAdminSite


class PlatformAdminSite(OTPAdminSite):
    def __init__(self, name="admin"):
        # "admin", not django-otp's "otpadmin": the URL names stay admin:...
        super().__init__(name)
