"""Identity and tenancy: users, merchants (organisations), team roles, API keys, audit log."""

from __future__ import annotations

import hashlib

from django.conf import settings
from django.contrib.auth.base_user import BaseUserManager
from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_otp import device_classes

from merchants import keycache
from payplug.dates import DEFAULT_TIME_ZONE, validate_time_zone
from payplug.ids import id_factory


class UserManager(BaseUserManager):
    use_in_migrations = True

    def _create_user(self, email, password, **extra):
        if not email:
            raise ValueError("An email address is required.")
        email = self.normalize_email(email).lower()
        user = self.model(email=email, **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email, password=None, **extra):
        extra.setdefault("is_staff", False)
        extra.setdefault("is_superuser", False)
        return self._create_user(email, password, **extra)

    def create_superuser(self, email, password=None, **extra):
        extra.setdefault("is_staff", True)
        extra.setdefault("is_superuser", True)
        extra.setdefault("email_verified_at", timezone.now())
        return self._create_user(email, password, **extra)

    def get_by_natural_key(self, username):
        # Emails are stored in lower case; compare exactly (a binary collation makes iexact case-sensitive).
        return self.get(email=username.strip().lower())


class User(AbstractUser):
    """A person who logs in to the dashboard; identified by email."""

    username = None
    email = models.EmailField(_("email address"), unique=True)
    full_name = models.CharField(_("full name"), max_length=150, blank=True)
    email_verified_at = models.DateTimeField(null=True, blank=True)
    preferred_language = models.CharField(max_length=8, blank=True, default="")

    USERNAME_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []

    objects = UserManager()

    def __str__(self):
        return self.email

    @property
    def email_verified(self) -> bool:
        return self.email_verified_at is not None

    @property
    def display_name(self) -> str:
        return self.full_name or self.email


class AuthenticationDataQuerySet(models.QuerySet):
    """Merchants and API keys: bulk writes tell the API key cache (merchants.keycache), as save()
    and delete() do through merchants.signals."""

    # Fields no authentication decision reads, written on their own without a new version.
    unseen_fields: frozenset[str] = frozenset()

    def update(self, **kwargs):
        count = super().update(**kwargs)
        if not set(kwargs) <= self.unseen_fields:
            keycache.changed()
        return count

    update.alters_data = True

    def bulk_update(self, objs, fields, batch_size=None):
        count = super().bulk_update(objs, fields, batch_size=batch_size)
        keycache.changed()
        return count

    bulk_update.alters_data = True


