"""Factories for the shared cast of tenants; one place, used by every test module."""

import json

from django.test import Client
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from merchants.models import ApiKey, Membership, Merchant, User
from merchants.services.audit import Actor
from merchants.services.keys import create_api_key
from merchants.services.organisations import approve_merchant, create_merchant

PASSWORD = "correct-horse-battery-staple"


def user(email, password=PASSWORD, verified=True, **extra) -> User:
    return User.objects.create_user(
        email=email, password=password, email_verified_at=timezone.now() if verified else None, **extra
    )


def merchant(name, owner=None, **fields) -> Merchant:
    owner = owner or user(f"owner-{name.lower().replace(' ', '-')}@example.org")
    created = create_merchant(owner, name)
    if fields:
        Merchant.objects.filter(pk=created.pk).update(**fields)
        created.refresh_from_db()
    return created


def member(merchant_obj, email, role) -> User:
    person = user(email)
    Membership.objects.create(user=person, merchant=merchant_obj, role=role)
    return person


COMPLETE_PROFILE = {
    "legal_form": Merchant.LegalForm.COMPANY,
    "country": "FR",
    "registration_number": "732829320",
    "vat_number": "FR40303265045",
    "iban": "FR1420041010050500013M02606",
    "website": "https://shop.example.org",
    "support_email": "support@example.org",
    "statement_descriptor": "ALICE SHOP",
}


def live_merchant(name, owner=None) -> Merchant:
    """A merchant that may take live payments: complete profile, owner with 2FA, approved."""
    created = merchant(name, owner=owner, **COMPLETE_PROFILE)
    for membership in created.memberships.all():
        TOTPDevice.objects.create(user=membership.user, name="phone", confirmed=True)
    staff = User.objects.filter(is_staff=True).first() or User.objects.create_superuser(
        f"staff-{created.pk}@platform.test", PASSWORD
    )
    return approve_merchant(created, staff)


def secret_key(merchant_obj, is_live=False) -> str:
    _, raw = create_api_key(merchant_obj, is_live=is_live, kind=ApiKey.Kind.SECRET, actor=Actor.system("tests"))
    return raw


def publishable_key(merchant_obj, is_live=False) -> str:
    key = merchant_obj.api_keys.filter(kind=ApiKey.Kind.PUBLISHABLE, is_live=is_live).usable().first()
    return key.publishable_value


class ApiClient:
    """Django's test client speaking the v1 API: JSON bodies and a Bearer key."""

    def __init__(self, key: str):
        self.key = key
        self.client = Client()

    def _headers(self, extra):
        headers = {"Authorization": f"Bearer {self.key}"}
        headers.update(extra or {})
        return headers

    def get(self, path, params=None, headers=None):
        return self.client.get(path, params or {}, headers=self._headers(headers))

    def post(self, path, body=None, headers=None):
        data = "" if body is None else json.dumps(body)
        return self.client.post(path, data, content_type="application/json", headers=self._headers(headers))

    def patch(self, path, body=None, headers=None):
        data = "" if body is None else json.dumps(body)
        return self.client.patch(path, data, content_type="application/json", headers=self._headers(headers))

    def delete(self, path, headers=None):
        return self.client.delete(path, headers=self._headers(headers))
