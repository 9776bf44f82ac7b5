"""The dashboard home's registry (merchants.home, issue 12, finding 12): apps above merchants add
panels, attention items and counters; the home shows them by role, organisation and mode."""

from datetime import UTC, datetime

import pytest

from merchants import home, roles
from merchants.models import Membership


class Dashboard:
    """What the registry reads of `request.dashboard`."""

    def __init__(self, merchant="shop", role=Membership.Role.OWNER, is_live=False):
        self.merchant, self.role, self.is_live = merchant, role, is_live

    def can(self, permission):
        return roles.role_allows(self.role, permission)


@pytest.fixture
def registry(monkeypatch):
    monkeypatch.setattr(home, "_panels", {})
    monkeypatch.setattr(home, "_sources", {})
    monkeypatch.setattr(home, "_counters", {})
    return home


def test_panels_are_shown_in_order_as_the_role_allows_and_hidden_when_they_have_nothing(registry):
    registry.register_panel("b", "b.html", lambda d: {"mode": d.is_live}, order=20)
    registry.register_panel("a", "a.html", lambda d: {"x": 1}, permission=roles.VIEW_BALANCE, order=10)
    registry.register_panel("empty", "e.html", lambda d: None, order=5)

    assert [p["name"] for p in registry.panels(Dashboard())] == ["a", "b"]
    assert [p["name"] for p in registry.panels(Dashboard(role=Membership.Role.DEVELOPER))] == ["b"]
    assert registry.panels(Dashboard(is_live=True))[1]["context"] == {"mode": True}
    assert registry.panels(Dashboard(merchant=None)) == []


def test_attention_items_come_most_urgent_first_and_follow_the_role(registry):
    soon, later = datetime(2031, 1, 1, tzinfo=UTC), datetime(2031, 2, 1, tzinfo=UTC)
    registry.register_attention(
        "disputes",
        lambda d: [home.Attention("later", "/l", due_at=later), home.Attention("soon", "/s", due_at=soon)],
        permission=roles.VIEW_PAYMENTS,
    )
    registry.register_attention(
        "webhooks", lambda d: [home.Attention("hook", "/w", severity="danger")], permission=roles.MANAGE_WEBHOOKS
    )
    registry.register_attention("info", lambda d: [home.Attention("fyi", "/i", severity="info")])

    assert [i.title for i in registry.attention(Dashboard())] == ["hook", "soon", "later", "fyi"]
    assert [i.title for i in registry.attention(Dashboard(role=Membership.Role.ACCOUNTANT))] == ["soon", "later", "fyi"]


def test_registering_a_name_again_replaces_it(registry):
    registry.register_attention("x", lambda d: [home.Attention("one", "/")])
    registry.register_attention("x", lambda d: [home.Attention("two", "/")])

    assert [i.title for i in registry.attention(Dashboard())] == ["two"]


def test_a_counter_is_zero_when_missing_or_not_allowed(registry):
    calls = []
    registry.register_counter("open_disputes", lambda d: calls.append(d) or 3, permission=roles.VIEW_PAYMENTS)

    assert registry.count("open_disputes", Dashboard()) == 3
    assert registry.count("open_disputes", Dashboard(role="nobody")) == 0
    assert registry.count("unknown", Dashboard()) == 0
    assert len(calls) == 1  # not asked when the role may not see it


def test_payments_fraud_and_notifications_register_their_parts():
    assert {"payments", "balance"} <= set(home._panels)
    assert {"disputes", "stuck_payments", "fraud_reviews", "failing_endpoints"} <= set(home._sources)
    assert "open_disputes" in home._counters
