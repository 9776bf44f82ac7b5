"""Dashboard context: which organisation and which mode the logged-in user is working in."""

from functools import cached_property

from django.utils import timezone

from merchants import home
from merchants.models import Membership
from merchants.roles import role_allows
from payplug import dates

SESSION_MERCHANT = "merchant_id"
SESSION_LIVE = "live_mode"
DASHBOARD_PREFIX = "/dashboard/"


class DashboardContext:
    """`request.dashboard`: the membership, merchant and mode of the current dashboard request.

    The organisation comes from the session, but only among the user's own memberships, so a
    forged or stale session value can never reach another merchant.
    """

    def __init__(self, request):
        self.request = request

    @cached_property
    def memberships(self):
        user = self.request.user
        if not user.is_authenticated:
            return []
        return list(Membership.objects.filter(user=user).select_related("merchant").order_by("created_at"))

    @cached_property
    def membership(self):
        wanted = self.request.session.get(SESSION_MERCHANT)
        for membership in self.memberships:
            if membership.merchant_id == wanted:
                return membership
        return self.memberships[0] if self.memberships else None

    @property
    def merchant(self):
        return self.membership.merchant if self.membership else None

    @property
    def role(self):
        return self.membership.role if self.membership else None

    @cached_property
    def is_live(self) -> bool:
        merchant = self.merchant
        return bool(merchant and self.request.session.get(SESSION_LIVE) and merchant.live_enabled)

    @property
    def mode(self) -> str:
        return "live" if self.is_live else "test"

    @property
    def time_zone(self) -> str:
        """The organisation's time zone: every date of its dashboard is shown in it (payplug.dates)."""
        name = getattr(self.merchant, "time_zone", "")
        return name if name in dates.available_time_zones() else dates.DEFAULT_TIME_ZONE

    def can(self, permission: str) -> bool:
        return bool(self.role and role_allows(self.role, permission))

    @cached_property
    def open_disputes(self) -> int:
        """Disputes waiting for the merchant's response (the sidebar's count): a counter payments
        registers (merchants.home), one COUNT query, made only when a page reads it."""
        return home.count("open_disputes", self)


class DashboardContextMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if not request.path.startswith("/v1"):
            request.dashboard = DashboardContext(request)
            if request.path.startswith(DASHBOARD_PREFIX) and request.user.is_authenticated:
                # Only for the request: a streamed response (CSV) passes its zone on explicitly.
                with timezone.override(request.dashboard.time_zone):
                    return self.get_response(request)
        return self.get_response(request)
