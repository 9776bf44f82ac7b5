"""Dashboard pages of the fraud app: overview and chart, review queue, rules and lists, models.

Thin views: parse a form, call fraud.services, render. Every row is read within the dashboard's
(merchant, mode); changes need REVIEW_FRAUD (reviews, fraud reports) or MANAGE_FRAUD (rules,
lists, settings, models).
"""

from __future__ import annotations

import json
from datetime import UTC, timedelta

from django.contrib import messages
from django.core.exceptions import BadRequest, PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.db.models.functions import TruncDate
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from fraud import charts
from fraud import rules as rule_language
from fraud.features import FEATURE_NAMES
from fraud.forms import ListEntryForm, RuleForm, SettingsForm
from fraud.model import DEFAULT_MODEL_DIR
from fraud.models import Decision, Label, ListEntry, ModelVersion, Rule
from fraud.services import labels, lists, model_versions, rule_editing, scoring
from fraud.services import reviews as fraud_reviews  # `reviews` is the review-queue view below
from merchants import roles
from merchants.decorators import dashboard_view
from payments.acquirers.base import AcquirerUnavailable
from payments.models import Payment

CHART_DAYS = 30


def _decisions(request):
    return Decision.objects.filter(merchant=request.dashboard.merchant, is_live=request.dashboard.is_live)


def _require(request, permission):
    if not request.dashboard.can(permission):
        raise PermissionDenied


@dashboard_view(roles.VIEW_FRAUD)
def overview(request):
    now = timezone.now()
    since = (now - timedelta(days=CHART_DAYS - 1)).replace(hour=0, minute=0, second=0, microsecond=0)
    decisions = _decisions(request)
    per_day = (
        decisions.filter(created_at__gte=since)
        .annotate(day=TruncDate("created_at", tzinfo=UTC))
        .values("day")
        .annotate(
            total=Count("id"),
            refused=Count("id", filter=Q(outcome=Decision.Outcome.REFUSE)),
            reviewed=Count("id", filter=Q(outcome=Decision.Outcome.REVIEW)),
        )
    )
    frauds = (
        Label.objects.filter(merchant=request.dashboard.merchant, is_live=request.dashboard.is_live, is_fraud=True)
        .filter(payment__created_at__gte=since)
        .annotate(day=TruncDate("payment__created_at", tzinfo=UTC))
        .values("day")
        .annotate(n=Count("payment", distinct=True))
    )
    by_day = {row["day"]: row for row in per_day}
    fraud_by_day = {row["day"]: row["n"] for row in frauds}
    days = [(since + timedelta(days=i)).date() for i in range(CHART_DAYS)]
    captured = [by_day.get(d, {}).get("total", 0) - by_day.get(d, {}).get("refused", 0)
                - by_day.get(d, {}).get("reviewed", 0) for d in days]  # fmt: skip
    refused = [by_day.get(d, {}).get("refused", 0) for d in days]
    reviewed = [by_day.get(d, {}).get("reviewed", 0) for d in days]
    rate = [fraud_by_day.get(d, 0) / by_day[d]["total"] if by_day.get(d, {}).get("total") else 0.0 for d in days]
    series = [
        ("bar-capture", _("Captured"), captured),
        ("bar-review", _("Sent to review"), reviewed),
        ("bar-refuse", _("Refused"), refused),
    ]
    total = sum(captured) + sum(refused) + sum(reviewed)
    known_frauds = sum(fraud_by_day.values())
    context = {
        "chart": charts.daily_chart(
            days,
            series,
            rate,
            title=_("Payments and fraud decisions per day, last 30 days"),
            rate_label=_("Fraud rate"),
        ),
        "legend": charts.legend(series, _("Fraud rate (known frauds)")),
        "total": total,
        "refused": sum(refused),
        "reviewed": sum(reviewed),
        "known_frauds": known_frauds,
        "fraud_rate": (known_frauds / total * 100) if total else 0,
        "queue": decisions.filter(
            outcome=Decision.Outcome.REVIEW, review_outcome="", payment__status=Payment.Status.IN_REVIEW
        ).count(),
        "recent": decisions.select_related("payment").order_by("-created_at")[:10],
        "model_version": scoring.active_model()[1],
    }
    return render(request, "dashboard/fraud.html", context)


