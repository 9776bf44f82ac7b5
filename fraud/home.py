"""The fraud part of the dashboard home's "Needs attention" (registered in fraud/apps.py with
merchants.home): payments held for a review, with the first deadline."""

from __future__ import annotations

from django.db.models import Count, Min
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from fraud.models import Decision
from merchants.home import Attention
from payments.models import Payment
from payplug import dates


def review_items(dashboard) -> list[Attention]:
    """One line for the reviews waiting (one aggregate query on the decisions' tenant index)."""
    waiting = Decision.objects.filter(
        merchant=dashboard.merchant,
        is_live=dashboard.is_live,
        outcome=Decision.Outcome.REVIEW,
        review_outcome="",
        payment__status=Payment.Status.IN_REVIEW,
    ).aggregate(n=Count("id"), first=Min("review_action_at"))
    n = waiting["n"] or 0
    if not n:
        return []
    first = waiting["first"]
    detail = (
        _("Decide by %(deadline)s, or your choice for unreviewed payments applies.")
        % {"deadline": dates.format_datetime(first)}
        if first
        else ""
    )
    return [
        Attention(
            title=ngettext("%(count)d payment waits for your review", "%(count)d payments wait for your review", n)
            % {"count": n},
            url=reverse("dashboard:fraud_reviews"),
            detail=detail,
            due_at=first,
            severity="danger",
        )
    ]
