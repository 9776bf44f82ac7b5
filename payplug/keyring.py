"""The card-encryption key ring: versioned AES-256 master keys (our KMS analogue).

Master keys never encrypt card data directly. Each vault record gets its own random
data key; the key ring only wraps and unwraps those data keys (envelope encryption).
Rotation adds a higher version to the ring: new data keys are wrapped with it at once,
and `manage.py rotate_keys` re-wraps the old ones so that retired versions can go.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import os
from functools import lru_cache
from pathlib import Path

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

logger = logging.getLogger(__name__)

NONCE_BYTES = 12


class KeyRingError(Exception):
    pass


def _decode_key(text: str, version: int) -> bytes:
    try:
        key = base64.b64decode(text.strip(), validate=True)
    except ValueError as exc:
        raise ImproperlyConfigured(f"Card key version {version} is not valid base64.") from exc
    if len(key) != 32:
        raise ImproperlyConfigured(f"Card key version {version} must be 32 bytes (AES-256), got {len(key)}.")
    return key


def parse_key_ring(inline: str = "", path: str = "") -> dict[int, bytes]:
    keys: dict[int, bytes] = {}
    if path:
        data = json.loads(Path(path).read_text())
        for version, text in data.items():
            keys[int(version)] = _decode_key(text, int(version))
    for item in filter(None, (part.strip() for part in inline.split(","))):
        version, _, text = item.partition(":")
        if not version.isdigit() or not text:
            raise ImproperlyConfigured("CARD_KEYS must look like '1:<base64>,2:<base64>'.")
        keys[int(version)] = _decode_key(text, int(version))
    return keys


def generate_key() -> str:
    return base64.b64encode(os.urandom(32)).decode()


class KeyRing:
    def __init__(self, keys: dict[int, bytes]):
        if not keys:
            raise KeyRingError("the key ring is empty")
        self._keys = dict(keys)

    @property
    def current_version(self) -> int:
        return max(self._keys)

    @property
    def versions(self) -> list[int]:
        return sorted(self._keys)

    def wrap(self, data_key: bytes, context: bytes) -> tuple[int, bytes]:
        """Encrypt a data key with the newest master key; `context` is bound as associated data."""
        version = self.current_version
        nonce = os.urandom(NONCE_BYTES)
        return version, nonce + AESGCM(self._keys[version]).encrypt(nonce, data_key, context)

    def unwrap(self, version: int, wrapped: bytes, context: bytes) -> bytes:
        try:
            key = self._keys[version]
        except KeyError as exc:
            raise KeyRingError(f"master key version {version} is not in the key ring") from exc
        return AESGCM(key).decrypt(wrapped[:NONCE_BYTES], wrapped[NONCE_BYTES:], context)

    def fingerprint(self, value: str) -> str:
        """Keyed hash (HMAC-SHA256) of a card number: comparable, not reversible."""
        return hmac.new(fingerprint_key(), value.encode(), hashlib.sha256).hexdigest()


def _derive(secret: bytes, info: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=info).derive(secret)


@lru_cache(maxsize=1)
def _configured_keys() -> dict[int, bytes]:
    keys = parse_key_ring(settings.CARD_KEYS, settings.CARD_KEYS_FILE)
    if not keys:
        if not settings.DEBUG:
            raise ImproperlyConfigured("The card key ring is empty.")
        logger.warning("No card key ring configured: using a development key derived from SECRET_KEY.")
        keys = {1: _derive(settings.SECRET_KEY.encode(), b"dev card master key")}
    return keys


def get_key_ring() -> KeyRing:
    return KeyRing(_configured_keys())


@lru_cache(maxsize=1)
def fingerprint_key() -> bytes:
    if settings.CARD_FINGERPRINT_KEY:
        return settings.CARD_FINGERPRINT_KEY.encode()
    # Derived from the oldest master key so that adding a version does not change fingerprints.
    keys = _configured_keys()
    return _derive(keys[min(keys)], b"card fingerprint")


def reset_cache():
    """For tests and the rotation command: forget the parsed ring (settings changed)."""
    _configured_keys.cache_clear()
    fingerprint_key.cache_clear()
