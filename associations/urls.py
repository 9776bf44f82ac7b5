"""A campaign's public page and its QR code (namespace `campaigns`, mounted at /c/ by payplug.urls)."""

from django.urls import path, re_path

from associations import views
from payplug.views import public_not_found

urlpatterns = [
    path("<str:slug>/", views.page, name="page"),
    path("<str:slug>/qr.svg", views.qr, name="qr"),
    re_path(r"^(?:.*/)?$", public_not_found, name="not_found"),
]
