"""Acquirer connectors and routes, per merchant and mode (configured by platform staff).

A connector's credentials (API key, webhook secret / HMAC key) are sealed with the key ring the way
the card vault seals card numbers (envelope encryption): each connector row has a random 256-bit
data key; each secret is encrypted with it (AES-256-GCM, the row's public id and the field name as
associated data, so a ciphertext copied onto another row or field does not decrypt), and the data
key is wrapped by the newest master key of the ring. Only the last four characters and the date a
secret was set are kept in clear, for the admin. `manage.py rotate_keys` re-wraps the data keys
under the newest master key (`rewrap_all`), so that older master key versions can be retired.

Building a connector from a row (unsealing in memory, `ConnectorConfig`) is
`payments.acquirers.routing`'s job: the acquirers sit above the models in the layers.
"""

from __future__ import annotations

import ipaddress
import os
from urllib.parse import urlsplit

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from merchants.tenancy import TenantModel
from payplug.ids import id_factory
from payplug.keyring import NONCE_BYTES, get_key_ring

SECRET_FIELDS = ("api_key", "webhook_secret")


def is_loopback(host: str) -> bool:
    if not host:
        return False
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_base_url(url: str) -> None:
    """https:// anything; http:// only to a loopback host. Raises ValueError (the URL stays out of
    the message: it could carry credentials)."""
    if not url:
        return
    parts = urlsplit(url)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise ValueError("must be an https:// URL")
    if parts.username or parts.password or parts.query or parts.fragment:
        raise ValueError("must not hold credentials, a query or a fragment")
    if parts.scheme == "http" and not is_loopback(parts.hostname):
        raise ValueError("must use https (plain http only for a loopback host)")


class AcquirerConnector(TenantModel):
    """One acquirer account of a merchant in one mode (test or live)."""

    class Provider(models.TextChoices):
        SANDBOX = "sandbox", _("Sandbox (simulated, no money moves)")
        GENERIC_HTTP = "generic_http", _("Generic HTTP acquirer")
        STRIPE = "stripe", _("Stripe")
        ADYEN = "adyen", _("Adyen")

    public_id = models.CharField(max_length=40, unique=True, default=id_factory("acq"), editable=False)
    provider = models.CharField(_("provider"), max_length=20, choices=Provider.choices)
    label = models.CharField(_("label"), max_length=100)
    is_enabled = models.BooleanField(_("enabled"), default=True)
    test_environment = models.BooleanField(
        _("provider's test environment"),
        default=True,
        help_text=_("Use the provider's own test environment, with test credentials."),
    )
    base_url = models.CharField(
        _("API base URL"),
        max_length=300,
        blank=True,
        help_text=_("Empty: the provider's default from the settings. https:// only (http:// to a loopback host)."),
    )
    merchant_account = models.CharField(_("merchant account (Adyen)"), max_length=100, blank=True)
    live_url_prefix = models.CharField(
        _("live URL prefix (Adyen)"),
        max_length=100,
        blank=True,
        help_text=_("Adyen's live endpoint prefix of this merchant, from the Customer Area."),
    )
    # Envelope: the data key wrapped by master key `key_version`; the secrets sealed with it.
    key_version = models.PositiveIntegerField(null=True, blank=True, editable=False)
    wrapped_key = models.BinaryField(null=True, blank=True, editable=False)
    api_key_sealed = models.BinaryField(null=True, blank=True, editable=False)
    api_key_last4 = models.CharField(max_length=4, blank=True, editable=False)
    api_key_set_at = models.DateTimeField(null=True, blank=True, editable=False)
    webhook_secret_sealed = models.BinaryField(null=True, blank=True, editable=False)
    webhook_secret_last4 = models.CharField(max_length=4, blank=True, editable=False)
    webhook_secret_set_at = models.DateTimeField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    rotated_at = models.DateTimeField(null=True, blank=True, editable=False)  # a secret was replaced
    rewrapped_at = models.DateTimeField(null=True, blank=True, editable=False)  # re-wrapped by rotate_keys

    class Meta:
        verbose_name = _("acquirer connector")
        verbose_name_plural = _("acquirer connectors")
        indexes = [models.Index(fields=["merchant", "is_live"]), models.Index(fields=["key_version"])]

    def __str__(self):
        return f"{self.label} ({self.get_provider_display()}, {'live' if self.is_live else 'test'})"

    def clean(self):
        errors = {}
        try:
            check_base_url(self.base_url)
        except ValueError:
            errors["base_url"] = _(
                "The base URL must be an https:// URL without credentials, query or fragment "
                "(plain http:// only to a loopback host)."
            )
        if self.provider == self.Provider.ADYEN:
            if not self.merchant_account:
                errors["merchant_account"] = _("Adyen needs the merchant account.")
            if not self.test_environment and not self.base_url and not self.live_url_prefix:
                errors["live_url_prefix"] = _("Adyen's live endpoints need the merchant's live URL prefix.")
        if (
            not self.is_live
            and not self.test_environment
            and self.provider in (self.Provider.STRIPE, self.Provider.ADYEN)
        ):
            errors["test_environment"] = _("A test-mode connector must use the provider's test environment.")
        if self.is_live and self.provider == self.Provider.SANDBOX and settings.LIVE_ACQUIRER != "sandbox":
            errors["provider"] = _("The sandbox cannot take live payments on this installation.")
        if errors:
            raise ValidationError(errors)

    # --- sealed credentials ----------------------------------------------------------------------

    def _context(self, field: str) -> bytes:
        return f"payments:connector:{self.public_id}:{field}".encode()

    def _data_key(self) -> bytes | None:
        if self.wrapped_key is None:
            return None
        return get_key_ring().unwrap(self.key_version, bytes(self.wrapped_key), self._context("data_key"))

    def has_secret(self, field: str) -> bool:
        return getattr(self, f"{field}_sealed") is not None

    def unseal(self, field: str) -> str:
        """The secret in clear, for building the connector in memory. Never log or store it."""
        blob = getattr(self, f"{field}_sealed")
        if blob is None:
            return ""
        blob = bytes(blob)
        plain = AESGCM(self._data_key()).decrypt(blob[:NONCE_BYTES], blob[NONCE_BYTES:], self._context(field))
        return plain.decode()

    def set_secrets(self, **secrets: str | None) -> None:
        """Replace some secrets (`api_key=`, `webhook_secret=`; None leaves one unchanged, "" clears
        it). Everything is re-sealed under a fresh data key wrapped by the newest master key: the
        old ciphertexts are gone. The caller saves the row."""
        unknown = set(secrets) - set(SECRET_FIELDS)
        if unknown:
            raise TypeError(f"unknown secret field(s): {sorted(unknown)}")
        changes = {name: value for name, value in secrets.items() if value is not None}
        if not changes:
            return
        now = timezone.now()
        plain = {name: self.unseal(name) if self.has_secret(name) else None for name in SECRET_FIELDS}
        plain.update({name: value or None for name, value in changes.items()})
        ring = get_key_ring()
        data_key = AESGCM.generate_key(bit_length=256)
        self.key_version, self.wrapped_key = ring.wrap(data_key, self._context("data_key"))
        for name in SECRET_FIELDS:
            value = plain[name]
            if value is None:
                sealed = None
            else:
                nonce = os.urandom(NONCE_BYTES)
                sealed = nonce + AESGCM(data_key).encrypt(nonce, value.encode(), self._context(name))
            setattr(self, f"{name}_sealed", sealed)
        for name, value in changes.items():
            setattr(self, f"{name}_last4", (value or "")[-4:])
            setattr(self, f"{name}_set_at", now if value else None)
        if self.pk is not None and self.created_at is not None:
            self.rotated_at = now
        if not any(plain.values()):
            self.key_version = self.wrapped_key = None

    def rewrap(self) -> bool:
        """Re-wrap the data key under the newest master key (the secrets' ciphertexts unchanged)."""
        if self.wrapped_key is None:
            return False
        ring = get_key_ring()
        if self.key_version == ring.current_version:
            return False
        data_key = self._data_key()
        self.key_version, self.wrapped_key = ring.wrap(data_key, self._context("data_key"))
        self.rewrapped_at = timezone.now()
        return True


