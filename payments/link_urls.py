"""The public page of payment links (namespace `links`, mounted at /l/)."""

from django.urls import path

from . import link_page

urlpatterns = [
    path("<str:slug>/", link_page.page, name="page"),
]
