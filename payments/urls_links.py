"""Dashboard routes of payment links and the pay button (namespace `dashboard`)."""

from django.urls import path

from . import views_links

urlpatterns = [
    path("links/", views_links.link_list, name="links"),
    path("links/new/", views_links.link_create, name="link_create"),
    path("links/<str:link_id>/", views_links.link_detail, name="link"),
    path("links/<str:link_id>/edit/", views_links.link_edit, name="link_edit"),
    path("links/<str:link_id>/active/", views_links.link_active, name="link_active"),
    path("links/<str:link_id>/qr.<str:kind>", views_links.link_qr, name="link_qr"),
    path("paybutton/", views_links.paybutton, name="paybutton"),
]
