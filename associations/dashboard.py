"""Dashboard pages of campaigns (role MANAGE_LINKS, like payment links): the list with each one's
total raised, donors, recurring donors and goal; create and edit; the detail page with its share
link, QR code, a chart of gifts per day over the last 30 days (server-drawn SVG plus a table) and
the list of gifts. Every query is scoped by the dashboard's merchant and mode: another
merchant's campaign id is a 404."""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from associations import services
from associations.forms import CampaignForm
from associations.models import Campaign
from merchants import roles
from merchants.decorators import dashboard_view
from merchants.services.audit import Actor
from payments import links
from payments.amounts import format_money
from payplug.qr import qr_image

CHART_WIDTH = 600
CHART_HEIGHT = 160
CHART_BAR_GAP = 4


def _campaigns(request):
    return Campaign.objects.for_tenant(request.dashboard.merchant, request.dashboard.is_live)


def _campaign(request, campaign_id) -> Campaign:
    return get_object_or_404(_campaigns(request).select_related("merchant"), public_id=campaign_id)


def chart(series: list[dict]) -> dict:
    """Bars of the gifts per day, as SVG attributes (no inline style: strict CSP)."""
    top = max((row["amount"] for row in series), default=0)
    step = CHART_WIDTH / max(1, len(series))
    bars = []
    for index, row in enumerate(series):
        height = round(row["amount"] * (CHART_HEIGHT - 10) / top) if top else 0
        bars.append(
            {
                **row,
                "x": round(index * step + CHART_BAR_GAP / 2, 1),
                "y": CHART_HEIGHT - height,
                "width": round(step - CHART_BAR_GAP, 1),
                "height": height,
                "amount_display": format_money(row["amount"], "EUR"),
            }
        )
    return {"bars": bars, "width": CHART_WIDTH, "height": CHART_HEIGHT, "has_gifts": top > 0}


@dashboard_view(roles.MANAGE_LINKS)
def campaign_list(request):
    page = Paginator(_campaigns(request).select_related("merchant").order_by("-created_at", "-id"), 50).get_page(
        request.GET.get("page")
    )
    totals = services.progress_of(page.object_list)
    for campaign in page:
        campaign.progress = totals[campaign.pk]
        campaign.share_url = services.public_url(campaign)
        campaign.is_over = services.has_ended(campaign)
    return render(request, "dashboard/campaigns.html", {"page": page})


@dashboard_view(roles.MANAGE_LINKS)
@require_http_methods(["GET", "POST"])
def campaign_create(request):
    merchant, is_live = request.dashboard.merchant, request.dashboard.is_live
    form = CampaignForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        campaign = services.create_campaign(merchant, is_live, Actor.from_request(request), form.fields_for_service())
        messages.success(request, _("Campaign created."))
        return redirect("dashboard:campaign", campaign.public_id)
    return render(request, "dashboard/campaign_form.html", {"form": form, "campaign": None})


@dashboard_view(roles.MANAGE_LINKS)
@require_http_methods(["GET", "POST"])
def campaign_edit(request, campaign_id):
    campaign = _campaign(request, campaign_id)
    posted = request.method == "POST"
    form = CampaignForm(
        request.POST if posted else None, request.FILES if posted else None, initial=CampaignForm.initial_for(campaign)
    )
    if posted and form.is_valid():
        services.update_campaign(campaign, Actor.from_request(request), form.fields_for_service())
        messages.success(request, _("Campaign saved."))
        return redirect("dashboard:campaign", campaign.public_id)
    return render(request, "dashboard/campaign_form.html", {"form": form, "campaign": campaign})


@dashboard_view(roles.MANAGE_LINKS)
def campaign_detail(request, campaign_id):
    campaign = _campaign(request, campaign_id)
    progress = services.progress(campaign)
    gifts = campaign.gifts.select_related("payment", "subscription").order_by("-created_at", "-id")
    page = Paginator(gifts, 50).get_page(request.GET.get("page"))
    for gift in page:
        gift.is_paid = gift.pk in progress.paid_gift_ids
    return render(
        request,
        "dashboard/campaign_detail.html",
        {
            "campaign": campaign,
            "progress": progress,
            "share_url": services.public_url(campaign),
            "is_over": services.has_ended(campaign),
            "frequencies_display": links.frequencies_text(services.frequencies_of(campaign)),
            "suggested_display": [format_money(cents, "EUR") for cents in campaign.suggested_amounts or []],
            "bounds": [format_money(cents, "EUR") for cents in services.amount_bounds(campaign)],
            "chart": chart(services.gifts_per_day(campaign)),
            "page": page,
        },
    )


@dashboard_view(roles.MANAGE_LINKS)
@require_POST
def campaign_active(request, campaign_id):
    campaign = _campaign(request, campaign_id)
    active = request.POST.get("active") == "1"
    services.set_active(campaign, Actor.from_request(request), active)
    messages.success(request, _("Campaign reopened.") if active else _("Campaign closed."))
    return redirect("dashboard:campaign", campaign.public_id)


@dashboard_view(roles.MANAGE_LINKS)
def campaign_qr(request, campaign_id, kind):
    campaign = _campaign(request, campaign_id)
    if kind not in ("svg", "png"):
        raise Http404
    body, content_type = qr_image(services.public_url(campaign), kind, campaign.title)
    response = HttpResponse(body, content_type=content_type)
    if request.GET.get("download"):
        response["Content-Disposition"] = f'attachment; filename="campaign-{campaign.slug}.{kind}"'
    return response