@dashboard_view(roles.VIEW_FRAUD)
def reviews(request):
    queue = (
        _decisions(request)
        .filter(outcome=Decision.Outcome.REVIEW, review_outcome="", payment__status=Payment.Status.IN_REVIEW)
        .select_related("payment")
        .order_by("review_action_at", "created_at")
    )
    done = _decisions(request).exclude(review_outcome="").select_related("payment", "reviewed_by")
    context = {
        "page": Paginator(queue, 25).get_page(request.GET.get("page")),
        "done": done.order_by("-reviewed_at")[:20],
        "settings": fraud_reviews.settings_of(request.dashboard.merchant.pk),
    }
    return render(request, "dashboard/fraud_reviews.html", context)


@require_POST
@dashboard_view(roles.REVIEW_FRAUD)
def review(request, payment_id):
    decision = get_object_or_404(_decisions(request), payment__public_id=payment_id)
    action = request.POST.get("action")
    if action not in ("approve", "reject"):
        raise BadRequest("unknown action")
    try:
        fraud_reviews.review(decision.pk, approve=action == "approve", user=request.user)
    except fraud_reviews.ReviewError:
        messages.error(request, _("This payment is no longer waiting for a review."))
    except AcquirerUnavailable:
        messages.error(request, _("The bank could not be reached: nothing changed, please try again."))
    else:
        if action == "approve":
            messages.success(request, _("Payment %(id)s approved: it is being captured.") % {"id": payment_id})
        else:
            messages.success(request, _("Payment %(id)s rejected: the authorisation is voided.") % {"id": payment_id})
    if request.POST.get("next") == "payment":
        return redirect("dashboard:payment", payment_id)
    return redirect("dashboard:fraud_reviews")


@require_POST
@dashboard_view(roles.REVIEW_FRAUD)
def report(request, payment_id):
    payment = get_object_or_404(
        Payment.objects.for_tenant(request.dashboard.merchant, request.dashboard.is_live), public_id=payment_id
    )
    if labels.report_fraud(payment, user=request.user) is None:
        messages.info(request, _("This payment was already reported as fraudulent."))
    else:
        messages.success(request, _("Thank you: the payment is recorded as fraudulent and teaches the fraud checks."))
    return redirect("dashboard:payment", payment.public_id)


@dashboard_view(roles.VIEW_FRAUD)
def rules(request):
    dashboard = request.dashboard
    merchant, is_live = dashboard.merchant, dashboard.is_live
    rule_form = RuleForm(prefix="rule")
    dry_form = RuleForm(prefix="dry")
    list_form = ListEntryForm(prefix="list")
    settings_form = SettingsForm(instance=fraud_reviews.settings_of(merchant.pk), prefix="settings")
    dry = None
    if request.method == "POST":
        action = request.POST.get("action")
        if action == "dry_run":
            dry_form = RuleForm(request.POST, prefix="dry")
            if dry_form.is_valid():
                dry = rule_editing.dry_run(merchant, is_live, dry_form.cleaned_data["source"])
        else:
            _require(request, roles.MANAGE_FRAUD)
            response = _change_rules(request, action, merchant, is_live)
            if isinstance(response, tuple):
                rule_form, list_form, settings_form = (
                    response[0] or rule_form,
                    response[1] or list_form,
                    response[2] or settings_form,
                )
            else:
                return response
    own = scoring.merchant_rules(merchant, is_live)
    context = {
        "own_rules": own,
        "default_rules": rule_language.DEFAULT_RULES if own is None else None,
        "rule_form": rule_form,
        "dry_form": dry_form,
        "dry": dry,
        "list_form": list_form,
        "settings_form": settings_form,
        "allow_entries": ListEntry.objects.for_tenant(merchant, is_live).filter(list=ListEntry.List.ALLOW),
        "block_entries": ListEntry.objects.for_tenant(merchant, is_live).filter(list=ListEntry.List.BLOCK),
        "feature_names": FEATURE_NAMES,
        "context_names": sorted(rule_language.CONTEXT_NAMES),
        "can_manage": dashboard.can(roles.MANAGE_FRAUD),
    }
    return render(request, "dashboard/fraud_rules.html", context)


