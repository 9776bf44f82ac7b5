"""Helpers for the team, developers, audit, roles and tenant-isolation tests (factories stay in tests/factories.py)."""

import re

from django.contrib.sessions.models import Session
from django.db import connection
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_totp.models import TOTPDevice

from merchants.middleware import SESSION_LIVE, SESSION_MERCHANT
from merchants.models import ApiKey, AuditLog, Invitation, Membership
from tests import factories

USER_AGENT = "pytest-browser/1.0"
SECRET_KEY_RE = re.compile(r"sk_(?:test|live)_[0-9A-Za-z]{32}")


def login(client, user, merchant=None, live=False):
    """Log `user` in as the dashboard would see them: second factor passed when they have one."""
    client.force_login(user)
    session = client.session
    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    if device is not None:
        session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    if merchant is not None:
        session[SESSION_MERCHANT] = merchant.pk
    session[SESSION_LIVE] = live
    session.save()
    client.defaults["HTTP_USER_AGENT"] = USER_AGENT
    return client


def membership(merchant, user) -> Membership:
    return Membership.objects.get(merchant=merchant, user=user)


def raw_key_in(html: str) -> str:
    """The one raw secret key a show-once page displays."""
    found = set(SECRET_KEY_RE.findall(html))
    assert len(found) == 1, found
    return found.pop()


def key_row(raw: str) -> ApiKey:
    return ApiKey.objects.get(key_hash=ApiKey.hash_key(raw))


def api_status(raw: str) -> int:
    """Status of an authenticated API call with this key: 401 when the key is refused.

    /v1/payments answers 404 (or, once payments land, 200) after a successful authentication.
    """
    return factories.ApiClient(raw).get("/v1/payments").status_code


def authenticates(raw: str) -> bool:
    return api_status(raw) != 401


def snapshot(merchant) -> dict:
    """Everything a team, key or audit action could change for one merchant."""
    return {
        "memberships": sorted(Membership.objects.filter(merchant=merchant).values_list("pk", "user_id", "role")),
        "invitations": sorted(
            Invitation.objects.filter(merchant=merchant).values_list("pk", "email", "role", "revoked_at", "accepted_at")
        ),
        "keys": sorted(
            ApiKey.objects.filter(merchant=merchant).values_list("pk", "name", "expires_at", "revoked_at", "is_live")
        ),
        "audit": AuditLog.objects.filter(merchant=merchant).count(),
    }


def database_contains(text: str) -> list[str]:
    """Tables (and sessions, decoded) whose stored values contain `text` anywhere."""
    found = []
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names():
            # table names come from introspection, not from input
            cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")
            if any(text in str(value) for row in cursor.fetchall() for value in row):
                found.append(table)
    for session in Session.objects.all():
        if text in str(session.get_decoded()):
            found.append(f"session {session.session_key}")
    return found
