"""Dashboard routes of the payments app (namespace `dashboard`)."""

from django.urls import path

from . import views

urlpatterns = [
    path("payments/", views.payments, name="payments"),
    path("payments/export.csv", views.payments_export, name="payments_export"),
    path("payments/<str:payment_id>/", views.payment_detail, name="payment"),
    path("payments/<str:payment_id>/refund/", views.refund_confirm, name="payment_refund"),
    path("payments/<str:payment_id>/simulate-chargeback/", views.simulate_chargeback, name="payment_chargeback"),
    path("customers/", views.customers, name="customers"),
    path("customers/<str:customer_id>/", views.customer_detail, name="customer"),
    path("balance/", views.balance, name="balance"),
    path("balance/payouts/<str:payout_id>/", views.payout_detail, name="payout"),
    path("balance/reports/", views.accounting_export, name="accounting_export"),
    path("balance/reports/<str:report_id>/download/", views.accounting_download, name="accounting_download"),
    path("reports/files/<str:token>/", views.accounting_report_file, name="accounting_report_file"),
    path("disputes/", views.dispute_list, name="disputes"),
    path("disputes/<str:dispute_id>/", views.dispute_detail, name="dispute"),
    path("developers/api/", views.api_reference, name="api_reference"),
]
