"""Create or refresh a demo merchant and print its dashboard login and test keys."""

import json
import re
import secrets

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from merchants.models import ApiKey, Membership, Merchant, User
from merchants.services.audit import Actor
from merchants.services.keys import create_api_key, revoke_api_key
from merchants.services.organisations import create_merchant


def demo_slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")


def demo_login(slug: str) -> str:
    """The demo owner's email (seed_demo_data finds the merchant by it)."""
    return f"{slug}@demo.payplatform.test"


class Command(BaseCommand):
    help = "Create or refresh a demo merchant (test mode) and print its login, password and test keys."

    def add_arguments(self, parser):
        parser.add_argument("--name", default="demo", help="merchant name; another name gives another merchant")
        parser.add_argument("--json", action="store_true", help="print one JSON object")

    def handle(self, *args, name, **options):
        as_json = options["json"]
        slug = demo_slug(name)
        if not slug:
            raise CommandError("--name needs at least one letter or digit.")
        email = demo_login(slug)
        password = secrets.token_urlsafe(12)
        actor = Actor.system("seed_demo")
        with transaction.atomic():
            user = User.objects.filter(email=email).first()
            if user is None:
                user = User.objects.create_user(email=email, password=password, full_name=f"{name} owner")
            else:
                user.set_password(password)
            user.email_verified_at = user.email_verified_at or timezone.now()
            user.is_active = True
            user.save()
            membership = (
                Membership.objects.filter(user=user, role=Membership.Role.OWNER).select_related("merchant").first()
            )
            merchant = membership.merchant if membership else create_merchant(user, name, actor)
            if not merchant.legal_form:
                Merchant.objects.filter(pk=merchant.pk).update(
                    legal_form=Merchant.LegalForm.COMPANY,
                    country="FR",
                    website="https://shop.example.org",
                    support_email=f"support@{slug}.example.org",
                    statement_descriptor=name.upper()[:22],
                )
            # A fresh secret key each run; earlier demo keys are revoked.
            for old in merchant.api_keys.filter(is_live=False, kind=ApiKey.Kind.SECRET).usable():
                revoke_api_key(old, actor)
            _, secret_key = create_api_key(merchant, is_live=False, kind=ApiKey.Kind.SECRET, actor=actor, name="demo")
            publishable = merchant.api_keys.filter(is_live=False, kind=ApiKey.Kind.PUBLISHABLE).usable().first()
            if publishable is None:
                publishable, _ = create_api_key(merchant, is_live=False, kind=ApiKey.Kind.PUBLISHABLE, actor=actor)
        result = {
            "merchant": merchant.name,
            "merchant_id": merchant.public_id,
            "login": email,
            "password": password,
            "secret_key": secret_key,
            "publishable_key": publishable.publishable_value,
        }
        if as_json:
            self.stdout.write(json.dumps(result))
            return
        self.stdout.write(self.style.SUCCESS(f"Demo merchant '{merchant.name}' is ready (test mode)."))
        self.stdout.write(f"  Dashboard:        {settings.PUBLIC_BASE_URL}/login/")
        self.stdout.write(f"  Login:            {email}")
        self.stdout.write(f"  Password:         {password}")
        self.stdout.write(f"  Secret key:       {secret_key}")
        self.stdout.write(f"  Publishable key:  {publishable.publishable_value}")
