"""Signing secrets (`whsec_...`) and the `X-Signature` header (spec §15).

Secrets are encrypted at rest with the platform key ring (AES-256-GCM, the same master keys as
the card vault), bound to the row they belong to, and decrypted only to sign. They are shown to
the merchant once, when created or rotated.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from notifications.models import IpnSecret, WebhookEndpoint
from payplug.ids import random_base62
from payplug.keyring import get_key_ring

SECRET_PREFIX = "whsec_"
ROTATION_OVERLAP = timedelta(hours=24)


def new_secret() -> str:
    return SECRET_PREFIX + random_base62(32)


def _context(row) -> bytes:
    if isinstance(row, IpnSecret):
        return f"notifications:ipn:{row.merchant_id}:{int(row.is_live)}".encode()
    return f"notifications:webhook:{row.public_id}".encode()


def set_secret(row, secret: str, *, keep_previous: bool) -> None:
    """Store `secret` as the current one (encrypted); with keep_previous the old one stays valid 24 h."""
    if keep_previous and row.secret_encrypted:
        row.previous_secret_key_version = row.secret_key_version
        row.previous_secret_encrypted = bytes(row.secret_encrypted)
        row.previous_secret_expires_at = timezone.now() + ROTATION_OVERLAP
    version, blob = get_key_ring().wrap(secret.encode(), _context(row))
    row.secret_key_version = version
    row.secret_encrypted = blob
    row.secret_created_at = timezone.now()


def valid_secrets(row, now=None) -> list[str]:
    """The secrets that sign a delivery now: the current one, then the previous during its overlap."""
    now = now or timezone.now()
    ring = get_key_ring()
    secrets = [ring.unwrap(row.secret_key_version, bytes(row.secret_encrypted), _context(row)).decode()]
    if row.previous_secret_encrypted and row.previous_secret_expires_at and row.previous_secret_expires_at > now:
        previous = ring.unwrap(row.previous_secret_key_version, bytes(row.previous_secret_encrypted), _context(row))
        secrets.append(previous.decode())
    return secrets


def rewrap(row) -> bool:
    """Re-encrypt the row's secrets with the newest master key (after a key-ring rotation)."""
    ring = get_key_ring()
    changed = False
    if row.secret_key_version != ring.current_version:
        plain = ring.unwrap(row.secret_key_version, bytes(row.secret_encrypted), _context(row))
        row.secret_key_version, row.secret_encrypted = ring.wrap(plain, _context(row))
        changed = True
    if row.previous_secret_encrypted and row.previous_secret_key_version != ring.current_version:
        plain = ring.unwrap(row.previous_secret_key_version, bytes(row.previous_secret_encrypted), _context(row))
        row.previous_secret_key_version, row.previous_secret_encrypted = ring.wrap(plain, _context(row))
        changed = True
    return changed


def sign(secret: str, timestamp: int, body: bytes) -> str:
    return hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()


def signature_header(secrets: list[str], timestamp: int, body: bytes) -> str:
    """`t=<unix seconds>,v1=<hex>[,v1=<hex>]`: one v1 per valid secret, the newest first."""
    return ",".join([f"t={timestamp}", *(f"v1={sign(secret, timestamp, body)}" for secret in secrets)])


def rotate_all() -> int:
    """Re-encrypt every webhook and IPN signing secret under the newest master key (rotate_keys)."""
    fields = ["secret_key_version", "secret_encrypted", "previous_secret_key_version", "previous_secret_encrypted"]
    done = 0
    for model in (WebhookEndpoint, IpnSecret):
        for pk in model.objects.order_by("pk").values_list("pk", flat=True):
            with transaction.atomic():
                row = model.objects.select_for_update().get(pk=pk)
                if rewrap(row):
                    row.save(update_fields=fields)
                    done += 1
    return done
