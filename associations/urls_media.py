"""Campaign pictures under /media/campaigns/ (mounted by payplug.urls), by exact file name only."""

from django.urls import re_path

from associations import views

urlpatterns = [
    re_path(
        r"^campaigns/(?P<name>[A-Za-z0-9][A-Za-z0-9_-]{0,99}\.(?:png|jpg|jpeg))$", views.picture, name="media_campaign"
    ),
]
