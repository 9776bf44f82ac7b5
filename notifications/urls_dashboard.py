"""Dashboard routes of the notifications app (namespace `dashboard`)."""

from django.urls import path

from notifications import views

urlpatterns = [
    path("developers/webhooks/", views.webhooks, name="webhooks"),
    path("developers/webhooks/ipn-secret/rotate/", views.rotate_ipn_secret, name="webhook_ipn_secret_rotate"),
    path("developers/webhooks/deliveries/", views.deliveries, name="webhook_deliveries"),
    path("developers/webhooks/deliveries/<str:delivery_id>/", views.delivery, name="webhook_delivery"),
    path("developers/webhooks/<str:endpoint_id>/", views.webhook, name="webhook"),
    path("notifications/", views.notification_settings, name="notification_settings"),
]
