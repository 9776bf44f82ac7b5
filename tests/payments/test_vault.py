"""The card vault: envelope encryption, fingerprints, key rotation while serving."""

import base64
import hashlib
import os

import pytest
from django.core.management import call_command
from django.test import override_settings

from payments import vault
from payments.models import VaultEntry
from payplug import keyring

from .helpers import create_payment, pay

pytestmark = pytest.mark.django_db

KEY_1 = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="
KEY_2 = base64.b64encode(os.urandom(32)).decode()


def test_numbers_are_encrypted_and_come_back(merchant_a):
    entry = vault.store(merchant_a, "4242424242424242")
    entry.refresh_from_db()
    assert b"4242424242424242" not in bytes(entry.ciphertext)
    assert vault.reveal(entry) == "4242424242424242"


def test_fingerprints_are_keyed_and_stable(merchant_a):
    first = vault.store(merchant_a, "4242424242424242")
    second = vault.store(merchant_a, "4242424242424242")
    assert first.fingerprint == second.fingerprint
    assert first.fingerprint != vault.store(merchant_a, "5555555555554444").fingerprint
    assert first.fingerprint != hashlib.sha256(b"4242424242424242").hexdigest()


def test_a_ciphertext_moved_to_another_row_does_not_decrypt(merchant_a):
    first = vault.store(merchant_a, "4242424242424242")
    second = vault.store(merchant_a, "5555555555554444")
    second.ciphertext, second.wrapped_key = first.ciphertext, first.wrapped_key
    with pytest.raises(Exception):  # noqa: B017 - cryptography raises InvalidTag
        vault.reveal(second)


def test_rotation_rewraps_every_data_key_and_cards_keep_working(api):
    payment = create_payment(api, save_card=True)
    pay(payment)
    card_id = api.get(f"/v1/payments/{payment['id']}").json()["card"]["id"]
    assert set(VaultEntry.objects.values_list("key_version", flat=True)) == {1}

    with override_settings(CARD_KEYS=f"1:{KEY_1},2:{KEY_2}"):
        keyring.reset_cache()
        call_command("rotate_keys", stdout=open(os.devnull, "w"))  # noqa: SIM115
        assert set(VaultEntry.objects.values_list("key_version", flat=True)) == {2}
    # Version 1 retired (fingerprints keep a key of their own): everything decrypts, one-click pays.
    with override_settings(CARD_KEYS=f"2:{KEY_2}", CARD_FINGERPRINT_KEY="stable-fingerprint-key"):
        keyring.reset_cache()
        for entry in VaultEntry.objects.all():
            assert vault.reveal(entry).isdigit()
        again = create_payment(api, payment_method=card_id, initiator="PAYER")
        assert again["is_paid"] is True
    keyring.reset_cache()


def test_new_entries_use_the_newest_key(merchant_a):
    with override_settings(CARD_KEYS=f"1:{KEY_1},2:{KEY_2}"):
        keyring.reset_cache()
        assert vault.store(merchant_a, "4242424242424242").key_version == 2
    keyring.reset_cache()
