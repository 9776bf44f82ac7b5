"""Every dashboard view declares the permission it needs; the role decides."""

from functools import wraps

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect
from django.utils.cache import patch_cache_control
from django_otp import user_has_device


def dashboard_view(permission: str | None = None):
    """Login, verified email, an organisation, and (if given) a role that allows `permission`.

    Users with a TOTP device must have passed the second factor in this session. Every answer is
    `Cache-Control: private, no-store`: dashboard pages carry personal data that no shared cache,
    nor the browser's back-forward or disk cache, may keep.
    """

    def decorator(view):
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            user = request.user
            if not user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            if user_needs_otp(request):
                return redirect_to_login(request.get_full_path(), login_url="login_otp")
            if not user.email_verified:
                return redirect("verify_email_sent")
            if request.dashboard.membership is None:
                return redirect("onboarding_organisation")
            if permission and not request.dashboard.can(permission):
                raise PermissionDenied
            response = view(request, *args, **kwargs)
            patch_cache_control(response, private=True, no_store=True)
            return response

        wrapper.dashboard_permission = permission
        return wrapper

    return decorator


def user_needs_otp(request) -> bool:
    user = request.user
    return user.is_authenticated and not user.is_verified() and user_has_device(user, confirmed=True)
