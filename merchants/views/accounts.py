"""Account pages: sign-up and email verification, login with a second factor, password reset,
two-factor settings, the user's language, onboarding, invitations, and the organisation settings
of the dashboard.

Views parse forms, call services and render: organisation changes go through merchants.services,
the user's own account (creating it, confirming its email, its language, password and OTP
devices) through merchants.services.accounts.
"""

from __future__ import annotations

import logging
import smtplib
import time
from base64 import b32encode
from functools import wraps

import segno
from django.conf import settings
from django.contrib import auth, messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.forms import PasswordChangeForm
from django.contrib.auth.views import redirect_to_login
from django.core import signing
from django.core.cache import cache
from django.core.exceptions import PermissionDenied
from django.core.mail import EmailMultiAlternatives
from django.db import IntegrityError
from django.shortcuts import redirect, render, resolve_url
from django.template.loader import render_to_string
from django.urls import reverse, reverse_lazy
from django.utils import translation
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods, require_POST
from django.views.i18n import set_language as django_set_language
from django_otp import login as otp_login
from django_otp import user_has_device
from django_otp.plugins.otp_totp.models import TOTPDevice

from merchants import roles
from merchants.decorators import dashboard_view, user_needs_otp
from merchants.forms.accounts import (
    INVALID_CODE,
    TOO_MANY_CODES,
    BrandingForm,
    DisableTwoFactorForm,
    EnableTwoFactorForm,
    LanguageForm,
    LoginForm,
    OrganisationForm,
    OrganisationProfileForm,
    OtpCodeForm,
    PaymentMethodsForm,
    SignupForm,
    ThrottledPasswordResetForm,
    verify_second_factor,
)
from merchants.forms.plugin_passwords import PluginPasswordForm
from merchants.middleware import SESSION_LIVE, SESSION_MERCHANT
from merchants.models import Invitation, Membership, Merchant, User
from merchants.services import accounts, organisations, plugin_passwords, team
from merchants.services.audit import Actor
from merchants.services.errors import MerchantError

logger = logging.getLogger(__name__)

VERIFY_EMAIL_SALT = "merchants.verify_email"
VERIFY_RESEND_COOLDOWN_SECONDS = 60
VERIFY_RESEND_PER_HOUR = 5
# Password checked, second factor still to come: kept in the session for this long.
PENDING_LOGIN_SESSION = "pending_login"
PENDING_LOGIN_MAX_AGE = 300
# The invitation being answered, so that sign-up and login can come back to it.
INVITATION_SESSION = "pending_invitation"
# A sign-up waiting for its email to be confirmed: {"email": ..., "user": the new account's pk, or
# None if the address already had an account}. The browser is not logged in either way, so that
# nothing it sees tells the two apart; the verification link logs in the browser that signed up.
SIGNUP_SESSION = "pending_signup"
MODEL_BACKEND = "django.contrib.auth.backends.ModelBackend"


# --- helpers -------------------------------------------------------------------------------


def _next_url(request) -> str:
    """The `next` parameter if it points back to this site, else ""."""
    candidate = request.POST.get("next") or request.GET.get("next") or ""
    if candidate and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return ""


def _home_url(next_url: str = "") -> str:
    return next_url or resolve_url(settings.LOGIN_REDIRECT_URL)


