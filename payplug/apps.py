from django.apps import AppConfig


class PayplugConfig(AppConfig):
    name = "payplug"
    verbose_name = "Platform core"
