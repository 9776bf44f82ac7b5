"""The dashboard shell: home, organisation switcher, test/live switch."""

from django.contrib import messages
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from merchants import home as home_registry
from merchants.decorators import dashboard_view
from merchants.middleware import SESSION_LIVE, SESSION_MERCHANT


@dashboard_view()
def home(request):
    """The activation checklist, then what the apps above registered (merchants.home): what needs
    attention, the figures, the balance; each for this organisation and mode, as the role allows."""
    merchant = request.dashboard.merchant
    context = {
        "merchant": merchant,
        "attention": home_registry.attention(request.dashboard),
        "panels": home_registry.panels(request.dashboard),
    }
    if not merchant.live_enabled:
        context["missing_fields"] = merchant.missing_profile_fields()
        context["admins_without_2fa"] = merchant.admins_without_two_factor()
    return render(request, "dashboard/home.html", context)


@require_POST
@dashboard_view()
def switch_org(request):
    wanted = request.POST.get("merchant", "")
    for membership in request.dashboard.memberships:
        if membership.merchant.public_id == wanted:
            request.session[SESSION_MERCHANT] = membership.merchant_id
            request.session[SESSION_LIVE] = False
            break
    else:
        messages.error(request, _("You are not a member of that organisation."))
    return redirect("dashboard:home")


@require_POST
@dashboard_view()
def switch_mode(request):
    merchant = request.dashboard.merchant
    if request.POST.get("mode") == "live":
        if not merchant.live_enabled:
            messages.error(
                request,
                _(
                    "Live mode is locked until your profile is complete, every owner and "
                    "admin uses two-factor authentication, and our team has approved "
                    "your account."
                ),
            )
            return redirect("dashboard:home")
        request.session[SESSION_LIVE] = True
    else:
        request.session[SESSION_LIVE] = False
    next_url = request.POST.get("next", "")
    if next_url and url_has_allowed_host_and_scheme(next_url, allowed_hosts={request.get_host()}):
        return redirect(next_url)
    return redirect("dashboard:home")
