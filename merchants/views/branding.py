"""The one public file under /media/: a merchant's logo, shown on its hosted payment pages.

Everything else under MEDIA_ROOT is private (accounting reports, dispute evidence) and is served
only by views that check the merchant or a signed link (payments.dashboard.views). So this view
serves a file only when all of these hold (issue 12, finding 1: `/media/logos/../reports/...`
used to return accounting reports to anyone):

* the name is one plain file name (LOGO_NAME: no separator, no dot-dot, a png/jpg extension);
* a merchant's `logo` field names exactly `logos/<name>` (what is shown is what is public);
* the file, with every symbolic link resolved, is a regular file directly inside MEDIA_ROOT/logos.
"""

import os
import re

from django.http import FileResponse, Http404
from django.views.decorators.http import require_safe

from merchants.models import Merchant

LOGO_DIR = "logos"
# Names the branding form gives (16 hex digits, .png or .jpg), the storage's de-duplicating suffix
# (`_abc1234`) and names set by hand; never a separator, never `..`.
LOGO_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,99}\.(?:png|jpg|jpeg)")
CONTENT_TYPES = {"png": "image/png", "jpg": "image/jpeg", "jpeg": "image/jpeg"}
# Logo names are never reused (a new upload gets a new random name): a day of caching is safe.
CACHE_CONTROL = "public, max-age=86400"


@require_safe
def logo(request, name: str):
    if not LOGO_NAME.fullmatch(name):
        raise Http404
    stored = f"{LOGO_DIR}/{name}"
    merchant = Merchant.objects.filter(logo=stored).only("pk", "logo").first()
    if merchant is None:
        raise Http404
    storage = merchant.logo.storage
    directory = os.path.realpath(storage.path(LOGO_DIR))
    path = os.path.realpath(storage.path(stored))
    if os.path.dirname(path) != directory or not os.path.isfile(path):
        raise Http404
    response = FileResponse(open(path, "rb"), content_type=CONTENT_TYPES[name.rsplit(".", 1)[1]])  # noqa: SIM115  FileResponse closes it
    response["Cache-Control"] = CACHE_CONTROL
    return response
