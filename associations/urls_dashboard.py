"""Dashboard routes of campaigns (namespace `dashboard`, mounted under /dashboard/)."""

from django.urls import path

from associations import dashboard

urlpatterns = [
    path("campaigns/", dashboard.campaign_list, name="campaigns"),
    path("campaigns/new/", dashboard.campaign_create, name="campaign_create"),
    path("campaigns/<str:campaign_id>/", dashboard.campaign_detail, name="campaign"),
    path("campaigns/<str:campaign_id>/edit/", dashboard.campaign_edit, name="campaign_edit"),
    path("campaigns/<str:campaign_id>/active/", dashboard.campaign_active, name="campaign_active"),
    path("campaigns/<str:campaign_id>/qr.<str:kind>", dashboard.campaign_qr, name="campaign_qr"),
]
