"""Sample data for the demo merchant of `make run` (issue 12, item 23): a living dashboard at once.

`manage.py seed_demo` (merchants) creates the demo merchant; `manage.py seed_demo_data` (this
module) gives it, in test mode, 30 days of activity in every state: paid, refunded, partially
refunded, failed (declined three times, refused by the fraud engine), in review, disputed (one
open with its deadline, one won), payouts (paid, and today's in transit), a payment link with its
payments, two webhook endpoints with their deliveries, and shoppers who came back several times.

Why here: seeding calls payments, notifications and fraud services and sees the merchant; the
import layers (fraud -> payments -> notifications -> merchants) allow that only from fraud, the top
floor. merchants' seed_demo stays as it is (login and keys) and `make run` runs both.

Everything goes through the real code: payments.services (creation, the card on the hosted page,
refunds), payments.links, payments.money.{ledger,payouts,disputes}, the fraud engine (every
authorisation is scored by its `payment.authorized` subscriber, as always), notifications (every
event is dispatched and delivered). Nothing is inserted behind the state machine, so the ledger
balances (`manage.py check_ledger`).

Time: the 30 days are *replayed*. A demo clock sets the time that Django's `timezone.now()` (and
the model defaults built on it) returns to each sample's moment while its services run, so that
every row of a sample (payment, attempts, ledger postings and their settlement dates, events,
deliveries, payouts, dispute deadlines) carries the same, consistent past time. Back-dating rows
afterwards would leave ledger dates and payment dates disagreeing; replaying does not.

Only the demo merchant's rows are touched: settlement, payouts and chargebacks are run for it
alone (the platform-wide periodic jobs are never called). Webhook deliveries go to the platform's
own sandbox receiver on loopback (payplug.sandbox_webhooks), never outside the machine: while
seeding nothing listens yet, so they fail and are retried when `make run` serves (its scheduler).
Emails the samples would send (shoppers' receipts) are discarded, not printed.

Idempotent: a merchant that already has sample payments is left alone.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from urllib.parse import urlsplit

import django.utils.timezone as django_timezone
from django.conf import settings

from fraud.models import Decision
from fraud.services.reviews import review
from merchants.models import Membership, Merchant
from merchants.services.audit import Actor
from merchants.services.organisations import update_profile
from notifications.services.endpoints import create_endpoint
from payments import links, services
from payments.acquirers.base import CardData
from payments.models import Dispute, Payment, PaymentLink, Payout
from payments.money import disputes, ledger, payouts

MARKER = "demo_sample"  # in the metadata of the sample payments: the seed ran for this merchant
DAYS = 30
DEMO_IBAN = "FR1420041010050500013M02606"  # a well-formed test IBAN (test payouts go to the sandbox bank)

GOOD_CARDS = ("4242424242424242", "5555555555554444", "5200828282828210")
DECLINING_CARDS = ("4000000000009995", "4000000000000002", "4000000000000069")
DISPUTE_CARD = "4000000000000259"
FRAUD_CARD = "4100000000000019"

SHOPPERS = [
    # first name, last name, email, country, language, how often they come back (weight)
    ("Jeanne", "Martin", "jeanne.martin@example.org", "FR", "fr", 6),
    ("Lucas", "Bernard", "lucas.bernard@example.org", "FR", "fr", 4),
    ("Sofia", "Rossi", "sofia.rossi@example.com", "IT", "it", 3),
    ("Carmen", "García", "carmen.garcia@example.com", "ES", "es", 3),
    ("Emma", "Dubois", "emma.dubois@example.org", "FR", "fr", 2),
    ("Hugo", "Lefèvre", "hugo.lefevre@example.org", "BE", "fr", 1),
    ("Léa", "Moreau", "lea.moreau@example.org", "FR", "fr", 1),
    ("Oliver", "Smith", "oliver.smith@example.net", "GB", "en", 1),
    ("Marco", "Bianchi", "marco.bianchi@example.com", "IT", "it", 1),
    ("Chloé", "Roux", "chloe.roux@example.org", "FR", "fr", 1),
]
PRODUCTS = [
    ("Linen tea towel", 1290),
    ("Ceramic mug", 1890),
    ("Olive wood board", 2450),
    ("Organic cotton tote", 1590),
    ("Hand-thrown bowl", 3300),
    ("Beeswax candle set", 2790),
    ("Woven basket", 4590),
    ("Stoneware teapot", 5900),
    ("Wool throw", 8900),
    ("Table linen set", 12900),
]


# --- the demo clock ---------------------------------------------------------------------------------


class _ClockMeta(type):
    # Django's timezone module checks isinstance(value, datetime): real datetimes must still pass.
    def __instancecheck__(cls, obj):
        return isinstance(obj, datetime)

    def __subclasscheck__(cls, sub):
        return issubclass(sub, datetime)


class DemoClock:
    """The time the replay is at. Each reading moves it on by a millisecond, so rows written one
    after the other keep their order."""

    def __init__(self, moment: datetime):
        self.moment = moment

    def set(self, moment: datetime) -> None:
        self.moment = max(moment, self.moment)

    def now(self) -> datetime:
        self.moment += timedelta(milliseconds=1)
        return self.moment


@contextmanager
def demo_clock(start: datetime) -> Iterator[DemoClock]:
    """While open, `django.utils.timezone.now()` (what every service and model default reads)
    returns the clock's time. Only this module's single-threaded replay opens it."""
    clock = DemoClock(start)

    class ClockDatetime(datetime, metaclass=_ClockMeta):
        @classmethod
        def now(cls, tz=None):
            moment = clock.now()
            return moment.astimezone(tz) if tz is not None else moment.astimezone().replace(tzinfo=None)

    real = django_timezone.datetime
    django_timezone.datetime = ClockDatetime
    try:
        yield clock
    finally:
        django_timezone.datetime = real


@contextmanager
def _emails_discarded() -> Iterator[None]:
    """The samples' receipts are rendered and "sent" by the real code, to a backend that drops them
    (make run prints emails to the console: dozens of receipts would hide the demo's login)."""
    backend = settings.EMAIL_BACKEND
    settings.EMAIL_BACKEND = "django.core.mail.backends.dummy.EmailBackend"
    try:
        yield
    finally:
        settings.EMAIL_BACKEND = backend


@contextmanager
def _quiet() -> Iterator[None]:
    """No INFO line per task and fraud decision (hundreds): warnings and errors still show."""
    logging.disable(logging.INFO)
    try:
        yield
    finally:
        logging.disable(logging.NOTSET)


# --- the plan -----------------------------------------------------------------------------------------


@dataclass(order=True)
class Step:
    at: datetime
    order: int
    run: Callable[[], None] = field(compare=False)


@dataclass
class Result:
    created: bool
    payments: int = 0
    counts: dict = field(default_factory=dict)


def has_sample_data(merchant: Merchant) -> bool:
    return Payment.objects.filter(merchant=merchant, is_live=False, **{f"metadata__{MARKER}": True}).exists()


def sandbox_receiver_url(path: str = "") -> str:
    """The platform's own sandbox webhook receiver, always on loopback (never outside the machine):
    the port of PUBLIC_BASE_URL, which `make run` sets to the port it serves on."""
    port = urlsplit(settings.PUBLIC_BASE_URL).port or 8000
    return f"http://127.0.0.1:{port}/sandbox/webhooks/{path}"


class Seeder:
    def __init__(self, merchant: Merchant, now: datetime, rng: random.Random):
        self.merchant = merchant
        self.now = now
        self.rng = rng
        self.steps: list[Step] = []
        self.actor = Actor.system("seed_demo_data")
        self.sample_count = 0
        self.customers: dict[str, object] = {}
        self.link: PaymentLink | None = None

    # -- scheduling helpers

    def at(self, moment: datetime, run: Callable[[], None]) -> None:
        self.steps.append(Step(moment, len(self.steps), run))

    def day(self, days_ago: int, hour: int, minute: int = 0) -> datetime:
        day = (self.now - timedelta(days=days_ago)).date()
        return datetime.combine(day, time(hour, minute), tzinfo=UTC)

    # -- the services, one sample at a time

    def _billing(self, shopper) -> dict:
        first, last, email, country, language, _weight = shopper
        return {"first_name": first, "last_name": last, "email": email, "country": country, "language": language}

    def _create(self, shopper, amount: int, description: str, *, shopper_ip=None) -> Payment:
        self.sample_count += 1
        email = shopper[2]
        return services.create_payment(
            self.merchant,
            False,
            services.NewPayment(
                amount=amount,
                billing=self._billing(shopper),
                return_url="https://shop.example.org/thanks",
                cancel_url="https://shop.example.org/basket",
                description=description,
                metadata={MARKER: True, "order_id": f"D-{1000 + self.sample_count}"},
                customer=self.customers.get(email),
                source="api",
                shopper_ip=shopper_ip,
            ),
        )

    def _card(self, payment: Payment, number: str) -> Payment:
        services.submit_card(payment.pk, CardData(number=number, exp_month=12, exp_year=self.now.year + 3, cvc="123"))
        return Payment.objects.get(pk=payment.pk)

    def _shopper(self):
        return self.rng.choices(SHOPPERS, weights=[s[5] for s in SHOPPERS])[0]

    def _product(self):
        return self.rng.choice(PRODUCTS)

    def paid(self, moment, shopper=None, product=None, card=None, then: Callable[[Payment], None] | None = None):
        shopper = shopper or self._shopper()
        name, amount = product or self._product()

        def run():
            payment = self._card(self._create(shopper, amount, name), card or self.rng.choice(GOOD_CARDS))
            if then is not None:
                if payment.status == Payment.Status.IN_REVIEW:  # the sample's story needs it paid
                    self._approve_reviews()
                    payment.refresh_from_db()
                then(payment)

        self.at(moment, run)

    def declined_then_paid(self, moment):
        shopper, (name, amount) = self._shopper(), self._product()

        def run():
            payment = self._create(shopper, amount, name)
            self._card(payment, self.rng.choice(DECLINING_CARDS))
            self._card(payment, GOOD_CARDS[0])

        self.at(moment, run)

    def failed_for_good(self, moment):
        shopper, (name, amount) = self._shopper(), self._product()

        def run():
            payment = self._create(shopper, amount, name)
            for number in DECLINING_CARDS:  # the third decline fails the payment for good
                self._card(payment, number)

        self.at(moment, run)

    def fraud_refused(self, moment):
        shopper, (name, amount) = self._shopper(), self._product()
        self.at(moment, lambda: self._card(self._create(shopper, amount, name), FRAUD_CARD))

    def in_review(self, moment):
        """A French card, a shopper's IP in the United States and a German billing address for
        €249: the default rules ask for a review (three countries, amount over 200)."""
        shopper = ("Felix", "Wagner", "felix.wagner@example.de", "DE", "de", 1)

        def run():
            payment = self._create(shopper, 24900, "2 wool throws, table linen set", shopper_ip="8.8.8.8")
            self._card(payment, GOOD_CARDS[0])

        self.at(moment, run)

    def refund_later(self, moment, refund_at, amount: int | None):
        """Paid at `moment`, refunded (all of it, or `amount`) at `refund_at`."""
        shopper, product = self._shopper(), self._product()
        if amount is not None:
            product = (product[0], max(product[1], amount * 2))
        holder = {}
        self.paid(moment, shopper, product, then=lambda p: holder.setdefault("payment", p))
        self.at(refund_at, lambda: services.refund(holder["payment"], amount, created_by="demo@seed"))

    def disputed(self, moment, *, win_at: datetime | None = None):
        """The sandbox dispute card: paid, then its chargeback opens five minutes later (the job
        `payments.open_due_chargebacks` does it for real); optionally answered and won."""
        holder = {}
        self.paid(moment, product=("Stoneware teapot", 5900), card=DISPUTE_CARD, then=lambda p: holder.update(p=p))
        opens_at = moment + disputes.SANDBOX_CHARGEBACK_DELAY + timedelta(minutes=1)
        self.at(opens_at, lambda: holder.update(d=disputes.open_scheduled(holder["p"].pk)))
        if win_at is not None:
            text = "Delivered on time: tracking number and the shopper's signature attached to the order."
            self.at(win_at - timedelta(days=2), lambda: disputes.submit_evidence(holder["d"], text))
            self.at(win_at, lambda: disputes.close(holder["d"], won=True))

    def link_payment(self, moment, quantity: int):
        shopper = self._shopper()

        def run():
            first, last, email, country, language, _weight = shopper
            self.sample_count += 1
            payment = links.start_payment(
                self.link,
                links.Visit(
                    unit_amount=self.link.amount,
                    quantity=quantity,
                    billing={"first_name": first, "last_name": last, "email": email, "country": country},
                    language=language,
                ),
            )
            self._card(payment, self.rng.choice(GOOD_CARDS))

        self.at(moment, run)

    def payout_run(self, moment, *, confirm_after: timedelta | None):
        """The daily payout of this merchant only: settle what fell due, pay the available balance
        into a SEPA file; the sandbox bank confirms it `confirm_after` later (None: not yet)."""
        holder = {}

        def run():
            ledger.settle(self.merchant.pk, False)
            payout = payouts.create_payout(self.merchant, False, moment.date())
            if payout is not None:
                payouts.write_batch([payout], False, moment.date())
                holder["payout"] = payout

        self.at(moment, run)
        if confirm_after is not None:
            self.at(moment + confirm_after, lambda: holder.get("payout") and payouts.mark_paid(holder["payout"]))

    # -- the 30 days

    def plan(self) -> None:
        rng = self.rng
        self.at(self.day(DAYS + 1, 9), self._setup)
        for days_ago in range(DAYS, 0, -1):
            weekday = (self.now - timedelta(days=days_ago)).weekday()
            count = rng.choice([0, 1, 2]) if weekday >= 5 else rng.choice([1, 2, 3, 3, 4])
            for _ in range(count):
                moment = self.day(days_ago, rng.randint(9, 20), rng.randint(0, 59))
                if rng.random() < 0.1:
                    self.declined_then_paid(moment)
                else:
                    self.paid(moment)
            # The merchant goes through the payments held for review each evening.
            self.at(self.day(days_ago, 21, 30), self._approve_reviews)
            if days_ago < DAYS:
                self.payout_run(self.day(days_ago, 0, 5), confirm_after=timedelta(minutes=15))
        # Today: a few payments in the last hours, whatever the time of day.
        for minutes_ago in sorted(rng.sample(range(20, 12 * 60), 3), reverse=True):
            self.paid(self.now - timedelta(minutes=minutes_ago))
        # Today's payout (the job runs hourly and pays once a day): written a few minutes ago,
        # confirmed by the sandbox bank ten minutes after its file (make run's scheduler does it).
        self.payout_run(self.now - timedelta(minutes=3), confirm_after=None)

        # Every other state, on fixed days.
        self.refund_later(self.day(24, 11), self.day(22, 15), None)  # refunded in full
        self.refund_later(self.day(13, 16), self.day(12, 10), 1500)  # partially refunded
        self.refund_later(self.day(6, 10), self.day(5, 17), 2000)  # partially refunded
        self.failed_for_good(self.day(17, 14))
        self.failed_for_good(self.day(4, 19))
        self.fraud_refused(self.day(9, 22))
        self.disputed(self.day(20, 13), win_at=self.day(11, 9))
        self.disputed(self.day(3, 15))  # open: its evidence is due in a week
        self.in_review(self.now - timedelta(hours=2))
        for days_ago, quantity in ((23, 1), (19, 2), (15, 1), (8, 3), (2, 1), (1, 2)):
            self.link_payment(self.day(days_ago, rng.randint(9, 20), rng.randint(0, 59)), quantity)
        # Webhooks from two days ago: deliveries of the last days' events, some of them failing.
        self.at(self.day(2, 8), self._webhooks)

    def _setup(self) -> None:
        if not self.merchant.iban:
            self.merchant = update_profile(self.merchant, self.actor, {"iban": DEMO_IBAN})
        for first, last, email, country, _language, weight in SHOPPERS:
            if weight >= 3:  # regulars have a customer record (the API's customers), the others not
                self.customers[email] = services.create_customer(
                    self.merchant,
                    False,
                    {"email": email, "first_name": first, "last_name": last, "country": country},
                )
        self.link = links.create_link(
            self.merchant,
            False,
            self.actor,
            {
                "description": "Gift card",
                "amount": 2500,
                "ask_quantity": True,
                "max_quantity": 5,
                "collect_name": True,
                "collect_email": True,
            },
        )

    def _approve_reviews(self) -> None:
        """The owner approves the day's payments that the fraud engine held for review (the
        planned review of today stays waiting)."""
        owner = Membership.objects.filter(merchant=self.merchant, role=Membership.Role.OWNER).first()
        held = Decision.objects.filter(
            merchant=self.merchant,
            is_live=False,
            outcome=Decision.Outcome.REVIEW,
            review_outcome="",
            payment__status=Payment.Status.IN_REVIEW,
        )
        for decision_id in held.values_list("pk", flat=True):
            review(decision_id, approve=True, user=owner.user if owner else None)

    def _webhooks(self) -> None:
        create_endpoint(
            self.merchant,
            False,
            url=sandbox_receiver_url(),
            event_types=["payment.paid", "payment.failed", "payment.disputed", "refund.created", "payout.paid"],
            description="Shop backend (the platform's sandbox receiver: answers 204)",
        )
        create_endpoint(
            self.merchant,
            False,
            url=sandbox_receiver_url("failing/"),
            event_types=["payment.paid"],
            description="Old stock system (the sandbox receiver's failing URL: answers 503)",
        )

    def run(self) -> None:
        with _quiet(), _emails_discarded(), demo_clock(min(step.at for step in self.steps)) as clock:
            for step in sorted(self.steps):
                clock.set(step.at)
                step.run()


def seed(merchant: Merchant, *, now: datetime | None = None, seed_value: int = 12) -> Result:
    """Give the merchant its sample data in test mode, unless it has some already."""
    if has_sample_data(merchant):
        return Result(created=False)
    now = now or django_timezone.now()
    seeder = Seeder(merchant, now, random.Random(seed_value))  # noqa: S311  sample data, not a secret
    seeder.plan()
    seeder.run()
    return Result(created=True, payments=seeder.sample_count, counts=summary(merchant))


def summary(merchant: Merchant) -> dict[str, int]:
    """What the merchant has in test mode, by state (the command prints it)."""
    tenant = Payment.objects.filter(merchant=merchant, is_live=False)
    return {
        "paid": tenant.filter(status=Payment.Status.PAID).count(),
        "refunded": tenant.filter(amount_refunded__gt=0).count(),
        "failed": tenant.filter(status=Payment.Status.FAILED).count(),
        "in review": tenant.filter(status=Payment.Status.IN_REVIEW).count(),
        "disputes": Dispute.objects.filter(merchant=merchant, is_live=False).count(),
        "payouts": Payout.objects.filter(merchant=merchant, is_live=False).count(),
    }
