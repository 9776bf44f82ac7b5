"""Issue 12, finding 19: the audit log reads as sentences, "field: old → new" with translated
names, never Python lists or dicts."""

import pytest
from django.urls import reverse

from merchants.models import Membership
from merchants.services.audit import Actor, audit, describe

from .helpers_team import login

pytestmark = pytest.mark.django_db

AUDIT = reverse("dashboard:audit")
PYTHON = ("['", "{'", "[&#x27;", "{&#x27;", "[]", "{}", "': ", "&#x27;: ")


@pytest.fixture
def entries(merchant_a):
    actor = Actor.system("tests")
    audit(merchant_a, actor, "settings.profile_updated", obj_type="merchant", obj_id="acct_1", fields=["iban", "name"])
    audit(
        merchant_a,
        actor,
        "team.role_changed",
        obj_type="membership",
        obj_id=3,
        email="bob@example.org",
        previous=Membership.Role.DEVELOPER,
        role=Membership.Role.ADMIN,
    )
    audit(merchant_a, actor, "payment_link.updated", obj_type="payment_link", obj_id="plink_1", fields=["amount"])
    audit(
        merchant_a, actor, "settings.paybutton", obj_type="merchant", obj_id="acct_1", changes={"amount": [1000, 2500]}
    )
    audit(
        merchant_a,
        actor,
        "settings.other",
        obj_type="merchant",
        obj_id="acct_1",
        origins=["https://a.example"],
        empty=[],
    )


def test_the_page_shows_no_python_lists_or_dicts(client, alice, merchant_a, entries):
    html = login(client, alice).get(AUDIT).content.decode()

    for text in PYTHON:
        assert text not in html, text
    assert "Payout IBAN, Organisation name" in html
    assert "Role:</span> Developer → Admin" in html
    assert ">Organisation profile changed<" in html
    assert ">settings.profile_updated<" not in html, "the code is only the label's title (the filter takes codes)"


def test_a_change_reads_old_to_new(merchant_a):
    entry = audit(merchant_a, Actor.system(), "settings.other", changes={"website": ["", "https://shop.example"]})

    assert describe(entry)["details"] == [("Website", "— → https://shop.example")]


def test_an_unknown_action_is_still_readable(merchant_a):
    entry = audit(merchant_a, Actor.system(), "things.frobnicated", grace_hours=24, nested={"a": 1})

    shown = describe(entry)
    assert shown["action"] == "Things frobnicated"
    assert ("Grace period (hours)", "24") in shown["details"]
    assert ("Nested", "A: 1") in shown["details"]
