"""What shoppers open, without login or API key: the hosted checkout (`urlpatterns`, namespace
`checkout`, mounted at /pay/) and the payment-link pages (`link_urlpatterns`, namespace `links`,
mounted at /l/).

Each list ends with a route for any other address ending in "/" (one without is first sent there
by APPEND_SLASH): shoppers get our "page not found" even with DEBUG on, never Django's debug page
listing the URL patterns (issue 12, finding 21)."""

from django.urls import path, re_path

from payments.checkout import buttons, link_page, page, subscriber
from payplug.views import public_not_found

ANY_OTHER = r"^(?:.*/)?$"

urlpatterns = [
    path("brand/<str:merchant_id>.css", page.brand_css, name="brand_css"),
    path("button/<str:key>/", buttons.create_session, name="button_session"),
    path("subscription/<str:token>/", subscriber.manage, name="subscriber"),
    path("subscription/<str:token>/cancel/", subscriber.cancel, name="subscriber_cancel"),
    path("<str:token>/", page.pay, name="pay"),
    path("<str:token>/3ds/", page.three_ds, name="three_ds"),
    path("<str:token>/result/", page.result, name="result"),
    re_path(ANY_OTHER, public_not_found, name="not_found"),
]

link_urlpatterns = [
    path("<str:slug>/", link_page.page, name="page"),
    re_path(ANY_OTHER, public_not_found, name="not_found"),
]
