from django.apps import AppConfig


class PayplugConfig(AppConfig):
    name = "payplug"
    verbose_name = "Platform core"

    def ready(self):
        from payplug import checks  # noqa: F401  registers the system checks
