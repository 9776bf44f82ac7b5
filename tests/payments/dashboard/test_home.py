"""The dashboard home shows the merchant's figures and what needs attention (issue 12, findings 12, 13).

Figures, in the current mode and for this organisation only: paid volume and count today and
this month, the success rate, the balance and the next payout, a 30-day chart with a table for
screen readers. "Needs attention": fraud reviews waiting, disputes and their deadlines, failing
webhook endpoints, payments stuck. The sidebar counts the disputes that need a response.
"""

import re
import zoneinfo
from datetime import date, datetime, timedelta

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from fraud.models import Decision
from merchants.middleware import DashboardContext
from merchants.models import Membership
from notifications.services.endpoints import create_endpoint
from payments.dashboard import home as payments_home
from payments.models import Dispute, Payment, Payout, Refund
from payments.money import ledger
from tests import factories
from tests.csp import assert_no_inline_script_or_style
from tests.merchants.helpers_team import login
from tests.notifications.helpers import login as login_in_mode

PARIS = zoneinfo.ZoneInfo("Europe/Paris")


def paid(merchant, amount, at, *, is_live=False, refunded=0) -> Payment:
    """A paid payment and its ledger postings, as the state machine writes them, at `at`."""
    with transaction.atomic():
        payment = Payment.objects.create(
            merchant=merchant,
            is_live=is_live,
            amount=amount,
            status=Payment.Status.PAID,
            created_at=at - timedelta(minutes=1),
            paid_at=at,
            expires_at=at + timedelta(hours=24),
            card_last4="4242",
        )
        ledger.post_capture(payment, now=at)
        if refunded:
            refund = Refund.objects.create(merchant=merchant, is_live=is_live, payment=payment, amount=refunded)
            ledger.post_refund(refund, 0, now=at)
            Payment.objects.filter(pk=payment.pk).update(amount_refunded=refunded)
    return payment


def failed(merchant, at, *, is_live=False, card_tried=True) -> Payment:
    return Payment.objects.create(
        merchant=merchant,
        is_live=is_live,
        amount=4200,
        status=Payment.Status.FAILED,
        created_at=at,
        expires_at=at + timedelta(hours=24),
        card_last4="0002" if card_tried else None,
        failed_attempts=3 if card_tried else 0,
        failure_code="card_declined" if card_tried else "timeout",
    )


# --- the figures, at a fixed moment ------------------------------------------------------------------

NOW = datetime(2026, 3, 15, 12, 0, tzinfo=PARIS)


@pytest.fixture
def history(merchant_a, merchant_b):
    paid(merchant_a, 2500, NOW - timedelta(hours=2))
    paid(merchant_a, 10000, NOW - timedelta(hours=1), refunded=4000)
    failed(merchant_a, NOW - timedelta(hours=3))
    failed(merchant_a, NOW - timedelta(hours=3), card_tried=False)  # abandoned page: no card tried
    paid(merchant_a, 5000, datetime(2026, 3, 2, 9, 0, tzinfo=PARIS))  # earlier this month
    paid(merchant_a, 7000, datetime(2026, 2, 20, 9, 0, tzinfo=PARIS))  # last month, in the 30 days
    paid(merchant_a, 9999, datetime(2026, 1, 2, 9, 0, tzinfo=PARIS))  # long ago
    # 23:30 in Paris on the 14th (22:30 UTC) is yesterday: days are the organisation's.
    paid(merchant_a, 300, datetime(2026, 3, 14, 23, 30, tzinfo=PARIS))
    paid(merchant_a, 88800, NOW - timedelta(hours=1), is_live=True)  # the other mode
    paid(merchant_b, 99900, NOW - timedelta(hours=1))  # another merchant


def test_the_figures_count_only_this_merchant_and_mode(history, merchant_a):
    with timezone.override(PARIS):
        test = payments_home.figures(merchant_a.pk, False, now=NOW)
        live = payments_home.figures(merchant_a.pk, True, now=NOW)

    assert (test.today_count, test.today_volume) == (2, 12500)
    assert (test.month_count, test.month_volume) == (4, 17800)
    assert test.month_refunded == 4000
    # Paid out of payments where a card was tried, last 30 days: 5 paid, 1 declined.
    assert test.success_rate == 83
    assert (live.today_count, live.today_volume, live.month_count) == (1, 88800, 1)
    assert live.success_rate == 100


def test_the_chart_has_thirty_days_ending_today(history, merchant_a):
    with timezone.override(PARIS):
        chart = payments_home.figures(merchant_a.pk, False, now=NOW).chart

    days = {bar.day: bar for bar in chart.bars}
    assert len(chart.bars) == 30
    assert chart.bars[-1].day == date(2026, 3, 15) and chart.bars[0].day == date(2026, 2, 14)
    assert (days[date(2026, 3, 15)].volume, days[date(2026, 3, 15)].count) == (12500, 2)
    assert days[date(2026, 3, 14)].volume == 300 and days[date(2026, 2, 20)].volume == 7000
    assert days[date(2026, 3, 1)].volume == 0 and days[date(2026, 3, 1)].height == 0
    assert chart.peak == 12500 and days[date(2026, 3, 15)].height == pytest.approx(chart.height)


