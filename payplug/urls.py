import os

from django.contrib import admin
from django.urls import include, path, re_path

from merchants.views.accounts import set_language
from payments.checkout import urls as checkout_urls
from payplug import sandbox_webhooks, views
from payplug.api_views import UnknownRoute

dashboard_patterns = [
    path("", include("merchants.urls_dashboard")),
    path("", include("payments.dashboard.urls")),
    path("", include("notifications.urls_dashboard")),
    path("", include("fraud.urls_dashboard")),
    path("", include("associations.urls_dashboard")),
]

urlpatterns = [
    path("test", views.api_liveness),
    path("healthz", views.healthz, name="healthz"),
    path("readyz", views.readyz, name="readyz"),
    path("metrics", views.metrics, name="metrics"),
    # make run (DEBUG) only: test-mode webhooks that need no server of your own (payplug/sandbox_webhooks.py).
    path("sandbox/webhooks/", sandbox_webhooks.receive),
    path("sandbox/webhooks/failing/", sandbox_webhooks.receive, {"failing": True}),
    # Django's set_language, which also saves a logged-in user's choice (User.preferred_language).
    path("i18n/setlang/", set_language, name="set_language"),
    # The default site is merchants.admin_site.PlatformAdminSite: staff need a verified OTP device.
    path("admin/", admin.site.urls),
    path("dashboard/", include((dashboard_patterns, "dashboard"))),
    path("v1/", include("payments.api.urls")),
    re_path(r"^v1(?:/.*)?$", UnknownRoute.as_view()),
    path("pay/", include(("payments.checkout.urls", "checkout"))),
    path("l/", include((checkout_urls.link_urlpatterns, "links"))),
    path("c/", include(("associations.urls", "campaigns"))),
    path("", include("merchants.urls")),
    re_path(r"^$", views.root, name="root"),
]

# Uploaded merchant logos (small public images shown on checkout pages), by exact file name and
# only when a merchant shows it. Nothing else under MEDIA_ROOT has a URL: reports and dispute
# evidence are served by tenant-checked dashboard views or a signed link (issue 12, finding 1).
urlpatterns += [
    path("media/", include("merchants.urls_media")),
    path("media/", include("associations.urls_media")),  # campaign pictures, same rules
]

handler400 = "payplug.views.bad_request"
handler403 = "payplug.views.permission_denied"
handler404 = "payplug.views.page_not_found"
handler500 = "payplug.views.server_error"

# The framework floor of `make bench` (bench/floor.py): mounted only in the benchmark's server.
if os.environ.get("BENCH_FLOOR") == "1":
    from bench.floor import floor_view

    urlpatterns += [path("bench/floor", floor_view)]
