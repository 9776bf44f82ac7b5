"""Audit log page: the merchant's sensitive actions, newest first, paginated and filtered; owners and admins only."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from merchants.models import AuditLog, Membership
from merchants.services.audit import Actor, audit
from tests import factories

from .helpers_team import USER_AGENT, login

pytestmark = pytest.mark.django_db

AUDIT = reverse("dashboard:audit")


@pytest.fixture
def owner_client(client, alice, merchant_a):
    return login(client, alice)


def add_entries(merchant, count, action="settings.profile_updated", start=None):
    """`count` entries one minute apart, the last one newest."""
    start = start or timezone.now() - timedelta(days=1)
    entries = [
        audit(merchant, Actor.system("tests"), action, obj_type="merchant", obj_id=str(n), n=n) for n in range(count)
    ]
    for n, entry in enumerate(entries):
        AuditLog.objects.filter(pk=entry.pk).update(created_at=start + timedelta(minutes=n))
    return entries


def listed(response):
    return [entry.pk for entry in response.context["page"].object_list]


def test_it_lists_the_merchants_entries_newest_first(owner_client, merchant_a):
    entries = add_entries(merchant_a, 3)

    response = owner_client.get(AUDIT)

    assert response.status_code == 200
    # the factory's entries (merchant.created, api_key.created) are from just now: newer than a day ago
    assert listed(response)[-3:] == [entries[2].pk, entries[1].pk, entries[0].pk]
    assert len(listed(response)) == 5


def test_it_shows_who_what_when_and_from_where(owner_client, merchant_a, client):
    # given: a team change made through the dashboard
    owner_client.post(reverse("dashboard:team"), {"email": "newcomer@example.org", "role": "support"})
    entry = AuditLog.objects.get(merchant=merchant_a, action="team.invited")

    # when
    body = owner_client.get(AUDIT).content.decode()

    # then
    assert "alice@example.org" in body
    assert "team.invited" in body
    assert f'Invitation</span> <span class="mono id" title="{entry.object_id}">{entry.object_id}</span>' in body
    assert "newcomer@example.org" in body
    assert f'datetime="{entry.created_at.isoformat()}"' in body
    assert "127.0.0.1" in body
    assert USER_AGENT in body


def test_it_paginates_fifty_entries_a_page(owner_client, merchant_a):
    add_entries(merchant_a, 60)  # plus merchant.created and api_key.created: 62

    first = owner_client.get(AUDIT)
    second = owner_client.get(AUDIT, {"page": 2})

    assert len(listed(first)) == 50
    assert len(listed(second)) == 12
    assert not set(listed(first)) & set(listed(second))
    assert 'href="?page=2"' in first.content.decode()


def test_it_filters_by_action_prefix(owner_client, merchant_a):
    add_entries(merchant_a, 2, action="settings.profile_updated")
    keys = add_entries(merchant_a, 2, action="api_key.rolled")

    response = owner_client.get(AUDIT, {"action": "api_key.rol"})

    assert listed(response) == [keys[1].pk, keys[0].pk]


def test_the_filter_is_kept_across_pages(owner_client, merchant_a):
    add_entries(merchant_a, 55, action="api_key.rolled")

    response = owner_client.get(AUDIT, {"action": "api_key"})

    assert 'href="?action=api_key&amp;page=2"' in response.content.decode()


def test_it_shows_only_the_current_merchants_entries(owner_client, merchant_a, merchant_b):
    theirs = add_entries(merchant_b, 2)

    response = owner_client.get(AUDIT)

    assert not set(listed(response)) & {entry.pk for entry in theirs}
    assert all(entry.merchant_id == merchant_a.pk for entry in AuditLog.objects.filter(pk__in=listed(response)))


def test_an_admin_sees_the_audit_log(client, merchant_a):
    admin = factories.member(merchant_a, "admin@example.org", Membership.Role.ADMIN)

    assert login(client, admin).get(AUDIT).status_code == 200


@pytest.mark.parametrize("role", ["developer", "support", "accountant"])
def test_other_roles_do_not_see_the_audit_log(client, merchant_a, role):
    person = factories.member(merchant_a, f"{role}@example.org", role)

    assert login(client, person).get(AUDIT).status_code == 403


def test_the_audit_log_is_read_only(owner_client, merchant_a):
    before = AuditLog.objects.filter(merchant=merchant_a).count()

    response = owner_client.post(AUDIT)

    assert response.status_code == 405
    assert AuditLog.objects.filter(merchant=merchant_a).count() == before