def test_the_figures_take_a_few_queries(history, merchant_a):
    with CaptureQueriesContext(connection) as queries:
        payments_home.figures(merchant_a.pk, False, now=NOW)

    assert len(queries) <= 2


def test_no_success_rate_without_any_card_tried(merchant_a):
    assert payments_home.figures(merchant_a.pk, False, now=NOW).success_rate is None


def test_the_next_payout_is_the_one_on_its_way_else_the_available_balance(merchant_a):
    nothing = payments_home.next_payout(merchant_a, False, now=NOW)
    assert nothing.amount is None and not nothing.needs_iban  # nothing to pay: the IBAN does not matter yet

    paid(merchant_a, 50000, NOW - timedelta(days=10))
    ledger.settle(merchant_a.pk, False, now=NOW)
    assert payments_home.next_payout(merchant_a, False, now=NOW).needs_iban  # money waits for an IBAN
    merchant_a.iban = "FR1420041010050500013M02606"
    merchant_a.save(update_fields=["iban"])
    coming = payments_home.next_payout(merchant_a, False, now=NOW)
    assert coming.amount == ledger.balances(merchant_a.pk, False).available > 0
    assert coming.day in (NOW.date(), NOW.date() + timedelta(days=1))

    on_its_way = Payout.objects.create(
        merchant=merchant_a,
        is_live=False,
        amount=12345,
        status=Payout.Status.IN_TRANSIT,
        payout_date=NOW.date(),
        iban="FR1420041010050500013M02606",
        holder_name="Alice Shop",
    )
    sent = payments_home.next_payout(merchant_a, False, now=NOW)
    assert (sent.amount, sent.day, sent.payout) == (12345, NOW.date(), on_its_way)


# --- the page ------------------------------------------------------------------------------------------


def numbers_of(page: str, element_id: str) -> str:
    match = re.search(rf'id="{element_id}"[^>]*>(.*?)</', page, re.S)
    assert match, f"#{element_id} missing"
    return match.group(1).strip()


def test_the_home_page_shows_todays_figures_for_this_merchant_and_mode(alice_client, merchant_a, merchant_b):
    now = timezone.now()
    paid(merchant_a, 2500, now)
    paid(merchant_a, 10000, now, refunded=4000)
    failed(merchant_a, now)
    paid(merchant_a, 88800, now, is_live=True)
    paid(merchant_b, 99900, now)

    response = alice_client.get(reverse("dashboard:home"))

    page = response.content.decode()
    assert response.status_code == 200
    assert numbers_of(page, "home-today-volume") == "€125.00"
    assert "2 payments" in numbers_of(page, "home-today-count")
    assert numbers_of(page, "home-success-rate") == "67%"
    assert "€888.00" not in page and "€999.00" not in page
    assert "Activate live payments" in page  # the checklist stays
    assert_no_inline_script_or_style(page)
    # The chart has a table for screen readers, with today's row.
    assert "<svg" in page and 'role="img"' in page
    assert "<table" in page[page.index('id="home-chart"') :]


def test_the_home_page_in_live_mode_shows_live_figures(client, merchant_a):
    owner = factories.user("olive@example.org")
    shop = factories.live_merchant("Olive Shop", owner=owner)
    now = timezone.now()
    paid(shop, 88800, now, is_live=True)
    paid(shop, 2500, now)
    login_in_mode(client, owner, shop, live=True)

    page = client.get(reverse("dashboard:home")).content.decode()

    assert numbers_of(page, "home-today-volume") == "€888.00"
    assert "€25.00" not in page


def test_the_balance_and_the_next_payout_are_shown_to_who_may_see_the_balance(client, alice_client, merchant_a):
    paid(merchant_a, 50000, timezone.now() - timedelta(days=10))
    ledger.settle(merchant_a.pk, False)
    available = ledger.balances(merchant_a.pk, False).available

    page = alice_client.get(reverse("dashboard:home")).content.decode()
    assert numbers_of(page, "home-balance-available") == f"€{available / 100:,.2f}"
    assert 'id="home-next-payout"' in page

    developer = factories.member(merchant_a, "dev@example.org", Membership.Role.DEVELOPER)
    page = login(client, developer).get(reverse("dashboard:home")).content.decode()
    assert 'id="home-balance-available"' not in page  # developers do not see the balance
    assert 'id="home-today-volume"' in page


# --- needs attention ---------------------------------------------------------------------------------