def account_view(view):
    """Logged in and, for users with a second factor, verified in this session."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if user_needs_otp(request):
            return redirect_to_login(request.get_full_path(), login_url="login_otp")
        return view(request, *args, **kwargs)

    return wrapper


def send_templated_email(name: str, to: str, context: dict) -> bool:
    """Send emails/<name>_subject.txt, _body.txt and _body.html; False if the backend failed."""
    subject = " ".join(render_to_string(f"emails/{name}_subject.txt", context).split())
    text = render_to_string(f"emails/{name}_body.txt", context)
    html = render_to_string(f"emails/{name}_body.html", context)
    message = EmailMultiAlternatives(subject, text, to=[to])
    message.attach_alternative(html, "text/html")
    try:
        message.send()
    except (smtplib.SMTPException, OSError):
        # The account exists either way; the user can ask for the email again.
        logger.exception("could not send the %s email", name)
        return False
    return True


def _pending_invitation(request) -> Invitation | None:
    invitation_id = request.session.get(INVITATION_SESSION)
    if not invitation_id:
        return None
    invitation = Invitation.objects.select_related("merchant").filter(pk=invitation_id).first()
    return invitation if invitation and invitation.is_pending else None


# --- the user's language ------------------------------------------------------------------------


def _supported_language(code: str | None) -> str | None:
    """`code` as one of settings.LANGUAGES ("fr-FR" -> "fr"), or None."""
    code = (code or "").strip()
    if not code:
        return None
    try:
        return translation.get_supported_language_variant(code)
    except LookupError:
        return None


def _set_language_cookie(response, code: str) -> None:
    """The cookie LocaleMiddleware reads first, set as django.views.i18n.set_language sets it."""
    response.set_cookie(
        settings.LANGUAGE_COOKIE_NAME,
        code,
        max_age=settings.LANGUAGE_COOKIE_AGE,
        path=settings.LANGUAGE_COOKIE_PATH,
        domain=settings.LANGUAGE_COOKIE_DOMAIN,
        secure=settings.LANGUAGE_COOKIE_SECURE,
        httponly=settings.LANGUAGE_COOKIE_HTTPONLY,
        samesite=settings.LANGUAGE_COOKIE_SAMESITE,
    )


def _use_language(request, response, code: str | None):
    """Speak `code` for the rest of this request and, through the cookie, from the next one on."""
    if code:
        translation.activate(code)
        request.LANGUAGE_CODE = code
        _set_language_cookie(response, code)
    return response


def _logged_in(request, user: User, response):
    """The response that ends a login (after the second factor, if any): in the user's language."""
    return _use_language(request, response, _supported_language(user.preferred_language))


def set_language(request):
    """The language switcher (django.views.i18n.set_language), which also remembers the choice
    as the preferred language of a logged-in user: for their next login and for their emails."""
    response = django_set_language(request)
    code = _supported_language(request.POST.get("language")) if request.method == "POST" else None
    if code and request.user.is_authenticated and not user_needs_otp(request):
        accounts.set_preferred_language(request.user, code)
    return response


# --- sign-up and email verification ----------------------------------------------------------


def make_verification_token(user: User) -> str:
    # Bound to the address: a token stops working if the account's email changes.
    return signing.TimestampSigner(salt=VERIFY_EMAIL_SALT).sign_object({"user": user.pk, "email": user.email})


def user_for_verification_token(token: str) -> User | None:
    try:
        data = signing.TimestampSigner(salt=VERIFY_EMAIL_SALT).unsign_object(
            token, max_age=settings.EMAIL_VERIFICATION_MAX_AGE
        )
    except (signing.BadSignature, ValueError):
        return None
    if not isinstance(data, dict):
        return None
    user = User.objects.filter(pk=data.get("user"), is_active=True).first()
    if user is None or user.email != data.get("email"):
        return None
    return user


def _may_send_verification(user: User) -> bool:
    """One email a minute and five an hour per account."""
    if not cache.add(f"verify-email-cooldown:{user.pk}", 1, VERIFY_RESEND_COOLDOWN_SECONDS):
        return False
    hourly_key = f"verify-email-hourly:{user.pk}"
    cache.add(hourly_key, 0, 3600)
    try:
        sent = cache.incr(hourly_key)
    except ValueError:  # expired between add and incr
        cache.set(hourly_key, 1, 3600)
        sent = 1
    return sent <= VERIFY_RESEND_PER_HOUR