class Merchant(models.Model):
    """An organisation that takes payments. Every merchant-owned row points here."""

    class LegalForm(models.TextChoices):
        COMPANY = "company", _("Company")
        SOLE_TRADER = "sole_trader", _("Sole trader / independent")
        ASSOCIATION = "association", _("Association")

    class Status(models.TextChoices):
        ONBOARDING = "onboarding", _("Onboarding")
        PENDING_REVIEW = "pending_review", _("Awaiting approval")
        APPROVED = "approved", _("Approved")
        SUSPENDED = "suspended", _("Suspended")

    public_id = models.CharField(max_length=40, unique=True, default=id_factory("acct"), editable=False)
    name = models.CharField(_("organisation name"), max_length=120)
    legal_form = models.CharField(_("legal form"), max_length=20, choices=LegalForm.choices, blank=True)
    country = models.CharField(_("country"), max_length=2, blank=True)
    registration_number = models.CharField(_("registration number"), max_length=40, blank=True)
    vat_number = models.CharField(_("VAT number"), max_length=20, blank=True)
    iban = models.CharField(_("payout IBAN"), max_length=34, blank=True)
    bic = models.CharField(_("BIC"), max_length=11, blank=True)
    website = models.URLField(_("website"), blank=True)
    support_email = models.EmailField(_("support email"), blank=True)
    statement_descriptor = models.CharField(_("statement descriptor"), max_length=22, blank=True)

    status = models.CharField(max_length=20, choices=Status.choices, default=Status.ONBOARDING)
    approved_at = models.DateTimeField(null=True, blank=True)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    # Checkout branding (shown on hosted pages).
    brand_name = models.CharField(_("name shown to shoppers"), max_length=60, blank=True)
    brand_color = models.CharField(_("brand colour"), max_length=7, default="#1f5fbf")
    logo = models.ImageField(_("logo"), upload_to="logos/", blank=True)
    # Every date of the dashboard, its CSV and its emails is shown in this zone (payplug.dates).
    time_zone = models.CharField(
        _("time zone"), max_length=64, default=DEFAULT_TIME_ZONE, validators=[validate_time_zone]
    )

    # Payment settings.
    min_amount = models.PositiveIntegerField(default=99)
    max_amount = models.PositiveIntegerField(default=2_000_000)
    live_save_card_enabled = models.BooleanField(_("saved cards in live mode"), default=False)
    # Visa, Mastercard, Maestro and CB are always accepted; American Express only when the merchant
    # turned it on in Settings (payments.cards.is_accepted).
    accepts_american_express = models.BooleanField(_("American Express accepted"), default=False)
    blocked_countries = models.JSONField(default=list, blank=True)
    allowed_origins = models.JSONField(default=list, blank=True)

    # Whether live mode is open: the rule of live_mode_rule_holds(), stored so that a live API request,
    # which loads the merchant with its key, pays no query for it. Kept up to date by save() below and
    # by services.refresh_live_ready(), which merchants.signals runs when memberships or second
    # factors change. Never edited by hand.
    live_ready = models.BooleanField(default=False, editable=False)

    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = AuthenticationDataQuerySet.as_manager()

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name

    def save(self, *args, **kwargs):
        # Live mode follows the row's own fields here; memberships and devices in merchants.signals.
        update_fields = kwargs.get("update_fields")
        if update_fields is None or not self.LIVE_RULE_FIELDS.isdisjoint(update_fields):
            self.live_ready = self.live_mode_rule_holds()
            if update_fields is not None:
                kwargs["update_fields"] = {*update_fields, "live_ready"}
        super().save(*args, **kwargs)

    @property
    def display_name(self) -> str:
        return self.brand_name or self.name

    # --- live-mode readiness -------------------------------------------------------
    PROFILE_FIELDS = (
        "legal_form",
        "country",
        "registration_number",
        "iban",
        "website",
        "support_email",
        "statement_descriptor",
    )

    def missing_profile_fields(self) -> list[str]:
        missing = [name for name in self.PROFILE_FIELDS if not getattr(self, name)]
        # VAT is optional for associations and small sole traders under the franchise threshold.
        if self.legal_form == self.LegalForm.COMPANY and not self.vat_number:
            missing.append("vat_number")
        return missing

    @property
    def profile_complete(self) -> bool:
        return not self.missing_profile_fields()

    def _admins_without_two_factor(self):
        """The owner and admin memberships whose user has no confirmed device of any kind
        (django_otp.devices_for_user(user, confirmed=True) is empty: no TOTP app, no backup codes)."""
        if self.pk is None:
            return Membership.objects.none()
        memberships = self.memberships.filter(role__in=[Membership.Role.OWNER, Membership.Role.ADMIN])
        for model in device_classes():
            memberships = memberships.exclude(
                models.Exists(model.objects.filter(user_id=models.OuterRef("user_id"), confirmed=True))
            )
        return memberships

    def admins_without_two_factor(self):
        return [membership.user for membership in self._admins_without_two_factor().select_related("user")]

    @property
    def is_approved(self) -> bool:
        return self.status == self.Status.APPROVED

    def live_mode_rule_holds(self) -> bool:
        """Live mode needs staff approval, a complete profile, and 2FA on every owner and admin.

        Runs queries: read `live_enabled` instead, except to recompute `live_ready`.
        """
        return self.is_approved and self.profile_complete and not self._admins_without_two_factor().exists()

    @property
    def live_enabled(self) -> bool:
        """Whether live mode is open, as of when this row was loaded (or last saved); no query."""
        return self.live_ready

    # The fields live_mode_rule_holds() reads on this row; memberships and devices are followed by signals.
    LIVE_RULE_FIELDS = frozenset({"status", "vat_number", *PROFILE_FIELDS})