@pytest.fixture
def trouble(merchant_a, merchant_b):
    now = timezone.now()
    review = Payment.objects.create(
        merchant=merchant_a,
        is_live=False,
        amount=6100,
        status=Payment.Status.IN_REVIEW,
        expires_at=now + timedelta(hours=24),
        review_deadline=now + timedelta(hours=20),
    )
    Decision.objects.create(
        payment=review,
        merchant=merchant_a,
        is_live=False,
        score=80,
        outcome=Decision.Outcome.REVIEW,
        review_action_at=now + timedelta(hours=19),
    )
    disputed = paid(merchant_a, 3300, now - timedelta(days=2))
    dispute = Dispute.objects.create(
        merchant=merchant_a,
        is_live=False,
        payment=disputed,
        amount=3300,
        reason=Dispute.Reason.FRAUDULENT,
        evidence_due_by=datetime(2031, 6, 14, 16, 30, tzinfo=zoneinfo.ZoneInfo("UTC")),
    )
    endpoint, _ = create_endpoint(merchant_a, False, url="https://hooks.example.org/pay", event_types=["payment.paid"])
    endpoint.failing_since = now - timedelta(hours=5)
    endpoint.save(update_fields=["failing_since"])
    stuck = Payment.objects.create(
        merchant=merchant_a,
        is_live=False,
        amount=4500,
        status=Payment.Status.PENDING,
        expires_at=now + timedelta(hours=24),
    )
    Payment.objects.filter(pk=stuck.pk).update(updated_at=now - timedelta(hours=1))
    # Another merchant's dispute and the other mode's review: never on alice's page.
    other = paid(merchant_b, 7700, now - timedelta(days=1))
    Dispute.objects.create(
        merchant=merchant_b,
        is_live=False,
        payment=other,
        amount=7700,
        reason=Dispute.Reason.GENERAL,
        evidence_due_by=now + timedelta(days=8),
    )
    return {"review": review, "dispute": dispute, "endpoint": endpoint, "stuck": stuck}


def attention_section(page: str) -> str:
    start = page.index('id="home-attention"')
    return page[start : page.index("</section>", start)]


def test_needs_attention_lists_the_review_the_dispute_with_its_deadline_the_endpoint_and_the_stuck_payment(
    alice_client, trouble
):
    page = alice_client.get(reverse("dashboard:home")).content.decode()

    section = attention_section(page)
    assert reverse("dashboard:fraud_reviews") in section and "1 payment waits for your review" in section
    assert reverse("dashboard:dispute", args=[trouble["dispute"].public_id]) in section
    assert "€33.00" in section and "2031" in section  # the amount and the response deadline
    assert reverse("dashboard:webhook", args=[trouble["endpoint"].public_id]) in section
    assert "hooks.example.org" in section
    assert "1 payment has been processing for more than" in section
    assert "€77.00" not in section  # merchant B's dispute


def test_nothing_needs_attention_says_so(alice_client, merchant_a):
    page = alice_client.get(reverse("dashboard:home")).content.decode()

    assert "Nothing needs your attention" in attention_section(page)


def test_needs_attention_follows_the_role(client, merchant_a, trouble):
    accountant = factories.member(merchant_a, "books@example.org", Membership.Role.ACCOUNTANT)

    section = attention_section(login(client, accountant).get(reverse("dashboard:home")).content.decode())

    assert reverse("dashboard:dispute", args=[trouble["dispute"].public_id]) in section
    assert reverse("dashboard:fraud_reviews") not in section  # accountants do not see fraud
    assert "hooks.example.org" not in section  # nor webhooks


# --- the sidebar -------------------------------------------------------------------------------------


def test_the_sidebar_counts_the_disputes_that_need_a_response(alice_client, trouble):
    page = alice_client.get(reverse("dashboard:payments")).content.decode()

    link = page[page.index(reverse("dashboard:disputes")) :]
    link = link[: link.index("</a>")]
    assert '<span class="nav-count"' in link and ">1</span>" in link

    Dispute.objects.filter(pk=trouble["dispute"].pk).update(status=Dispute.Status.UNDER_REVIEW)
    page = alice_client.get(reverse("dashboard:payments")).content.decode()
    link = page[page.index(reverse("dashboard:disputes")) :]
    assert "nav-count" not in link[: link.index("</a>")]


def test_the_sidebar_count_is_one_query_made_only_when_read(rf, alice, merchant_a, trouble):
    request = rf.get("/dashboard/")
    request.user = alice
    request.session = {}
    dashboard = DashboardContext(request)
    assert dashboard.merchant == merchant_a  # memberships loaded

    with CaptureQueriesContext(connection) as queries:
        assert dashboard.open_disputes == 1
        assert dashboard.open_disputes == 1
    assert len(queries) == 1
