"""What a campaign raised, from the ledger: paid gifts, refunds and chargebacks deducted, and
every paid period of its recurring gifts."""

from django.db import connection
from django.test.utils import CaptureQueriesContext

from associations import services
from payments import services as payment_services
from payments import subscriptions
from payments.models import Payment
from payments.money import disputes
from tests.associations.helpers import give, give_monthly_and_pay, give_once_and_pay, make_campaign


def test_a_new_campaign_raised_nothing(merchant_a):
    progress = services.progress(make_campaign(merchant_a))

    assert (progress.raised, progress.donors, progress.recurring_donors, progress.goal_percent) == (0, 0, 0, 0)


def test_paid_gifts_count_and_unpaid_ones_do_not(merchant_a):
    campaign = make_campaign(merchant_a)
    give_once_and_pay(campaign, amount_choice="2500")
    give_once_and_pay(campaign, amount_choice="5000")
    give(campaign, frequency="once", amount_choice="1000")  # never paid

    progress = services.progress(campaign)

    assert (progress.raised, progress.donors, progress.recurring_donors) == (7500, 2, 0)
    assert progress.goal_percent == 7  # of 1 000.00
    assert 0 < progress.net < 7500  # the platform's fees


def test_a_partial_refund_is_deducted(merchant_a):
    campaign = make_campaign(merchant_a)
    gift = give_once_and_pay(campaign, amount_choice="5000")

    payment_services.refund(gift.payment, 2000)

    progress = services.progress(campaign)
    assert (progress.raised, progress.donors) == (3000, 1)


def test_a_wholly_refunded_gift_leaves_no_donor(merchant_a):
    campaign = make_campaign(merchant_a)
    gift = give_once_and_pay(campaign, amount_choice="2500")

    payment_services.refund(gift.payment, None)

    progress = services.progress(campaign)
    assert (progress.raised, progress.donors) == (0, 0)


def test_a_chargeback_is_deducted(merchant_a):
    campaign = make_campaign(merchant_a)
    kept = give_once_and_pay(campaign, amount_choice="5000")
    disputed = give_once_and_pay(campaign, amount_choice="2500")

    disputes.open_dispute(Payment.objects.get(pk=disputed.payment.pk), "fraudulent")

    progress = services.progress(campaign)
    assert (progress.raised, progress.donors) == (5000, 1)
    assert kept.pk in progress.paid_gift_ids and disputed.pk not in progress.paid_gift_ids


def test_every_paid_period_of_a_recurring_gift_counts(merchant_a):
    campaign = make_campaign(merchant_a)
    gift = give_monthly_and_pay(campaign, amount_choice="1000")
    assert gift.subscription.status == "active"

    sub = subscriptions.advance_clock(gift.subscription, 32)  # the second month is charged

    assert Payment.objects.filter(subscription=sub, status=Payment.Status.PAID).count() == 2
    progress = services.progress(campaign)
    assert (progress.raised, progress.donors, progress.recurring_donors) == (2000, 1, 1)


def test_a_canceled_recurring_gift_keeps_its_money_but_is_no_longer_recurring(merchant_a):
    campaign = make_campaign(merchant_a)
    gift = give_monthly_and_pay(campaign, amount_choice="1000")

    subscriptions.cancel(gift.subscription, by="subscriber")

    progress = services.progress(campaign)
    assert (progress.raised, progress.donors, progress.recurring_donors) == (1000, 1, 0)


def test_campaigns_do_not_mix_and_the_queries_are_bounded(merchant_a):
    first, second = make_campaign(merchant_a), make_campaign(merchant_a, title="Other")
    give_once_and_pay(first, amount_choice="1000")
    give_once_and_pay(second, amount_choice="5000")
    give_monthly_and_pay(second, amount_choice="2500")

    with CaptureQueriesContext(connection) as queries:
        totals = services.progress_of([first, second])

    assert totals[first.pk].raised == 1000 and totals[second.pk].raised == 7500
    assert totals[second.pk].recurring_donors == 1
    assert len(queries) == 2


def test_gifts_per_day_has_thirty_days_and_todays_gifts(merchant_a):
    campaign = make_campaign(merchant_a)
    give_once_and_pay(campaign, amount_choice="1000")
    give_once_and_pay(campaign, amount_choice="2500")

    series = services.gifts_per_day(campaign)

    assert len(series) == 30
    assert (series[-1]["count"], series[-1]["amount"]) == (2, 3500)
    assert sum(row["count"] for row in series[:-1]) == 0
