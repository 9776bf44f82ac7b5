"""The card vault: full card numbers, encrypted, and nowhere else.

Envelope encryption: each entry has a random 256-bit data key; the number is sealed with
AES-256-GCM under that data key, and the data key is wrapped by the newest master key of
the key ring (payplug.keyring). The entry's token is bound into both as associated data,
so a ciphertext copied onto another row does not decrypt.
"""

from __future__ import annotations

import os

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.db import transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone

from payments.models import Card, PaymentAttempt, VaultEntry
from payplug.keyring import NONCE_BYTES, get_key_ring


def fingerprint(number: str) -> str:
    return get_key_ring().fingerprint(number)


def store(merchant, number: str) -> VaultEntry:
    ring = get_key_ring()
    entry = VaultEntry(merchant=merchant, fingerprint=ring.fingerprint(number))
    context = entry.token.encode()
    data_key = AESGCM.generate_key(bit_length=256)
    nonce = os.urandom(NONCE_BYTES)
    entry.ciphertext = nonce + AESGCM(data_key).encrypt(nonce, number.encode(), context)
    entry.key_version, entry.wrapped_key = ring.wrap(data_key, context)
    entry.save()
    return entry


def reveal(entry: VaultEntry) -> str:
    """The card number, for the acquirer call that needs it. Never log or store the result."""
    context = entry.token.encode()
    data_key = get_key_ring().unwrap(entry.key_version, bytes(entry.wrapped_key), context)
    blob = bytes(entry.ciphertext)
    return AESGCM(data_key).decrypt(blob[:NONCE_BYTES], blob[NONCE_BYTES:], context).decode()


def rewrap(entry_id: int) -> bool:
    """Re-wrap one entry's data key under the newest master key. The card ciphertext is untouched."""
    ring = get_key_ring()
    with transaction.atomic():
        entry = VaultEntry.objects.select_for_update().get(pk=entry_id)
        if entry.key_version == ring.current_version:
            return False
        context = entry.token.encode()
        data_key = ring.unwrap(entry.key_version, bytes(entry.wrapped_key), context)
        entry.key_version, entry.wrapped_key = ring.wrap(data_key, context)
        entry.rewrapped_at = timezone.now()
        entry.save(update_fields=["key_version", "wrapped_key", "rewrapped_at"])
    return True


def rotate_all(batch_size: int = 500, progress=None) -> int:
    """Re-wrap every entry not yet under the newest key, in small transactions, while serving."""
    current = get_key_ring().current_version
    done = 0
    while True:
        ids = list(
            VaultEntry.objects.exclude(key_version=current).order_by("pk").values_list("pk", flat=True)[:batch_size]
        )
        if not ids:
            return done
        for entry_id in ids:
            done += rewrap(entry_id)
        if progress:
            progress(done)


def _unreferenced():
    return VaultEntry.objects.filter(
        ~Exists(PaymentAttempt.objects.filter(vault_entry_id=OuterRef("pk"))),
        ~Exists(Card.objects.filter(vault_entry_id=OuterRef("pk"))),
    )


def find_unreferenced(merchant, token: str) -> VaultEntry | None:
    """A kept number's entry (see purge_unreferenced), of this merchant, not yet used."""
    return _unreferenced().filter(merchant=merchant, token=token).first()


def discard_unreferenced(token: str) -> None:
    _unreferenced().filter(token=token).delete()


def purge_unreferenced(older_than) -> int:
    """Delete entries no attempt and no saved card points at, created before `older_than`: the
    numbers a checkout form kept while the shopper corrected another field (payments.checkout.page)
    and never used. Every other entry is referenced from the transaction that created it."""
    deleted, _ = _unreferenced().filter(created_at__lt=older_than).delete()
    return deleted
