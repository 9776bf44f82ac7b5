from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "notifications"

    def ready(self):
        from merchants import home, roles
        from notifications import home as notifications_home
        from notifications import tasks  # noqa: F401  registers the Celery tasks in every process, eager mode included

        # The dashboard home's "Needs attention": failing webhook endpoints (merchants.home).
        home.register_attention(
            "failing_endpoints",
            notifications_home.failing_endpoint_items,
            permission=roles.MANAGE_WEBHOOKS,
            order=30,
        )
