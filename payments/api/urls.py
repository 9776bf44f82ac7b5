"""Routes of the v1 API. No trailing slash, but one is accepted and never redirected (spec §1)."""

from django.urls import re_path
from drf_spectacular.renderers import OpenApiJsonRenderer, OpenApiYamlRenderer
from drf_spectacular.views import SpectacularAPIView

from payments.api import account, installments, reports, subscriptions, views

ID = r"(?P<{}>[^/]+)"

urlpatterns = [
    re_path(r"^payments/?$", views.PaymentListCreate.as_view(), name="api_payments"),
    re_path(rf"^payments/{ID.format('payment_id')}/?$", views.PaymentDetail.as_view(), name="api_payment"),
    re_path(rf"^payments/{ID.format('payment_id')}/refunds/?$", views.RefundListCreate.as_view(), name="api_refunds"),
    re_path(
        rf"^payments/{ID.format('payment_id')}/refunds/{ID.format('refund_id')}/?$",
        views.RefundDetail.as_view(),
        name="api_refund",
    ),
    re_path(r"^customers/?$", views.CustomerListCreate.as_view(), name="api_customers"),
    re_path(rf"^customers/{ID.format('customer_id')}/?$", views.CustomerDetail.as_view(), name="api_customer"),
    re_path(rf"^customers/{ID.format('customer_id')}/cards/?$", views.CustomerCards.as_view(), name="api_cards"),
    re_path(
        rf"^customers/{ID.format('customer_id')}/cards/{ID.format('card_id')}/?$",
        views.CustomerCardDetail.as_view(),
        name="api_customer_card",
    ),
    re_path(rf"^cards/{ID.format('card_id')}/?$", views.CardDetail.as_view(), name="api_card"),
    re_path(r"^accounting_reports/?$", reports.AccountingReportCreate.as_view(), name="api_accounting_reports"),
    re_path(
        rf"^accounting_reports/{ID.format('report_id')}/?$",
        reports.AccountingReportDetail.as_view(),
        name="api_accounting_report",
    ),
    re_path(r"^installment_plans/?$", installments.InstallmentPlanCreate.as_view(), name="api_installment_plans"),
    re_path(
        rf"^installment_plans/{ID.format('installment_plan_id')}/?$",
        installments.InstallmentPlanDetail.as_view(),
        name="api_installment_plan",
    ),
    re_path(
        rf"^installment_plans/{ID.format('installment_plan_id')}/test_clock/?$",
        installments.InstallmentPlanTestClock.as_view(),
        name="api_installment_plan_test_clock",
    ),
    re_path(r"^subscriptions/?$", subscriptions.SubscriptionListCreate.as_view(), name="api_subscriptions"),
    re_path(
        rf"^subscriptions/{ID.format('subscription_id')}/?$",
        subscriptions.SubscriptionDetail.as_view(),
        name="api_subscription",
    ),
    re_path(
        rf"^subscriptions/{ID.format('subscription_id')}/test_clock/?$",
        subscriptions.SubscriptionTestClock.as_view(),
        name="api_subscription_test_clock",
    ),
    re_path(r"^account/?$", account.AccountDetail.as_view(), name="api_account"),
    re_path(r"^keys/?$", account.KeysLogin.as_view(), name="api_keys"),
    re_path(r"^publishable_keys/?$", account.PublishableKeyCreate.as_view(), name="api_publishable_keys"),
]


class SchemaView(SpectacularAPIView):
    """`GET /v1/schema`: the OpenAPI 3 document, JSON by default, `?format=yaml` for YAML."""

    authentication_classes = []
    permission_classes = []
    renderer_classes = [OpenApiJsonRenderer, OpenApiYamlRenderer]


urlpatterns.insert(0, re_path(r"^schema/?$", SchemaView.as_view(), name="api_schema"))
