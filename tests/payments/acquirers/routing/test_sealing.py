"""Connector credentials: sealed with the key ring, unsealed in memory, replaced, re-wrapped."""

import os

import pytest
from django.core.management import call_command
from django.test import override_settings

from payments.models import AcquirerConnector
from payplug import keyring

from .conftest import ADYEN_HMAC, ADYEN_KEY, KEY_1, KEY_2, STRIPE_KEY, STRIPE_WHSEC, make_connector

pytestmark = pytest.mark.django_db


def _stored_bytes(connector) -> bytes:
    row = AcquirerConnector.objects.filter(pk=connector.pk).values().get()
    return b"|".join(bytes(v) if isinstance(v, bytes | memoryview) else str(v).encode() for v in row.values())


def test_the_database_never_holds_a_secret_in_clear(merchant_a):
    connector = make_connector(merchant_a)
    stored = _stored_bytes(connector)
    for secret in (STRIPE_KEY, STRIPE_WHSEC):
        assert secret.encode() not in stored
        assert secret[:-4].encode() not in stored  # only the last four characters are kept
    row = AcquirerConnector.objects.get(pk=connector.pk)
    assert row.api_key_last4 == STRIPE_KEY[-4:]
    assert row.key_version == 1
    assert row.unseal("api_key") == STRIPE_KEY
    assert row.unseal("webhook_secret") == STRIPE_WHSEC


def test_a_ciphertext_copied_to_another_row_or_field_does_not_decrypt(merchant_a):
    first = make_connector(merchant_a)
    second = make_connector(merchant_a)
    second.wrapped_key, second.api_key_sealed = first.wrapped_key, first.api_key_sealed
    with pytest.raises(Exception):  # noqa: B017 - cryptography raises InvalidTag
        second.unseal("api_key")
    first.webhook_secret_sealed = first.api_key_sealed
    with pytest.raises(Exception):  # noqa: B017
        first.unseal("webhook_secret")


def test_a_new_secret_replaces_the_old_one(merchant_a):
    connector = make_connector(merchant_a, provider="adyen", api_key=ADYEN_KEY, webhook_secret=ADYEN_HMAC)
    old_blob = bytes(connector.api_key_sealed)
    assert connector.rotated_at is None
    connector.set_secrets(api_key="AQEnewAdyenKeyValue9876")
    connector.save()
    connector.refresh_from_db()
    assert connector.unseal("api_key") == "AQEnewAdyenKeyValue9876"
    assert connector.unseal("webhook_secret") == ADYEN_HMAC  # untouched, re-sealed with the new data key
    assert bytes(connector.api_key_sealed) != old_blob
    assert connector.api_key_last4 == "9876"
    assert connector.rotated_at is not None
    connector.set_secrets(webhook_secret="")
    connector.save()
    connector.refresh_from_db()
    assert connector.unseal("webhook_secret") == ""
    assert connector.webhook_secret_sealed is None and connector.webhook_secret_last4 == ""


def test_rotate_keys_rewraps_connectors_and_the_old_version_can_be_retired(merchant_a):
    with override_settings(CARD_KEYS=f"1:{KEY_1}"):
        keyring.reset_cache()
        connector = make_connector(merchant_a)
        sealed_before = bytes(connector.api_key_sealed)
    with override_settings(CARD_KEYS=f"1:{KEY_1},2:{KEY_2}"):
        keyring.reset_cache()
        call_command("rotate_keys", stdout=open(os.devnull, "w"))  # noqa: SIM115
        connector.refresh_from_db()
        assert connector.key_version == 2
        assert connector.rewrapped_at is not None
        assert bytes(connector.api_key_sealed) == sealed_before  # only the data key was re-wrapped
        assert AcquirerConnector.objects.exclude(key_version=2).exclude(wrapped_key=None).count() == 0
    with override_settings(CARD_KEYS=f"2:{KEY_2}"):  # version 1 retired
        keyring.reset_cache()
        connector = AcquirerConnector.objects.get(pk=connector.pk)
        assert connector.unseal("api_key") == STRIPE_KEY
        assert connector.unseal("webhook_secret") == STRIPE_WHSEC
    keyring.reset_cache()


def test_without_rotation_a_retired_version_cannot_unseal(merchant_a):
    connector = make_connector(merchant_a)
    with override_settings(CARD_KEYS=f"2:{KEY_2}"):
        keyring.reset_cache()
        with pytest.raises(keyring.KeyRingError):
            AcquirerConnector.objects.get(pk=connector.pk).unseal("api_key")
    keyring.reset_cache()


def test_new_secrets_use_the_newest_key_version(merchant_a):
    with override_settings(CARD_KEYS=f"1:{KEY_1},2:{KEY_2}"):
        keyring.reset_cache()
        assert make_connector(merchant_a).key_version == 2
    keyring.reset_cache()
