from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps


class MerchantsConfig(AppConfig):
    name = "merchants"
    default = True

    def ready(self):
        from merchants import signals

        # Merchant.live_ready follows memberships and second factors (merchants/signals.py).
        signals.connect()


class PlatformAdminConfig(admin_apps.AdminConfig):
    """django.contrib.admin whose default site requires a verified second factor (merchants.admin_site).

    Named in INSTALLED_APPS in place of "django.contrib.admin"; never the default config of merchants.
    """

    default = False
    default_site = "merchants.admin_site.PlatformAdminSite"
