"""Public checkout routes (namespace `checkout`, mounted at /pay/): no login, no API key."""

from django.urls import path

from . import buttons, checkout

urlpatterns = [
    path("brand/<str:merchant_id>.css", checkout.brand_css, name="brand_css"),
    path("button/<str:key>/", buttons.create_session, name="button_session"),
    path("<str:token>/", checkout.pay, name="pay"),
    path("<str:token>/3ds/", checkout.three_ds, name="three_ds"),
    path("<str:token>/result/", checkout.result, name="result"),
]