def send_verification_email(user: User) -> bool:
    link = settings.PUBLIC_BASE_URL + reverse("verify_email", args=[make_verification_token(user)])
    context = {"user": user, "link": link, "valid_days": max(1, settings.EMAIL_VERIFICATION_MAX_AGE // 86400)}
    return send_templated_email("verify_email", user.email, context)


def send_existing_account_email(user: User) -> bool:
    """Someone signed up with the address of `user`: told to its owner, in the owner's language."""
    context = {
        "user": user,
        "login_link": settings.PUBLIC_BASE_URL + reverse("login"),
        "reset_link": settings.PUBLIC_BASE_URL + reverse("password_reset"),
    }
    language = _supported_language(user.preferred_language) or settings.LANGUAGE_CODE
    with translation.override(language):
        return send_templated_email("signup_existing_account", user.email, context)


def _send_signup_email(user: User, new_account_pk: int | None) -> bool:
    """The email a sign-up asks for: the verification link for the account it created, else the
    notice to the owner of the address. Callers throttle both the same way (_may_send_verification)."""
    if user.pk == new_account_pk and not user.email_verified:
        return send_verification_email(user)
    return send_existing_account_email(user)


@never_cache
@sensitive_post_parameters("password")
@require_http_methods(["GET", "POST"])
def signup(request):
    next_url = _next_url(request)
    if request.user.is_authenticated:
        return redirect(_home_url(next_url))
    invitation = _pending_invitation(request)
    if request.method == "POST":
        form = SignupForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            language = translation.get_language() or ""
            try:
                user = accounts.sign_up(
                    email=data["email"],
                    password=data["password"],
                    full_name=data["full_name"],
                    language=language,
                    invitation=invitation,
                )
            except IntegrityError:  # the address has an account: answered as if it had not
                user = None
            if user is not None and user.email_verified:
                # Signed up from an invitation sent to this address: the mailbox is proven.
                auth.login(request, user, backend=MODEL_BACKEND)
                return _logged_in(request, user, redirect(_home_url(next_url)))
            # From here on, the answer is the same whether the address had an account or not.
            account = user or User.objects.filter(email=data["email"]).first()
            new_account_pk = user.pk if user is not None else None
            request.session[SIGNUP_SESSION] = {"email": data["email"], "user": new_account_pk}
            # The throttle keeps a stranger from flooding the owner of the address with notices.
            sent = account is None or not _may_send_verification(account) or _send_signup_email(account, new_account_pk)
            if not sent:
                messages.error(request, _("We could not send the email. Try again in a minute."))
            return _use_language(request, redirect("verify_email_sent"), _supported_language(language))
    else:
        form = SignupForm(initial={"email": invitation.email} if invitation else None)
    return render(request, "registration/signup.html", {"form": form, "next": next_url, "invitation": invitation})


@never_cache
@require_http_methods(["GET", "POST"])
def verify_email_sent(request):
    pending = None if request.user.is_authenticated else request.session.get(SIGNUP_SESSION)
    if pending:
        # A sign-up in this browser: the same page whether the address had an account or not.
        email = pending["email"]
        if request.method == "POST":
            account = User.objects.filter(email=email, is_active=True).first()
            if account is not None and not _may_send_verification(account):
                messages.error(request, _("We just sent an email. Wait a minute before asking for another one."))
            elif account is None or _send_signup_email(account, pending.get("user")):
                messages.success(request, _("We sent a new link to %(email)s.") % {"email": email})
            else:
                messages.error(request, _("We could not send the email. Try again in a minute."))
            return redirect("verify_email_sent")
        return render(request, "registration/verify_email_sent.html", {"email": email})
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    user = request.user
    if user.email_verified:
        return redirect(_home_url())
    if request.method == "POST":
        if not _may_send_verification(user):
            messages.error(request, _("We just sent an email. Wait a minute before asking for another one."))
        elif send_verification_email(user):
            messages.success(request, _("We sent a new link to %(email)s.") % {"email": user.email})
        else:
            messages.error(request, _("We could not send the email. Try again in a minute."))
        return redirect("verify_email_sent")
    return render(request, "registration/verify_email_sent.html", {"email": user.email})


@never_cache
@require_http_methods(["GET"])
def verify_email(request, token):
    user = user_for_verification_token(token)
    if user is None:
        return render(request, "registration/verify_email_invalid.html", status=400)
    accounts.confirm_email(user)
    messages.success(request, _("Your email address is confirmed."))
    if request.user.is_authenticated:
        return redirect(_home_url())
    pending = request.session.get(SIGNUP_SESSION) or {}
    if pending.get("user") == user.pk and user.last_login is None and not accounts.has_two_factor(user):
        # The browser that created this account (with its password) and now the mailbox: the
        # login that sign-up itself no longer does, so as not to tell which addresses had one.
        request.session.pop(SIGNUP_SESSION, None)
        auth.login(request, user, backend=MODEL_BACKEND)
        return _logged_in(request, user, redirect(_home_url()))
    return redirect("login")


# --- login, second factor, logout -------------------------------------------------------------


def _pending_login(request) -> dict | None:
    pending = request.session.get(PENDING_LOGIN_SESSION)
    if not isinstance(pending, dict):
        return None
    if time.time() - pending.get("at", 0) > PENDING_LOGIN_MAX_AGE:
        del request.session[PENDING_LOGIN_SESSION]
        return None
    return pending


@never_cache
@sensitive_post_parameters("password")
@require_http_methods(["GET", "POST"])
def login_view(request):
    next_url = _next_url(request)
    if request.user.is_authenticated and not user_needs_otp(request):
        return redirect(_home_url(next_url))
    if request.method == "POST":
        # django-axes counts failures of authenticate() and, once locked, its middleware
        # replaces this response with registration/locked_out.html.
        form = LoginForm(request, data=request.POST)
        if form.is_valid():
            user = form.get_user()
            if not user_has_device(user, confirmed=True):
                auth.login(request, user)
                return _logged_in(request, user, redirect(_home_url(next_url)))
            # The password is right but the session stays anonymous until the second factor.
            if request.user.is_authenticated:
                auth.logout(request)
            request.session.cycle_key()
            request.session[PENDING_LOGIN_SESSION] = {
                "user": user.pk,
                "backend": user.backend,
                "at": int(time.time()),
                "next": next_url,
            }
            return redirect("login_otp")
    else:
        invitation = _pending_invitation(request)
        form = LoginForm(request, initial={"username": invitation.email} if invitation else None)
    return render(request, "registration/login.html", {"form": form, "next": next_url})


@never_cache
@sensitive_post_parameters("code")
@require_http_methods(["GET", "POST"])
def login_otp(request):
    pending = _pending_login(request)
    if pending:
        user = User.objects.filter(pk=pending["user"], is_active=True).first()
        next_url = pending.get("next", "")
    elif request.user.is_authenticated and user_needs_otp(request):
        # Logged in before two-factor was turned on elsewhere: verify this session now.
        user = request.user
        next_url = _next_url(request)
    else:
        user, next_url = None, ""
    if user is None:
        if request.user.is_authenticated:
            return redirect(_home_url())
        return redirect("login")

    if request.method == "POST":
        form = OtpCodeForm(request.POST)
        if form.is_valid():
            device, throttled = verify_second_factor(user, form.cleaned_data["code"])
            if device is not None:
                if pending:
                    del request.session[PENDING_LOGIN_SESSION]
                    auth.login(request, user, backend=pending["backend"])
                otp_login(request, device)
                return _logged_in(request, user, redirect(_home_url(next_url)))
            form.add_error("code", TOO_MANY_CODES if throttled else INVALID_CODE)
    else:
        form = OtpCodeForm()
    return render(request, "registration/login_otp.html", {"form": form, "next": next_url})


@require_POST
def logout_view(request):
    next_url = _next_url(request)
    auth.logout(request)
    return redirect(next_url or resolve_url(settings.LOGOUT_REDIRECT_URL))


# --- password reset ---------------------------------------------------------------------------


class PasswordResetView(auth_views.PasswordResetView):
    form_class = ThrottledPasswordResetForm
    template_name = "registration/password_reset_form.html"
    subject_template_name = "emails/password_reset_subject.txt"
    email_template_name = "emails/password_reset_body.txt"
    html_email_template_name = "emails/password_reset_body.html"
    success_url = reverse_lazy("password_reset_done")

    def form_valid(self, form):
        # Links are built on the configured public address, never on the request's Host header.
        self.extra_email_context = {"base_url": settings.PUBLIC_BASE_URL}
        return super().form_valid(form)


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    template_name = "registration/password_reset_confirm.html"
    success_url = reverse_lazy("password_reset_complete")

    def form_valid(self, form):
        response = super().form_valid(form)
        user = form.user
        # The link reached the mailbox: the address is proven, and a lockout no longer helps.
        accounts.password_reset_completed(user, Actor.from_request(self.request, user=user))
        return response


password_reset = PasswordResetView.as_view()
password_reset_done = auth_views.PasswordResetDoneView.as_view(template_name="registration/password_reset_done.html")
password_reset_confirm = PasswordResetConfirmView.as_view()
password_reset_complete = auth_views.PasswordResetCompleteView.as_view(
    template_name="registration/password_reset_complete.html"
)


# --- two-factor authentication and password change ----------------------------------------------


def _qr_svg(device: TOTPDevice) -> str:
    qr = segno.make(device.config_url, error="m")
    # segno writes the modules as one path with presentation attributes: no style, no script.
    return mark_safe(qr.svg_inline(scale=4, border=2, omitsize=True, light="#fff", svgclass="qr-code"))  # noqa: S308


def _grouped(secret: str) -> str:
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


@never_cache
@sensitive_post_parameters("code", "password", "old_password", "new_password1", "new_password2")
@require_http_methods(["GET", "POST"])
@dashboard_view()
def account_security(request):
    user = request.user
    action = request.POST.get("action") if request.method == "POST" else None
    two_factor_on = accounts.has_two_factor(user)
    enable_form = EnableTwoFactorForm()
    disable_form = DisableTwoFactorForm(user=user)
    password_form = PasswordChangeForm(user)
    language_form = LanguageForm(
        initial={"language": _supported_language(user.preferred_language) or translation.get_language()}
    )
    backup_codes: list[str] = []
    plugin_password_form = PluginPasswordForm(request=request)
    new_plugin_password, plugin_password_secret = None, ""

    if action == "enable" and not two_factor_on:
        enable_form = EnableTwoFactorForm(request.POST)
        if enable_form.is_valid():
            try:
                device, backup_codes = accounts.enable_two_factor(
                    user, enable_form.cleaned_data["code"], Actor.from_request(request)
                )
            except accounts.CodeRefused as refused:
                enable_form.add_error("code", TOO_MANY_CODES if refused.throttled else INVALID_CODE)
            else:
                otp_login(request, device)  # this session has just proven the new factor
                two_factor_on = True
                messages.success(request, _("Two-factor authentication is on."))
    elif action == "disable" and two_factor_on:
        disable_form = DisableTwoFactorForm(request.POST, user=user)
        if disable_form.is_valid():
            accounts.disable_two_factor(user, Actor.from_request(request))
            plugin_passwords.revoke_all_plugin_passwords(user, Actor.from_request(request))  # they stand for 2FA
            messages.success(request, _("Two-factor authentication is off."))
            return redirect("account_security")
    elif action == "backup_codes" and two_factor_on:
        backup_codes = accounts.replace_backup_codes(user, Actor.from_request(request))
        messages.success(request, _("New backup codes are ready; the old ones no longer work."))
    elif action == "plugin_password" and two_factor_on:
        plugin_password_form = PluginPasswordForm(request.POST, request=request)
        if plugin_password_form.is_valid():
            try:
                new_plugin_password, plugin_password_secret = plugin_passwords.create_plugin_password(
                    user, plugin_password_form.cleaned_data["name"], Actor.from_request(request)
                )
            except MerchantError as error:
                plugin_password_form.add_error(None, str(error))
            else:
                plugin_password_form = PluginPasswordForm(request=request)  # shown once, on this answer only
    elif action == "revoke_plugin_password":
        revoked = plugin_passwords.revoke_plugin_password(
            user, request.POST.get("plugin_password", ""), Actor.from_request(request)
        )
        if revoked is not None:
            messages.success(request, _("The password “%(name)s” no longer works.") % {"name": revoked.name})
        return redirect("account_security")
    elif action == "password":
        password_form = PasswordChangeForm(user, request.POST)
        if password_form.is_valid():
            accounts.change_password(user, password_form.cleaned_data["new_password1"], Actor.from_request(request))
            auth.update_session_auth_hash(request, user)
            messages.success(request, _("Your password has been changed."))
            return redirect("account_security")
    elif action == "language":
        language_form = LanguageForm(request.POST)
        if language_form.is_valid():
            code = language_form.cleaned_data["language"]
            accounts.set_preferred_language(user, code)
            response = _use_language(request, redirect("account_security"), code)
            messages.success(request, _("Your language is saved."))  # already in that language
            return response
    elif request.method == "POST":
        return redirect("account_security")

    # Several forms share the page: only the first field of the page may take the focus.
    password_form.fields["old_password"].widget.attrs.pop("autofocus", None)
    context = {
        "two_factor_on": two_factor_on,
        "enable_form": enable_form,
        "disable_form": disable_form,
        "password_form": password_form,
        "language_form": language_form,
        "backup_codes": backup_codes,
        "plugin_password_form": plugin_password_form,
        "new_plugin_password": new_plugin_password,
        "plugin_password_secret": plugin_password_secret,
        "plugin_passwords": plugin_passwords.active_plugin_passwords(user),
    }
    if two_factor_on:
        context["backup_codes_left"] = accounts.backup_codes_left(user)
        # Turning 2FA off locks live mode of organisations where the user is an owner or admin.
        context["locks_live_mode"] = any(
            m.role in (Membership.Role.OWNER, Membership.Role.ADMIN) and m.merchant.is_approved
            for m in request.dashboard.memberships
        )
    else:
        device = accounts.pending_totp_device(user)
        context["qr_svg"] = _qr_svg(device)
        context["secret"] = _grouped(b32encode(device.bin_key).decode())
    return render(request, "dashboard/security.html", context)


# --- onboarding --------------------------------------------------------------------------------


@never_cache
@require_http_methods(["GET", "POST"])
@account_view
def onboarding_organisation(request):
    if not request.user.email_verified:
        return redirect("verify_email_sent")
    if request.method == "POST":
        form = OrganisationForm(request.POST)
        if form.is_valid():
            merchant = organisations.create_merchant(
                request.user, form.cleaned_data["name"], Actor.from_request(request)
            )
            request.session[SESSION_MERCHANT] = merchant.pk
            request.session[SESSION_LIVE] = False
            messages.success(request, _("%(name)s is ready. Test mode works right away.") % {"name": merchant.name})
            if request.POST.get("then") == "settings":
                return redirect("dashboard:settings")
            return redirect("dashboard:home")
    else:
        form = OrganisationForm()
    context = {"form": form, "has_organisation": bool(request.dashboard.memberships)}
    return render(request, "registration/onboarding_organisation.html", context)


# --- invitations ---------------------------------------------------------------------------------


@never_cache
@require_http_methods(["GET", "POST"])
def accept_invitation(request, token):
    invitation = team.find_invitation(token)
    if invitation is None:
        request.session.pop(INVITATION_SESSION, None)
        return render(request, "registration/accept_invitation.html", {"invitation": None}, status=404)
    if request.user.is_authenticated and user_needs_otp(request):
        return redirect_to_login(request.get_full_path(), login_url="login_otp")
    # Remembered so that signing up or logging in can bring the person back here.
    request.session[INVITATION_SESSION] = invitation.pk
    user = request.user
    email_matches = user.is_authenticated and user.email.lower() == invitation.email.lower()
    status = 200

    if request.method == "POST":
        if not user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if email_matches:
            try:
                membership = team.accept_invitation(invitation, user, Actor.from_request(request))
            except MerchantError:
                messages.error(request, _("This invitation is no longer valid."))
                return redirect(_home_url())
            # The token was delivered to this address, which proves it.
            accounts.confirm_email(user)
            request.session.pop(INVITATION_SESSION, None)
            request.session[SESSION_MERCHANT] = membership.merchant_id
            request.session[SESSION_LIVE] = False
            messages.success(request, _("You joined %(name)s.") % {"name": invitation.merchant.name})
            return redirect("dashboard:home")
        status = 403

    context = {
        "invitation": invitation,
        "email_matches": email_matches,
        "already_member": email_matches and invitation.merchant.memberships.filter(user=user).exists(),
    }
    return render(request, "registration/accept_invitation.html", context, status=status)


# --- organisation settings ----------------------------------------------------------------------


def _missing_field_labels(merchant: Merchant) -> list[str]:
    return [str(Merchant._meta.get_field(name).verbose_name) for name in merchant.missing_profile_fields()]


@never_cache
@require_http_methods(["GET", "POST"])
@dashboard_view(roles.VIEW_SETTINGS)
def settings_view(request):
    merchant = request.dashboard.merchant
    can_manage = request.dashboard.can(roles.MANAGE_SETTINGS)
    profile_form = OrganisationProfileForm(initial=OrganisationProfileForm.initial_for(merchant))
    branding_form = BrandingForm(
        initial={"brand_name": merchant.brand_name, "brand_color": merchant.brand_color, "logo": merchant.logo}
    )
    methods_form = PaymentMethodsForm(initial=PaymentMethodsForm.initial_for(merchant))

    if request.method == "POST":
        if not can_manage:
            raise PermissionDenied
        actor = Actor.from_request(request)
        action = request.POST.get("action")
        if action == "profile":
            profile_form = OrganisationProfileForm(request.POST)
            if profile_form.is_valid():
                organisations.update_profile(merchant, actor, profile_form.changes())
                messages.success(request, _("The organisation profile is saved."))
                return redirect("dashboard:settings")
        elif action == "branding":
            branding_form = BrandingForm(request.POST, request.FILES, initial={"logo": merchant.logo})
            if branding_form.is_valid():
                organisations.update_profile(merchant, actor, branding_form.changes())
                messages.success(request, _("The branding is saved."))
                return redirect("dashboard:settings")
        elif action == "payment_methods":
            methods_form = PaymentMethodsForm(request.POST)
            if methods_form.is_valid():
                organisations.update_profile(merchant, actor, methods_form.changes())
                messages.success(request, _("The payment methods are saved."))
                return redirect("dashboard:settings")
        elif action == "submit":
            try:
                organisations.submit_for_review(merchant, actor)
            except MerchantError:
                messages.error(
                    request,
                    _("Complete the profile before submitting it. Missing: %(fields)s.")
                    % {"fields": ", ".join(_missing_field_labels(merchant))},
                )
            else:
                messages.success(request, _("Thank you. Our team will review your account."))
            return redirect("dashboard:settings")
        else:
            return redirect("dashboard:settings")

    if not can_manage:
        for form in (profile_form, branding_form, methods_form):
            for field in form.fields.values():
                field.disabled = True

    context = {
        "merchant": merchant,
        "profile_form": profile_form,
        "branding_form": branding_form,
        "methods_form": methods_form,
        "can_manage": can_manage,
        "missing_fields": _missing_field_labels(merchant),
        "admins_without_2fa": merchant.admins_without_two_factor(),
    }
    return render(request, "dashboard/settings.html", context)