def _change_rules(request, action, merchant, is_live):
    """One POST of the rules page; returns a redirect, or the bound forms to show their errors."""
    done = redirect("dashboard:fraud_rules")
    if action == "add_rule":
        form = RuleForm(request.POST, prefix="rule")
        if not form.is_valid():
            return form, None, None
        rule_editing.add_rule(merchant, is_live, form.cleaned_data["source"], form.cleaned_data["description"])
        messages.success(request, _("The rule was added at the end of the list."))
        return done
    if action in ("enable", "disable", "delete", "up", "down"):
        rule_editing.ensure_own_rules(merchant, is_live)
        rule = _own_rule(request, merchant, is_live)
        if action == "delete":
            rule_editing.delete_rule(rule)
            messages.success(request, _("The rule was deleted."))
        elif action in ("up", "down"):
            rule_editing.move_rule(rule, up=action == "up")
        else:
            rule_editing.update_rule(rule, is_enabled=action == "enable")
        return done
    if action == "use_defaults":
        Rule.objects.for_tenant(merchant, is_live).delete()
        messages.success(request, _("The shipped default rules apply again."))
        return done
    if action == "add_entry":
        form = ListEntryForm(request.POST, prefix="list")
        if not form.is_valid():
            return None, form, None
        data = form.cleaned_data
        lists.add_list_entry(merchant, is_live, data["list"], data["kind"], data["value"], data["note"], request.user)
        messages.success(request, _("The list entry was added."))
        return done
    if action == "delete_entry":
        entry = get_object_or_404(ListEntry.objects.for_tenant(merchant, is_live), pk=request.POST.get("entry"))
        entry.delete()
        messages.success(request, _("The list entry was removed."))
        return done
    if action == "settings":
        form = SettingsForm(request.POST, instance=fraud_reviews.settings_of(merchant.pk), prefix="settings")
        if not form.is_valid():
            return None, None, form
        form.save()
        messages.success(request, _("The review settings were saved."))
        return done
    raise BadRequest("unknown action")


def _own_rule(request, merchant, is_live) -> Rule:
    """The rule a button names: by id, or by position among the (just copied) defaults."""
    position = request.POST.get("default_index")
    rows = Rule.objects.for_tenant(merchant, is_live).order_by("position", "id")
    if position is not None and not request.POST.get("rule"):
        try:
            return rows[int(position)]
        except (ValueError, IndexError):
            raise BadRequest("unknown rule") from None
    return get_object_or_404(rows, pk=request.POST.get("rule"))


@dashboard_view(roles.VIEW_FRAUD)
def models_view(request):
    if request.method == "POST":
        _require(request, roles.MANAGE_FRAUD)
        if not request.user.is_staff:
            # Model versions are platform-wide: only platform staff switch them.
            raise PermissionDenied
        name = request.POST.get("version")
        version = None if name == "default" else get_object_or_404(ModelVersion, name=name)
        model_versions.activate(version)
        messages.success(request, _("The active model was changed."))
        return redirect("dashboard:fraud_models")
    default_meta = json.loads((DEFAULT_MODEL_DIR / "meta.json").read_text())
    context = {
        "versions": ModelVersion.objects.all()[:50],
        "default_meta": default_meta,
        "active": scoring.active_model()[1],
        "can_switch": request.user.is_staff and request.dashboard.can(roles.MANAGE_FRAUD),
    }
    return render(request, "dashboard/fraud_models.html", context)


def risk_panel_context(payment, request=None) -> dict:
    """What fragment_risk_panel.html shows (for views that render it themselves)."""
    decision = Decision.objects.filter(payment=payment).first()
    return {"payment": payment, "decision": decision}
