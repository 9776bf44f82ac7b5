"""Issue 12, finding 21: an invitation starts on the least-privileged role, never on Owner."""

import re

import pytest
from django.urls import reverse

from merchants import roles
from merchants.forms.team import InviteForm
from merchants.models import Membership

Role = Membership.Role


def selected_role(html: str) -> list[str]:
    select = re.search(r'<select[^>]*name="role"[^>]*>(.*?)</select>', html, re.S)
    assert select, "no role select on the page"
    return re.findall(r'<option value="(\w+)"[^>]*\bselected\b', select.group(1))


def test_the_least_privileged_role_is_the_accountant():
    fewest = min(len(permissions) for permissions in roles.PERMISSIONS.values())
    assert len(roles.PERMISSIONS[Role.ACCOUNTANT]) == fewest


@pytest.mark.parametrize("inviter", [Role.OWNER, Role.ADMIN])
def test_the_invite_form_starts_on_the_least_privileged_role(inviter):
    form = InviteForm(roles=roles.assignable_roles(inviter))

    assert form["role"].value() == Role.ACCOUNTANT
    assert selected_role(str(form["role"])) == [Role.ACCOUNTANT]


def test_the_team_page_preselects_the_least_privileged_role(client, alice, merchant_a):
    client.force_login(alice)  # an owner: Owner is offered, not preselected

    html = client.get(reverse("dashboard:team")).content.decode()

    assert 'value="owner"' in html
    assert selected_role(html) == [Role.ACCOUNTANT]


def test_a_posted_role_still_wins():
    form = InviteForm({"email": "dev@example.org", "role": Role.DEVELOPER}, roles=roles.assignable_roles(Role.OWNER))

    assert form.is_valid() and form.cleaned_data["role"] == Role.DEVELOPER
