"""Team, developers (API keys) and audit log pages of the dashboard.

Thin views: parse a form, check what the current role may do, call merchants.services, render.
Every object is looked up within the current merchant (and, for keys, the current mode), so an
id of another organisation answers 404 exactly like an id that never existed.
"""

import logging
import smtplib

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import BadRequest, PermissionDenied
from django.core.mail import EmailMultiAlternatives
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import add_never_cache_headers
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST, require_safe

from merchants.decorators import dashboard_view
from merchants.forms.team import AuditFilterForm, ChangeRoleForm, CreateApiKeyForm, InviteForm, RollApiKeyForm
from merchants.middleware import SESSION_LIVE, SESSION_MERCHANT
from merchants.models import ApiKey, AuditLog, Invitation, Membership
from merchants.roles import MANAGE_KEYS, MANAGE_TEAM, VIEW_AUDIT, VIEW_DEVELOPERS, VIEW_TEAM, assignable_roles
from merchants.services import team as team_services  # the module; `team` below is this page's view
from merchants.services.audit import Actor, describe
from merchants.services.errors import MerchantError
from merchants.services.keys import create_api_key, revoke_api_key, roll_api_key

logger = logging.getLogger(__name__)

Role = Membership.Role
AUDIT_PAGE_SIZE = 50


def _require(request, permission: str) -> None:
    """For views whose page is readable more widely than its forms may be posted."""
    if not request.dashboard.can(permission):
        raise PermissionDenied


def _may_manage(request, membership: Membership) -> bool:
    """Team managers act on members; only owners act on owners (an admin cannot change an owner)."""
    dashboard = request.dashboard
    return dashboard.can(MANAGE_TEAM) and (membership.role != Role.OWNER or dashboard.role == Role.OWNER)


# --- team ----------------------------------------------------------------------------------


@dashboard_view(VIEW_TEAM)
def team(request):
    dashboard = request.dashboard
    roles = assignable_roles(dashboard.role)
    form = InviteForm(roles=roles)
    if request.method == "POST":
        _require(request, MANAGE_TEAM)
        form = InviteForm(request.POST, roles=roles)
        if form.is_valid():
            try:
                invitation, token = team_services.invite_member(
                    dashboard.merchant,
                    form.cleaned_data["email"],
                    form.cleaned_data["role"],
                    Actor.from_request(request),
                )
            except MerchantError as exc:
                form.add_error("email", str(exc))
            else:
                _send_invitation(request, invitation, token)
                return redirect("dashboard:team")
    return _render_team(request, form)


def _render_team(request, invite_form):
    dashboard = request.dashboard
    merchant = dashboard.merchant
    members = list(merchant.memberships.select_related("user").order_by("created_at", "pk"))
    without_2fa = {user.pk for user in merchant.admins_without_two_factor()}
    for membership in members:
        membership.is_you = membership.pk == dashboard.membership.pk
        membership.manageable = _may_manage(request, membership)
        membership.needs_2fa = membership.user_id in without_2fa
    revocable = set(assignable_roles(dashboard.role)) if dashboard.can(MANAGE_TEAM) else set()
    invitations = list(
        Invitation.objects.filter(
            merchant=merchant, accepted_at__isnull=True, revoked_at__isnull=True, expires_at__gt=timezone.now()
        ).select_related("invited_by")
    )
    for invitation in invitations:
        invitation.revocable = invitation.role in revocable
    context = {
        "members": members,
        "invitations": invitations,
        "invite_form": invite_form,
        "invitation_days": settings.INVITATION_MAX_AGE_DAYS,
    }
    return render(request, "dashboard/team.html", context)


