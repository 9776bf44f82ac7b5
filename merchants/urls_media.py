"""Routes under /media/ (mounted by payplug.urls): merchant logos only, by exact file name.

Private uploads (accounting reports, dispute evidence) have no route here: they are served by the
dashboard's tenant-checked views and the reports' signed link.
"""

from django.urls import re_path

from merchants.views import branding

urlpatterns = [
    re_path(r"^logos/(?P<name>[A-Za-z0-9][A-Za-z0-9_-]{0,99}\.(?:png|jpg|jpeg))$", branding.logo, name="media_logo"),
]
