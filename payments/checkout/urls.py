"""What shoppers open, without login or API key: the hosted checkout (`urlpatterns`, namespace
`checkout`, mounted at /pay/) and the payment-link pages (`link_urlpatterns`, namespace `links`,
mounted at /l/)."""

from django.urls import path

from payments.checkout import buttons, link_page, page

urlpatterns = [
    path("brand/<str:merchant_id>.css", page.brand_css, name="brand_css"),
    path("button/<str:key>/", buttons.create_session, name="button_session"),
    path("<str:token>/", page.pay, name="pay"),
    path("<str:token>/3ds/", page.three_ds, name="three_ds"),
    path("<str:token>/result/", page.result, name="result"),
]

link_urlpatterns = [
    path("<str:slug>/", link_page.page, name="page"),
]
