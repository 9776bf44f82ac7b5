"""What donors see, without login: a campaign's page (/c/<slug>/), its QR code, its picture.

The page works without JavaScript: a plain form posted to itself, errors next to the fields
(status 400, nothing created), then a 303 to the hosted page of the new payment or subscription.
After its end date (or once deactivated) the page still tells the story and the progress but
says the campaign is over and takes no gift.
"""

from __future__ import annotations

import os
import re

from django.http import FileResponse, Http404, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_safe

from associations import services, story
from associations.forms import GiftForm
from associations.models import Campaign
from payments import amounts, display
from payments import services as payment_services
from payments.checkout import guards
from payments.checkout.page import brand_css_url
from payments.errors import MerchantUnavailable, PaymentError
from payplug.client import client_ip
from payplug.qr import qr_image
from payplug.views import shopper_not_found

PICTURE_DIR = "campaigns"
PICTURE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,99}\.(?:png|jpg|jpeg)")
CONTENT_TYPES = {"png": "image/png", "jpg": "image/jpeg", "jpeg": "image/jpeg"}
# Picture names are never reused (a new upload gets a new random name): a day of caching is safe.
PICTURE_CACHE_CONTROL = "public, max-age=86400"


def _campaign(slug) -> Campaign:
    campaign = Campaign.objects.select_related("merchant").filter(slug=slug).first()
    if campaign is None:
        raise Http404
    return campaign


def _see_other(url):
    response = HttpResponseRedirect(url)
    response.status_code = 303
    return response


def _context(campaign: Campaign, language: str) -> dict:
    paid = services.progress(campaign)
    low, high = services.amount_bounds(campaign)
    return {
        "campaign": campaign,
        "merchant": campaign.merchant,
        "is_test": not campaign.is_live,
        "brand_css_url": brand_css_url(campaign.merchant),
        "story_html": story.render(campaign.story),
        "progress": paid,
        "raised_text": amounts.format_amount(paid.raised, "EUR", language),
        "goal_text": amounts.format_amount(campaign.goal, "EUR", language) if campaign.goal else None,
        "donors": services.public_donors(campaign, paid),
        "share_url": services.public_url(campaign),
        "is_over": not services.is_open(campaign),
        "bounds": (amounts.format_amount(low, "EUR", language), amounts.format_amount(high, "EUR", language)),
    }


def _render(request, context, status):
    response = render(request, "associations/campaign.html", context, status=status)
    response["Cache-Control"] = "no-store"
    return response


@shopper_not_found
@never_cache
@require_http_methods(["GET", "POST"])
def page(request, slug):
    campaign = _campaign(slug)
    language = display.shopper_language(request)
    with translation.override(language):
        context = _context(campaign, language)
        if context["is_over"]:
            return _render(request, context, 410 if request.method == "POST" else 200)
        if payment_services.merchant_refusal(campaign.merchant, campaign.is_live) is not None:
            response = render(request, "checkout/unavailable.html", context, status=403)
            response["Cache-Control"] = "no-store"
            return response
        country = guards.blocked_country(request, campaign.merchant)
        if country:
            return render(request, "checkout/blocked.html", {**context, "country": country}, status=403)
        form = GiftForm(request.POST or None, campaign=campaign, language=language)
        status = 200
        if request.method == "POST":
            if form.is_valid():
                limit = guards.payment_creation(request, "campaign")
                if not limit.allowed:
                    response = render(
                        request,
                        "checkout/too_many.html",
                        {**context, "retry_minutes": max(1, limit.retry_after // 60)},
                        status=429,
                    )
                    response["Retry-After"] = str(limit.retry_after)
                    return response
                try:
                    return _see_other(services.start_gift(campaign, form.donor(), client_ip(request), language))
                except services.CampaignClosed:
                    return _render(request, {**context, "is_over": True}, 410)
                except MerchantUnavailable:
                    return render(request, "checkout/unavailable.html", context, status=403)
                except PaymentError as refusal:
                    if refusal.code == "feature_not_enabled":  # live mode without saved cards
                        form.add_error(
                            "frequency" if "frequency" in form.fields else None,
                            _("This association cannot take monthly or yearly gifts yet."),
                        )
                    else:
                        field = next(iter(refusal.details or {}), None)
                        where = {"amount": "other_amount"}.get(field, field)
                        form.add_error(
                            where if where in form.fields else None,
                            _("This gift cannot be started: check the amount and your details."),
                        )
            form.describe_errors()
            status = 400
        return _render(request, {**context, "form": form}, status)


@shopper_not_found
@require_safe
def qr(request, slug):
    campaign = _campaign(slug)
    body, content_type = qr_image(services.public_url(campaign), "svg", campaign.title)
    response = HttpResponse(body, content_type=content_type)
    response["Cache-Control"] = "public, max-age=3600"
    return response


@require_safe
def picture(request, name: str):
    """A campaign's picture, by exact file name, under the rules of merchant logos
    (merchants.views.branding): only a name a campaign shows, only a file inside MEDIA_ROOT/campaigns."""
    if not PICTURE_NAME.fullmatch(name):
        raise Http404
    stored = f"{PICTURE_DIR}/{name}"
    campaign = Campaign.objects.filter(picture=stored).only("pk", "picture").first()
    if campaign is None:
        raise Http404
    storage = campaign.picture.storage
    directory = os.path.realpath(storage.path(PICTURE_DIR))
    path = os.path.realpath(storage.path(stored))
    if os.path.dirname(path) != directory or not os.path.isfile(path):
        raise Http404
    response = FileResponse(open(path, "rb"), content_type=CONTENT_TYPES[name.rsplit(".", 1)[1]])  # noqa: SIM115  FileResponse closes it
    response["Cache-Control"] = PICTURE_CACHE_CONTROL
    return response