def rewrap_all() -> int:
    """Re-wrap every connector's data key not yet under the newest master key (rotate_keys)."""
    current = get_key_ring().current_version
    ids = (
        AcquirerConnector.objects.exclude(wrapped_key=None)
        .exclude(key_version=current)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    done = 0
    for pk in list(ids):
        with transaction.atomic():
            row = AcquirerConnector.objects.select_for_update().get(pk=pk)
            if row.rewrap():
                row.save(update_fields=["key_version", "wrapped_key", "rewrapped_at"])
                done += 1
    return done


class AcquirerRoute(TenantModel):
    """One step of a merchant's ordered route in one mode: when a payment matches the conditions,
    the connector is a candidate (in `position` order). Empty lists and null bounds match anything."""

    position = models.PositiveIntegerField(_("position"), default=0)
    connector = models.ForeignKey(
        AcquirerConnector, on_delete=models.CASCADE, related_name="routes", verbose_name=_("connector")
    )
    card_brands = models.JSONField(
        _("card brands"), default=list, blank=True, help_text=_("Empty: any brand. E.g. Visa, Mastercard, CB.")
    )
    min_amount = models.PositiveIntegerField(_("minimum amount (cents)"), null=True, blank=True)
    max_amount = models.PositiveIntegerField(_("maximum amount (cents)"), null=True, blank=True)
    card_countries = models.JSONField(
        _("card countries"), default=list, blank=True, help_text=_("ISO alpha-2 codes of the issuer. Empty: any.")
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("acquirer route")
        verbose_name_plural = _("acquirer routes")
        ordering = ["merchant_id", "is_live", "position", "pk"]
        indexes = [models.Index(fields=["merchant", "is_live", "position"])]

    def __str__(self):
        return f"#{self.position} {self.connector_id}"

    def clean(self):
        errors = {}
        connector = self.connector if self.connector_id else None
        if connector is not None and (connector.merchant_id != self.merchant_id or connector.is_live != self.is_live):
            errors["connector"] = _("The connector must belong to the same merchant and mode as the route.")
        if not isinstance(self.card_brands, list) or not all(isinstance(b, str) and b for b in self.card_brands):
            errors["card_brands"] = _("A list of card brand names.")
        if not isinstance(self.card_countries, list) or not all(
            isinstance(c, str) and len(c) == 2 and c.isalpha() and c.isupper() for c in self.card_countries
        ):
            errors["card_countries"] = _("A list of ISO 3166 alpha-2 country codes (FR, DE...).")
        if self.min_amount is not None and self.max_amount is not None and self.min_amount > self.max_amount:
            errors["max_amount"] = _("The maximum amount must not be below the minimum amount.")
        if errors:
            raise ValidationError(errors)

    def matches(self, *, brand: str | None, amount: int, country: str | None) -> bool:
        if self.card_brands and (brand or "").casefold() not in {b.casefold() for b in self.card_brands}:
            return False
        if self.min_amount is not None and amount < self.min_amount:
            return False
        if self.max_amount is not None and amount > self.max_amount:
            return False
        return not (self.card_countries and (country or "").upper() not in self.card_countries)