def _send_invitation(request, invitation: Invitation, token: str) -> None:
    """Mail the invitation link; the token exists only in this email (the database keeps its hash)."""
    context = {
        "merchant": invitation.merchant,
        "inviter": request.user,
        "role": invitation.get_role_display(),
        "link": settings.PUBLIC_BASE_URL + reverse("accept_invitation", args=[token]),
        "expires_at": invitation.expires_at,
    }
    subject = " ".join(render_to_string("emails/invitation_subject.txt", context).split())
    email = EmailMultiAlternatives(
        subject,
        render_to_string("emails/invitation_body.txt", context),
        to=[invitation.email],
        reply_to=[request.user.email],
    )
    email.attach_alternative(render_to_string("emails/invitation_body.html", context), "text/html")
    try:
        email.send()
    except (smtplib.SMTPException, OSError):
        # The invitation exists; inviting the same address again sends a fresh link.
        logger.exception("invitation %s: the email could not be sent", invitation.pk)
        messages.warning(
            request,
            _("The invitation to %(email)s was created but the email could not be sent. Invite them again later.")
            % {"email": invitation.email},
        )
        return
    messages.success(request, _("Invitation sent to %(email)s.") % {"email": invitation.email})


@dashboard_view(VIEW_TEAM)
def member(request, membership_id):
    dashboard = request.dashboard
    target = get_object_or_404(Membership.objects.select_related("user"), pk=membership_id, merchant=dashboard.merchant)
    is_you = target.pk == dashboard.membership.pk
    manageable = _may_manage(request, target)
    roles = assignable_roles(dashboard.role)
    role_form = ChangeRoleForm(roles=roles, initial={"role": target.role})
    remove_error = ""
    if request.method == "POST":
        action = request.POST.get("action")
        actor = Actor.from_request(request)
        if action == "remove" and is_you:
            # Anyone may leave an organisation, unless they are its last owner.
            try:
                team_services.remove_member(target, actor)
            except MerchantError as exc:
                remove_error = str(exc)
            else:
                request.session.pop(SESSION_MERCHANT, None)
                request.session[SESSION_LIVE] = False
                messages.success(request, _("You left %(name)s.") % {"name": target.merchant.name})
                return redirect("dashboard:home")
        elif not manageable:
            raise PermissionDenied
        elif action == "role":
            role_form = ChangeRoleForm(request.POST, roles=roles)
            if role_form.is_valid():
                try:
                    team_services.change_role(target, role_form.cleaned_data["role"], actor)
                except MerchantError as exc:
                    role_form.add_error("role", str(exc))
                else:
                    messages.success(request, _("The role of %(email)s was changed.") % {"email": target.user.email})
                    return redirect("dashboard:team")
        elif action == "remove":
            try:
                team_services.remove_member(target, actor)
            except MerchantError as exc:
                remove_error = str(exc)
            else:
                messages.success(request, _("%(email)s was removed from the team.") % {"email": target.user.email})
                return redirect("dashboard:team")
        else:
            raise BadRequest("unknown action")
    context = {
        "target": target,
        "is_you": is_you,
        "manageable": manageable,
        "role_form": role_form,
        "remove_error": remove_error,
    }
    return render(request, "dashboard/team_member.html", context)


@require_POST
@dashboard_view(MANAGE_TEAM)
def revoke_invitation(request, invitation_id):
    invitation = get_object_or_404(Invitation, pk=invitation_id, merchant=request.dashboard.merchant)
    # Symmetric with inviting: an admin cannot cancel an owner's invitation to another owner.
    if invitation.role not in assignable_roles(request.dashboard.role):
        raise PermissionDenied
    team_services.revoke_invitation(invitation, Actor.from_request(request))
    messages.success(request, _("The invitation to %(email)s was revoked.") % {"email": invitation.email})
    return redirect("dashboard:team")


# --- developers: API keys --------------------------------------------------------------------


@dashboard_view(VIEW_DEVELOPERS)
def developers(request):
    dashboard = request.dashboard
    form = CreateApiKeyForm()
    if request.method == "POST":
        _require(request, MANAGE_KEYS)
        form = CreateApiKeyForm(request.POST)
        if form.is_valid():
            try:
                key, raw = create_api_key(
                    dashboard.merchant,
                    is_live=dashboard.is_live,
                    kind=ApiKey.Kind.SECRET,
                    actor=Actor.from_request(request),
                    name=form.cleaned_data["name"],
                )
            except MerchantError as exc:
                form.add_error(None, str(exc))
            else:
                return _show_key_once(request, key, raw)
    return _render_developers(request, create_form=form)


