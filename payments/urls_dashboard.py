"""Dashboard routes of the payments app (namespace `dashboard`)."""

from django.urls import path

from . import views

urlpatterns = [
    path("payments/", views.payments, name="payments"),
    path("payments/<str:payment_id>/", views.payment_detail, name="payment"),
    path("customers/", views.customers, name="customers"),
    path("developers/api/", views.api_reference, name="api_reference"),
]
