"""Dashboard routes of the payments app (namespace `dashboard`): payments, customers, balance,
disputes, payment links and the pay button."""

from django.urls import path

from payments.dashboard import installments, links, subscriptions, views

urlpatterns = [
    path("payments/", views.payments, name="payments"),
    path("payments/export.csv", views.payments_export, name="payments_export"),
    path("payments/<str:payment_id>/", views.payment_detail, name="payment"),
    path("payments/<str:payment_id>/refund/", views.refund_confirm, name="payment_refund"),
    path("payments/<str:payment_id>/simulate-chargeback/", views.simulate_chargeback, name="payment_chargeback"),
    path("installment-plans/", installments.plan_list, name="installment_plans"),
    path("installment-plans/<str:plan_id>/", installments.plan_detail, name="installment_plan"),
    path("installment-plans/<str:plan_id>/abort/", installments.plan_abort, name="installment_plan_abort"),
    path("installment-plans/<str:plan_id>/test-clock/", installments.plan_test_clock, name="installment_plan_clock"),
    path("subscriptions/", subscriptions.subscription_list, name="subscriptions"),
    path("subscriptions/<str:sub_id>/", subscriptions.subscription_detail, name="subscription"),
    path("subscriptions/<str:sub_id>/pause/", subscriptions.subscription_pause, name="subscription_pause"),
    path("subscriptions/<str:sub_id>/resume/", subscriptions.subscription_resume, name="subscription_resume"),
    path("subscriptions/<str:sub_id>/cancel/", subscriptions.subscription_cancel, name="subscription_cancel"),
    path("subscriptions/<str:sub_id>/test-clock/", subscriptions.subscription_test_clock, name="subscription_clock"),
    path("customers/", views.customers, name="customers"),
    path("customers/<str:customer_id>/", views.customer_detail, name="customer"),
    path("balance/", views.balance, name="balance"),
    path("balance/payouts/<str:payout_id>/", views.payout_detail, name="payout"),
    path("balance/reports/", views.accounting_export, name="accounting_export"),
    path("balance/reports/<str:report_id>/download/", views.accounting_download, name="accounting_download"),
    path("reports/files/<str:token>/", views.accounting_report_file, name="accounting_report_file"),
    path("disputes/", views.dispute_list, name="disputes"),
    path("disputes/<str:dispute_id>/", views.dispute_detail, name="dispute"),
    path("disputes/<str:dispute_id>/evidence/<int:evidence_id>/", views.dispute_evidence, name="dispute_evidence"),
    path("developers/api/", views.api_reference, name="api_reference"),
    path("links/", links.link_list, name="links"),
    path("links/new/", links.link_create, name="link_create"),
    path("links/<str:link_id>/", links.link_detail, name="link"),
    path("links/<str:link_id>/edit/", links.link_edit, name="link_edit"),
    path("links/<str:link_id>/active/", links.link_active, name="link_active"),
    path("links/<str:link_id>/qr.<str:kind>", links.link_qr, name="link_qr"),
    path("paybutton/", links.paybutton, name="paybutton"),
]
