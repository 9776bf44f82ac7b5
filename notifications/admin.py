"""Read-mostly admin for operators: events, deliveries with their attempts, endpoints.

Signing secrets never appear here (they are encrypted; the dashboard shows them once)."""

from django.contrib import admin

from notifications.models import Delivery, DeliveryAttempt, EmailSubscription, Event, WebhookEndpoint


@admin.register(Event)
class EventAdmin(admin.ModelAdmin):
    list_display = ("public_id", "type", "object_id", "merchant", "is_live", "created_at", "dispatched_at")
    list_filter = ("type", "is_live")
    search_fields = ("public_id", "object_id")
    readonly_fields = [f.name for f in Event._meta.fields]


class DeliveryAttemptInline(admin.TabularInline):
    model = DeliveryAttempt
    extra = 0
    can_delete = False
    readonly_fields = ("number", "started_at", "status_code", "succeeded", "latency_ms", "response_body", "error")


@admin.register(Delivery)
class DeliveryAdmin(admin.ModelAdmin):
    list_display = ("public_id", "kind", "status", "attempts", "last_status_code", "next_attempt_at", "created_at")
    list_filter = ("kind", "status", "is_live")
    search_fields = ("public_id", "event__public_id", "event__object_id", "target")
    readonly_fields = ("event", "merchant", "endpoint", "recipient", "target_key", "target", "created_at")
    inlines = [DeliveryAttemptInline]


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(admin.ModelAdmin):
    list_display = ("public_id", "url", "merchant", "is_live", "is_enabled", "failing_since", "created_at")
    list_filter = ("is_live", "is_enabled")
    search_fields = ("public_id", "url")
    exclude = ("secret_encrypted", "previous_secret_encrypted")
    readonly_fields = ("secret_key_version", "previous_secret_key_version", "previous_secret_expires_at")


@admin.register(EmailSubscription)
class EmailSubscriptionAdmin(admin.ModelAdmin):
    list_display = ("user", "merchant", "is_live", "topics", "last_summary_date")
