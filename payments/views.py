"""Dashboard pages of the payments app: payments, payment detail, customers, API reference."""

from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, render

from merchants import roles
from merchants.decorators import dashboard_view

from .models import Customer, Payment


def _tenant(request, model):
    return model.objects.for_tenant(request.dashboard.merchant, request.dashboard.is_live)


@dashboard_view(roles.VIEW_PAYMENTS)
def payments(request):
    queryset = _tenant(request, Payment).order_by("-created_at", "-id")
    status = request.GET.get("status")
    if status in Payment.Status.values:
        queryset = queryset.filter(status=status)
    page = Paginator(queryset, 50).get_page(request.GET.get("page"))
    return render(
        request, "dashboard/payments.html", {"page": page, "statuses": Payment.Status.choices, "status": status}
    )


@dashboard_view(roles.VIEW_PAYMENTS)
def payment_detail(request, payment_id):
    payment = get_object_or_404(_tenant(request, Payment), public_id=payment_id)
    return render(
        request,
        "dashboard/payment_detail.html",
        {
            "payment": payment,
            "attempts": payment.attempts.order_by("created_at"),
            "refunds": payment.refunds.order_by("created_at"),
        },
    )


@dashboard_view(roles.VIEW_CUSTOMERS)
def customers(request):
    queryset = _tenant(request, Customer).alive().order_by("-created_at", "-id")
    page = Paginator(queryset, 50).get_page(request.GET.get("page"))
    return render(request, "dashboard/customers.html", {"page": page})


@dashboard_view(roles.VIEW_DEVELOPERS)
def api_reference(request):
    return render(request, "dashboard/api_reference.html")
