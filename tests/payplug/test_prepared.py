"""payplug.prepared gives what the ORM gives: same instances, same rows, same signals."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db.models import signals
from django.db.models.functions import Now
from django.utils import timezone

from merchants.models import ApiKey
from merchants.services.keys import find_api_key
from payments.models import Payment
from payplug import prepared
from tests import factories

pytestmark = pytest.mark.django_db


def field_values(instance, exclude=()) -> dict:
    return {
        field.attname: getattr(instance, field.attname)
        for field in instance._meta.concrete_fields
        if field.attname not in exclude
    }


def key_query():
    return prepared.PreparedSelect(
        ApiKey, lambda key_hash: ApiKey.objects.select_related("merchant").filter(key_hash=key_hash)
    )


def test_a_prepared_select_returns_the_orms_instances_with_their_related_object(merchant_a, django_assert_num_queries):
    raw = factories.secret_key(merchant_a)
    digest = ApiKey.hash_key(raw)
    expected = ApiKey.objects.select_related("merchant").get(key_hash=digest)
    query = key_query()

    with django_assert_num_queries(1):
        key = query.first(digest)
        merchant = key.merchant  # loaded by the join, not by a second query
    assert field_values(key) == field_values(expected)
    assert field_values(merchant) == field_values(expected.merchant)
    assert key._state.adding is False and key._state.db == "default"
    with django_assert_num_queries(1):  # compiled once: the second run only executes
        assert query.first(digest).pk == key.pk
    assert query.first(ApiKey.hash_key("sk_test_unknown")) is None


def test_find_api_key_still_refuses_revoked_and_expired_keys(merchant_a):
    raw = factories.secret_key(merchant_a)
    key = find_api_key(raw)
    assert key is not None and key.merchant == merchant_a
    ApiKey.objects.filter(pk=key.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    assert find_api_key(raw) is None
    ApiKey.objects.filter(pk=key.pk).update(expires_at=None, revoked_at=timezone.now())
    assert find_api_key(raw) is None


def test_parameters_that_the_sql_would_transform_are_refused(merchant_a):
    query = prepared.PreparedSelect(ApiKey, lambda name: ApiKey.objects.filter(name__icontains=name))
    with pytest.raises(ValueError, match="unchanged"):
        query.first("x")


def new_payment(merchant, **extra) -> Payment:
    now = timezone.now()
    return Payment(
        merchant=merchant,
        is_live=False,
        amount=4200,
        created_at=now,
        expires_at=now + timedelta(hours=1),
        billing={"first_name": "Ada", "email": "ada@example.org", "nested": {"é": [1, 2.5, None]}},
        shipping=None,
        metadata={"order": "A-1", "n": 2**40},
        return_url="https://shop.example/return",
        description="Ünïcode ✓",
        **extra,
    )


def test_insert_writes_the_row_that_save_writes_and_sends_the_signals(merchant_a):
    received = []

    def receiver(sender, instance, **kwargs):
        received.append((kwargs.get("created"), instance._state.adding, instance.pk))

    signals.pre_save.connect(receiver, sender=Payment)
    signals.post_save.connect(receiver, sender=Payment)
    try:
        fast = new_payment(merchant_a)
        prepared.insert(fast)
        prepared.insert(second := new_payment(merchant_a))  # the compiled statement again
    finally:
        signals.pre_save.disconnect(receiver, sender=Payment)
        signals.post_save.disconnect(receiver, sender=Payment)
    slow = new_payment(merchant_a)
    slow.save()

    assert fast.pk and second.pk and fast.pk != second.pk
    assert fast._state.adding is False and fast._state.db == "default"
    assert received[:2] == [(None, True, None), (True, False, fast.pk)]
    generated = ("id", "public_id", "hosted_token", "created_at", "updated_at", "expires_at")
    stored_fast, stored_slow = Payment.objects.get(pk=fast.pk), Payment.objects.get(pk=slow.pk)
    assert field_values(stored_fast, exclude=generated) == field_values(stored_slow, exclude=generated)
    assert field_values(stored_fast, exclude=("id",)) == field_values(fast, exclude=("id",))


def test_insert_refuses_expressions_and_falls_back_to_save_for_a_set_id(merchant_a):
    with pytest.raises(TypeError):
        prepared.insert(new_payment(merchant_a, paid_at=Now()))
    assert not Payment.objects.exists()
    existing = new_payment(merchant_a)
    existing.pk = 987654
    prepared.insert(existing)
    assert Payment.objects.filter(pk=987654).exists()


def test_a_prepared_select_takes_typed_parameters_and_stays_scoped(merchant_a, merchant_b):
    query = prepared.PreparedSelect(
        Payment,
        lambda merchant_id, public_id: Payment.objects.filter(
            merchant_id=merchant_id, is_live=False, public_id=public_id
        ),
        examples=(7_340_033, "\x1fpay\x1f"),
    )
    payment = new_payment(merchant_a)
    prepared.insert(payment)
    found = query.first(merchant_a.pk, payment.public_id)
    assert field_values(found) == field_values(Payment.objects.get(pk=payment.pk))
    assert query.first(merchant_b.pk, payment.public_id) is None  # another tenant
    Payment.objects.filter(pk=payment.pk).update(is_live=True)
    assert query.first(merchant_a.pk, payment.public_id) is None  # the other mode
    with pytest.raises(TypeError):
        query.first(payment.public_id)


def test_a_parameter_that_appears_twice_or_not_at_all_is_refused(merchant_a):
    twice = prepared.PreparedSelect(
        Payment, lambda public_id: Payment.objects.filter(public_id=public_id, description=public_id)
    )
    with pytest.raises(ValueError, match="unchanged"):
        twice.first("x")
    missing = prepared.PreparedSelect(Payment, lambda public_id: Payment.objects.filter(public_id="fixed"))
    with pytest.raises(ValueError, match="unchanged"):
        missing.first("x")