class Membership(models.Model):
    class Role(models.TextChoices):
        OWNER = "owner", _("Owner")
        ADMIN = "admin", _("Admin")
        DEVELOPER = "developer", _("Developer")
        SUPPORT = "support", _("Support")
        ACCOUNTANT = "accountant", _("Accountant")

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    merchant = models.ForeignKey(Merchant, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=20, choices=Role.choices)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "merchant"], name="unique_membership")]
        ordering = ["created_at"]

    def __str__(self):
        return f"{self.user} @ {self.merchant} ({self.role})"


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class Invitation(models.Model):
    merchant = models.ForeignKey(Merchant, on_delete=models.CASCADE, related_name="invitations")
    email = models.EmailField()
    role = models.CharField(max_length=20, choices=Membership.Role.choices)
    token_hash = models.CharField(max_length=64, unique=True)
    invited_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self):
        return f"{self.email} -> {self.merchant} ({self.role})"

    @property
    def is_pending(self) -> bool:
        return self.accepted_at is None and self.revoked_at is None and self.expires_at > timezone.now()


class ApiKeyQuerySet(AuthenticationDataQuerySet):
    # find_api_key records the last use once a minute: no reason to drop every process's cache.
    unseen_fields = frozenset({"last_used_at"})

    def usable(self, now=None):
        now = now or timezone.now()
        return self.filter(revoked_at__isnull=True).filter(
            models.Q(expires_at__isnull=True) | models.Q(expires_at__gt=now)
        )


class ApiKey(models.Model):
    """A secret (`sk_`) or publishable (`pk_`) key of one merchant in one mode.

    Secret keys are stored as a keyed hash only and shown once; publishable keys are
    public by design and kept in clear so the dashboard can show them.
    """

    class Kind(models.TextChoices):
        SECRET = "secret", _("Secret")
        PUBLISHABLE = "publishable", _("Publishable")

    merchant = models.ForeignKey(Merchant, on_delete=models.CASCADE, related_name="api_keys")
    is_live = models.BooleanField()
    kind = models.CharField(max_length=12, choices=Kind.choices)
    # First characters of the key (`sk_test_AbCd`), to recognise it in lists.
    prefix = models.CharField(max_length=24)
    key_hash = models.CharField(max_length=64, unique=True)
    publishable_value = models.CharField(max_length=80, blank=True)
    name = models.CharField(max_length=60, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    last_used_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    objects = ApiKeyQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["merchant", "is_live", "kind"])]

    def __str__(self):
        return f"{self.prefix}…"

    @staticmethod
    def hash_key(raw_key: str) -> str:
        # Keys carry 32 random base62 characters (190 bits): a plain SHA-256 cannot be brute-forced,
        # needs no slow hash, and keeps authentication to one indexed lookup.
        return hashlib.sha256(raw_key.encode()).hexdigest()

    @staticmethod
    def rate_limit_bucket(key_hash: str) -> str:
        """The API rate limit bucket of a key: one per key, named from its hash, which a request
        knows before it reads anything (merchants.authentication)."""
        return "key:" + key_hash[:32]

    @property
    def mode(self) -> str:
        return "live" if self.is_live else "test"

    @property
    def is_active(self) -> bool:
        now = timezone.now()
        return self.revoked_at is None and (self.expires_at is None or self.expires_at > now)


class AuditLog(models.Model):
    """Append-only record of sensitive actions: who, what, when, from where."""

    merchant = models.ForeignKey(Merchant, null=True, on_delete=models.CASCADE, related_name="audit_logs")
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    actor_label = models.CharField(max_length=255, blank=True)  # kept if the user is deleted; "api key sk_..."
    action = models.CharField(max_length=64)  # dotted code: "api_key.rolled", "team.member_removed"
    is_live = models.BooleanField(null=True)
    object_type = models.CharField(max_length=40, blank=True)
    object_id = models.CharField(max_length=64, blank=True)
    data = models.JSONField(default=dict, blank=True)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=255, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["merchant", "-created_at"])]

    def __str__(self):
        return f"{self.created_at:%Y-%m-%d %H:%M} {self.action}"


class PluginPasswordQuerySet(models.QuerySet):
    def active(self):
        return self.filter(revoked_at__isnull=True)


class PluginPassword(models.Model):
    """A password a user made in the dashboard for one e-commerce plugin, as "app passwords" are.

    It lets a user with two-factor authentication connect a plugin that sends only an email and a
    password (`POST /v1/keys`, the PHP SDK's getKeysByLogin), and does nothing else: it never logs
    in to the dashboard. Only its hash is stored (Django's password hashers); it is shown once.
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="plugin_passwords")
    name = models.CharField(_("name"), max_length=60)
    password_hash = models.CharField(max_length=255)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    objects = PluginPasswordQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self):
        return self.name
