from django.urls import path

from . import checkout

urlpatterns = [
    path("<str:token>/", checkout.pay, name="pay"),
    path("<str:token>/3ds/", checkout.three_ds, name="three_ds"),
    path("<str:token>/result/", checkout.result, name="result"),
]
