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


def test_amount_against_the_card_median_and_its_genuine_spending(pipeline):
    # given: three ordinary payments and an outsized one, known to be fraudulent since yesterday
    for i, amount in enumerate([1000, 1200, 1100]):
        pipeline.observe(tx(i, T0 - (10 - i) * DAY, amount=amount))
    stolen = tx(3, T0 - 3 * DAY, amount=5000)
    pipeline.observe(stolen)
    pipeline.label(stolen, T0 - DAY)

    # when
    vector = pipeline.features(tx(9, T0, amount=5500))

    # then: the median and the genuine history ignore the outsized fraud, the plain mean does not
    assert feature(vector, "card_amount_ratio_30d") == pytest.approx(5500 / ((1000 + 1200 + 1100 + 5000) / 4))
    assert feature(vector, "card_amount_ratio_median_30d") == pytest.approx(5500 / 1150)
    assert feature(vector, "card_amount_ratio_genuine_30d") == pytest.approx(5500 / 1100)
    std = math.sqrt((100**2 + 100**2 + 0) / 3)
    assert feature(vector, "card_amount_zscore_genuine_30d") == pytest.approx((5500 - 1100) / std)
    assert feature(vector, "card_fraud_share_30d") == pytest.approx(1 / 4)
    assert feature(vector, "card_days_since_last_fraud_tx") == pytest.approx(3.0)
    assert feature(vector, "card_days_since_first_fraud_tx") == pytest.approx(3.0)


def test_mature_windows_count_payments_old_enough_for_their_reports(pipeline):
    # given: merchant payments 3, 7.2, 7.5, 10 and 20 days old; those of 7.5 and 10 days are frauds
    ages = [20 * DAY, 10 * DAY, 7.5 * DAY, 7.2 * DAY, 3 * DAY]
    payments = [tx(i, T0 - age, amount=2000, card=f"card_{i}") for i, age in enumerate(ages)]
    for payment in payments:
        pipeline.observe(payment)
    for fraud in (payments[1], payments[2]):
        pipeline.label(fraud, fraud.time + 7 * DAY)

    vector = pipeline.features(tx(9, T0, amount=2000, card="card_x"))

    # then: (now - 8 d, now - 7 d] holds 2 payments, 1 fraud; (now - 14 d, now - 7 d] 3 and 2
    assert feature(vector, "merchant_mature_count_1d") == 2
    assert feature(vector, "merchant_mature_fraud_rate_1d") == pytest.approx(1 / 2)
    assert feature(vector, "merchant_mature_count_7d") == 3
    assert feature(vector, "merchant_mature_fraud_rate_7d") == pytest.approx(2 / 3)
    # frauds of the merchant's usual amount: a compromised merchant rather than stolen cards
    assert feature(vector, "merchant_fraud_amount_ratio_30d") == pytest.approx(1.0)


def test_a_window_boundary_of_the_mature_windows_is_half_open(pipeline):
    payment = tx(1, T0 - 7 * DAY, card="card_1")  # exactly 7 days old: mature
    younger = tx(2, T0 - 7 * DAY + 1, card="card_2")
    pipeline.observe(payment)
    pipeline.observe(younger)

    vector = pipeline.features(tx(3, T0, card="card_3"))

    assert feature(vector, "merchant_mature_count_1d") == 1
    assert feature(vector, "merchant_mature_fraud_rate_1d") == 0
    assert feature(vector, "merchant_mature_fraud_rate_7d") == 0


def _history(labelled):
    """A month of payments of a few cards at a few merchants; some frauds, reported 7 days later."""
    payments = []
    t = T0
    for i in range(400):
        t += 1800 + (i * 7919) % 5400
        payment = tx(i, t, amount=500 + (i * 37) % 9000, card=f"card_{i % 9}", merchant=f"m{i % 4}")
        payments.append(payment)
    frauds = [p for p in payments if int(p.id[2:]) % 11 == 0]
    events = [(p.time, 0, p) for p in payments]
    if labelled:
        events += [(p.time + 7 * DAY, 1, p) for p in frauds]
    return sorted(events, key=lambda e: (e[0], e[1])), frauds


def test_no_feature_sees_a_label_before_it_is_reported():
    """Every feature of every payment is the same with and without the labels reported after it."""
    with_labels, without = FeaturePipeline(MemoryFeatureStore()), FeaturePipeline(MemoryFeatureStore())
    events, frauds = _history(labelled=True)
    first_report = min(f.time for f in frauds) + 7 * DAY
    differed = 0
    for moment, kind, payment in events:
        if kind == 1:
            with_labels.label(payment, moment)
            continue
        a, b = with_labels.features(payment), without.features(payment)
        if payment.time < first_report:
            assert a == pytest.approx(b, nan_ok=True), payment.id
        elif a != pytest.approx(b, nan_ok=True):
            differed += 1
        with_labels.observe(payment)
        without.observe(payment)
    assert differed  # once reported, the labels do reach the features


def test_each_label_is_used_from_its_report_on_only(pipeline):
    """A label reported at R: every feature at R - 1 s is as if it did not exist; at R it counts."""
    events, frauds = _history(labelled=False)
    for _, _, payment in events:
        pipeline.observe(payment)
    probe_time = events[-1][0] + HOUR
    target = frauds[-4]
    report = probe_time - 60
    probe_before = tx(9001, report - 1, card=target.card, merchant=target.merchant)
    probe_after = tx(9002, report, card=target.card, merchant=target.merchant)
    unlabelled = FeaturePipeline(MemoryFeatureStore())
    for _, _, payment in events:
        unlabelled.observe(payment)
    pipeline.label(target, report)

    assert pipeline.features(probe_before) == pytest.approx(unlabelled.features(probe_before), nan_ok=True)
    after, reference = pipeline.features(probe_after), unlabelled.features(probe_after)
    assert feature(after, "card_fraud_reports_30d") == 1
    assert feature(after, "merchant_fraud_tx_28d") == 1
    assert feature(after, "card_amount_ratio_genuine_30d") != pytest.approx(
        reference[FEATURE_INDEX["card_amount_ratio_genuine_30d"]]
    )
