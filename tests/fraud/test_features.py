"""Feature windows, and the proof that no label from the future reaches a feature."""

import math

import pytest

from fraud.features import (
    DAY,
    EVENT_CAP,
    FEATURE_INDEX,
    HOUR,
    FeaturePipeline,
    MemoryFeatureStore,
    Transaction,
)

T0 = 1_780_000_000.0


def tx(i, t, amount=1000, card="card_a", merchant="m1", **extra):
    return Transaction(id=f"tx{i}", time=t, amount=amount, merchant=merchant, card=card, **extra)


def feature(vector, name):
    value = vector[FEATURE_INDEX[name]]
    return None if value != value else value


@pytest.fixture
def pipeline():
    return FeaturePipeline(MemoryFeatureStore())


def test_counts_follow_each_window(pipeline):
    # given: payments 2 h, 2 days, 10 days and 40 days before T0
    for i, age in enumerate([40 * DAY, 10 * DAY, 2 * DAY, 2 * HOUR]):
        pipeline.observe(tx(i, T0 - age))

    # when
    vector = pipeline.features(tx(9, T0))

    # then
    assert feature(vector, "card_count_1h") == 0
    assert feature(vector, "card_count_1d") == 1
    assert feature(vector, "card_count_7d") == 2
    assert feature(vector, "card_count_30d") == 3
    assert feature(vector, "merchant_count_30d") == 3


def test_window_bounds_are_half_open(pipeline):
    pipeline.observe(tx(1, T0 - HOUR))  # exactly one hour old: out of the 1 h window
    pipeline.observe(tx(2, T0 - HOUR + 1))

    vector = pipeline.features(tx(3, T0))

    assert feature(vector, "card_count_1h") == 1
    assert feature(vector, "card_count_1d") == 2


def test_a_payment_does_not_see_itself(pipeline):
    vector = pipeline.features(tx(1, T0))

    assert feature(vector, "card_count_30d") == 0
    assert feature(vector, "card_hours_since_previous") is None
    assert feature(vector, "card_first_use_at_merchant") == 1


def test_amount_relative_to_the_card_history(pipeline):
    for i, amount in enumerate([1000, 2000, 3000]):
        pipeline.observe(tx(i, T0 - (3 - i) * HOUR, amount=amount))

    vector = pipeline.features(tx(9, T0, amount=10000))

    assert feature(vector, "card_mean_30d") == pytest.approx(20.0)
    assert feature(vector, "card_amount_ratio_30d") == pytest.approx(5.0)
    assert feature(vector, "card_amount_ratio_max_30d") == pytest.approx(10000 / 3000)
    std = math.sqrt((1000**2 + 0 + 1000**2) / 3)
    assert feature(vector, "card_amount_zscore_30d") == pytest.approx((10000 - 2000) / std)
    assert feature(vector, "card_hours_since_previous") == pytest.approx(1.0)
    assert feature(vector, "amount") == 100.0


def test_first_use_of_the_card_at_a_merchant(pipeline):
    pipeline.observe(tx(1, T0 - DAY, merchant="m1"))

    assert feature(pipeline.features(tx(2, T0, merchant="m1")), "card_first_use_at_merchant") == 0
    assert feature(pipeline.features(tx(3, T0, merchant="m2")), "card_first_use_at_merchant") == 1


def test_countries_compared(pipeline):
    vector = pipeline.features(tx(1, T0, card_country="FR", ip_country="NG", billing_country="FR"))

    assert feature(vector, "card_ip_country_mismatch") == 1
    assert feature(vector, "card_billing_country_mismatch") == 0
    assert feature(vector, "ip_billing_country_mismatch") == 1
    unknown_ip = pipeline.features(tx(2, T0, card_country="FR", ip_country=None, billing_country="FR"))
    assert feature(unknown_ip, "card_ip_country_mismatch") == 0


def test_email_ip_and_device_histories(pipeline):
    for i in range(3):
        pipeline.observe(
            tx(i, T0 - i * 60 - 60, card=f"card_{i}", email="A@example.org", ip="203.0.113.9", device="d1")
        )

    vector = pipeline.features(tx(9, T0, card="card_new", email="a@example.org ", ip="203.0.113.9", device="d1"))

    assert feature(vector, "email_count_1h") == 3  # emails are compared trimmed and lower-cased
    assert feature(vector, "ip_count_1d") == 3
    assert feature(vector, "device_count_30d") == 3
    assert feature(pipeline.features(tx(10, T0)), "email_count_1h") is None  # no email: unknown, not zero


def test_recent_declines(pipeline):
    pipeline.decline(tx(1, T0 - 2 * HOUR))
    pipeline.decline(tx(2, T0 - 2 * DAY))

    assert feature(pipeline.features(tx(3, T0)), "card_declines_1d") == 1


def test_per_key_history_is_capped(pipeline):
    for i in range(EVENT_CAP + 50):
        pipeline.observe(tx(i, T0 - DAY + i))

    assert feature(pipeline.features(tx(9999, T0)), "card_count_30d") == EVENT_CAP


def test_idle_entities_are_evicted():
    store = MemoryFeatureStore()
    pipeline = FeaturePipeline(store)
    pipeline.observe(tx(1, T0, card="old"))
    for day in range(1, 45):
        pipeline.observe(tx(100 + day, T0 + day * DAY, card="other"))

    assert ("card", "old") not in store.entities
    assert ("card", "other") in store.entities


def test_merchant_fraud_rate_uses_only_labels_known_at_that_time(pipeline):
    # given: ten payments at the merchant; one is fraudulent, reported 7 days later
    for i in range(10):
        pipeline.observe(tx(i, T0 + i * HOUR, card=f"card_{i}"))
    fraud = tx(3, T0 + 3 * HOUR, card="card_3")
    reported_at = fraud.time + 7 * DAY
    pipeline.label(fraud, reported_at)

    # when: a payment is scored before, at, and after the report time
    before = pipeline.features(tx(20, reported_at - 1, card="card_x"))
    at = pipeline.features(tx(21, reported_at, card="card_y"))
    later = pipeline.features(tx(22, reported_at + DAY, card="card_z"))

    # then: before the report the label is invisible (the future does not leak), from it on it counts
    assert feature(before, "merchant_fraud_reports_30d") == 0
    assert feature(before, "merchant_fraud_rate_30d") == 0
    assert feature(before, "merchant_days_since_fraud_tx") is None
    assert feature(at, "merchant_fraud_reports_30d") == 1
    assert feature(at, "merchant_fraud_reports_1d") == 1
    assert feature(later, "merchant_fraud_reports_1d") == 0
    assert feature(later, "merchant_fraud_reports_7d") == 1
    assert feature(later, "merchant_fraud_rate_30d") == pytest.approx(1 / 10)
    assert feature(later, "merchant_days_since_fraud_tx") == pytest.approx((reported_at + DAY - fraud.time) / DAY)