@require_POST
@dashboard_view(MANAGE_KEYS)
def api_key(request, key_id):
    dashboard = request.dashboard
    key = get_object_or_404(ApiKey, pk=key_id, merchant=dashboard.merchant, is_live=dashboard.is_live)
    actor = Actor.from_request(request)
    action = request.POST.get("action")
    if action == "revoke":
        if key.kind != ApiKey.Kind.SECRET:
            # Checkouts always need a publishable key: those are rolled, never just revoked.
            raise BadRequest("publishable keys are rolled, not revoked")
        revoke_api_key(key, actor)
        messages.success(request, _("The key %(prefix)s… was revoked.") % {"prefix": key.prefix})
        return redirect("dashboard:developers")
    if action != "roll":
        raise BadRequest("unknown action")
    form = RollApiKeyForm(request.POST, auto_id=f"key{key.pk}_%s")
    if form.is_valid() and key.expires_at is not None:
        # Rolling again would move the old key's expiry, possibly further away.
        form.add_error(None, _("This key was already replaced; revoke it to stop it at once."))
    if form.is_valid():
        try:
            new_key, raw = roll_api_key(key, actor, grace_hours=form.cleaned_data["grace_hours"])
        except MerchantError as exc:
            form.add_error(None, str(exc))
        else:
            if new_key.kind == ApiKey.Kind.PUBLISHABLE:
                messages.success(request, _("A new publishable key was created."))
                return redirect("dashboard:developers")
            key.refresh_from_db()  # the service changed its own locked copy: show the old key's new expiry
            return _show_key_once(request, new_key, raw, replaced=key)
    return _render_developers(request, failed_key=key, failed_roll=form)


def _render_developers(request, create_form=None, failed_key=None, failed_roll=None):
    """The keys of the current mode; a refused roll keeps its form (and errors) on its key's row."""
    dashboard = request.dashboard
    keys = ApiKey.objects.filter(merchant=dashboard.merchant, is_live=dashboard.is_live).select_related("created_by")
    secret_keys, inactive_keys, publishable_keys = [], [], []
    for key in keys:
        if not key.is_active:
            inactive_keys.append(key)
            continue
        if failed_key is not None and key.pk == failed_key.pk:
            key.roll_form = failed_roll
        else:
            key.roll_form = RollApiKeyForm(auto_id=f"key{key.pk}_%s")
        (secret_keys if key.kind == ApiKey.Kind.SECRET else publishable_keys).append(key)
    context = {
        "secret_keys": secret_keys,
        "inactive_keys": inactive_keys,
        "publishable_keys": publishable_keys,
        "create_form": create_form or CreateApiKeyForm(),
        "api_base_url": settings.PUBLIC_BASE_URL + "/v1",
        "failed_key": failed_key,
        "failed_roll": failed_roll,
    }
    return render(request, "dashboard/developers.html", context)


def _show_key_once(request, key: ApiKey, raw: str, replaced: ApiKey | None = None):
    """The raw secret key goes into this one response and nowhere else (no session, no message)."""
    context = {"key": key, "raw_key": raw, "replaced": replaced, "api_base_url": settings.PUBLIC_BASE_URL + "/v1"}
    response = render(request, "dashboard/api_key_created.html", context)
    add_never_cache_headers(response)  # Cache-Control: no-store (and friends): no copy in any cache
    return response


# --- audit log ---------------------------------------------------------------------------------


@require_safe
@dashboard_view(VIEW_AUDIT)
def audit_log(request):
    form = AuditFilterForm(request.GET)
    entries = AuditLog.objects.filter(merchant=request.dashboard.merchant).order_by("-created_at", "-id")
    if form.is_valid() and form.cleaned_data["action"]:
        entries = entries.filter(action__startswith=form.cleaned_data["action"].strip())
    page = Paginator(entries, AUDIT_PAGE_SIZE).get_page(request.GET.get("page"))
    for entry in page.object_list:
        entry.shown = describe(entry)
    return render(request, "dashboard/audit.html", {"form": form, "page": page})
