"""Scheduler benchmark: N due installments, then N due subscription periods, each charged exactly once (issue 13).

    .venv/bin/python -m bench.benchmarks.installments                         # both: 100,000 due each, 2 then 4 runners
    .venv/bin/python -m bench.benchmarks.installments --kind installments --installments 20000 --runners 4
    .venv/bin/python -m bench.benchmarks.installments --kind subscriptions --subscriptions 4000 --runners 2,4
    .venv/bin/python -m bench.benchmarks.installments --eager                 # no broker: runners settle too
    bench/run.py installments                                                 # the same through `make bench`

Two kinds of due rows, one engine (payments.recurring): `--kind installments`, `subscriptions` or
`both` (default; the installment rounds first). One round per kind and per --runners value.

Set-up (not timed): MySQL database `bench_installments` (--database-url; dropped, re-created and
migrated; no other database is touched). Each round has a merchant of its own in test mode whose
due rows are written with bulk_create, each owner with its own saved card (a real vault entry:
number sealed with AES-256-GCM under the key ring, so services.pay_with_saved_card reveals it and
the sandbox acquirer authorises it):
* installments (--installments N): plans of 1 + --due-per-plan installments whose first
  installment is paid, whose later ones are due now;
* subscriptions (--subscriptions N): N active monthly subscriptions started a month ago, period 1
  paid (paid_charges 1, as its hosted page leaves it; no payment row: the proof does not read it),
  period 2 due now.

Measured: K runner processes (`--runners`, like K beats racing) are released together; each loops
the kind's scheduler, payments.installments.charge_due() or payments.subscriptions.charge_due(),
until it starts no charge. With Redis (default, redis://127.0.0.1:6379/6, flushed first;
--redis-url) the charges are settled as in production: each charge's `payment.paid` event goes
through the broker to one Celery worker (prefork, --concurrency) whose subscriber
(payments.installment_payment_paid, payments.subscription_payment_paid) marks the installment or
the period paid; a paid period schedules the next. `--eager` runs without a broker: the runners
settle in-process. The runners are released once the worker has taken every task the previous
round left queued (receipts, event dispatch; at most DRAIN_LIMIT_SECONDS, recorded as
`worker_backlog_before_release`). Wall time is from the release of the runners to the last due row paid
(`paid_at`); charges per second = N / that time. The runners' own time (the last runner done) is
reported too.

Then proved with SQL, on the round's merchant. Installments: every due installment is paid, by
exactly one paid payment (its `paid_payment`), with no second payment of any status; each payment
has exactly one acquirer attempt and the sandbox answered exactly N authorisations; every plan is
fully paid. Subscriptions: every due period 2 is paid by exactly one paid payment (its
`paid_payment`), no other payment of any status for any period, one acquirer attempt each and N
sandbox authorisations; every subscription is still active, has counted the charge once
(paid_charges 2) and has exactly one next charge, period 3, scheduled on its date (a month ahead,
not charged). Both: `check_ledger`'s proof (payments.money.ledger_check) holds. Results:
bench/results/installments.json and .md, one table per kind; a run of one kind keeps the other
kind's rounds of the previous results, each round with its own date and set-up.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from urllib.parse import urlsplit

import django
import redis
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.db import OperationalError, connection, connections

from bench.harness import RESULTS, ROOT, Processes, log, redis_answers
from bench.mysql import recreate_database

NAME = "installments"
# 100,000 due installments then 100,000 due subscription periods, each twice, take about 18 hours on
# 2 cores (see bench/README.md).
TIME_LIMIT = 24 * 3600
DATABASE_URL = "mysql://root@127.0.0.1:3306/bench_installments"
REDIS_URL = "redis://127.0.0.1:6379/6"
AMOUNT = 5000
# The sandbox's success cards (payments.acquirers.sandbox.TEST_CARDS): brand, number.
CARDS = (("Visa", "4242424242424242"), ("Mastercard", "5555555555554444"), ("Mastercard", "5200828282828210"))
INSERT_BATCH = 2000
KINDS = ("installments", "subscriptions")
# The worker settles what the runners charged: the round gives up after this long without progress.
SETTLE_STALL_SECONDS = 600.0
# Before a round, the worker finishes the tasks the previous round left queued (receipts, webhook
# dispatch, ...), waiting at most this long: otherwise the round's settlements wait behind them.
DRAIN_LIMIT_SECONDS = 1800.0
# Kombu's Redis lists of the default queue (one per priority step).
QUEUE_LISTS = ("celery", "celery\x06\x163", "celery\x06\x166", "celery\x06\x169")


def environment(database_url: str, redis_url: str | None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "BENCH_"))}
    for key in ("REDIS_URL", "CELERY_BROKER_URL", "CACHE_KEY_PREFIX"):
        env.pop(key, None)
    env.update(
        ENV_FILE="/nonexistent",
        DJANGO_SETTINGS_MODULE="payplug.settings",
        DATABASE_URL=database_url,
        DEBUG="0",
        SECRET_KEY=env.get("SECRET_KEY") or "bench-secret-key-0123456789abcdefghijklmnopqrstuvwxyz",
        CARD_KEYS=env.get("CARD_KEYS") or "1:MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=",
        EMAIL_URL="dummymail://",  # receipts are rendered, not sent
        LOG_LEVEL="WARNING",
        PYTHONPATH=str(ROOT),
    )
    if redis_url:
        env.update(REDIS_URL=redis_url, CELERY_BROKER_URL=redis_url, CACHE_KEY_PREFIX="installments-bench")
    return env


# --- data (in-process, after django.setup(); the CI test uses these too) -------------------------------


def new_merchant(name: str):
    from merchants.models import User  # noqa: PLC0415  it imports models: only after django.setup()
    from merchants.services import organisations  # noqa: PLC0415  it imports models: only after django.setup()

    owner = User.objects.create_user(email=f"{name.lower().replace(' ', '-')}@bench.example.org", password=None)
    return organisations.create_merchant(owner, name)


def _sealed_entry(merchant, number: str, ring):
    """A VaultEntry as payments.vault.store() writes it, unsaved (bulk_create saves them)."""
    from payments.models import VaultEntry  # noqa: PLC0415  it imports models: only after django.setup()
    from payplug.keyring import NONCE_BYTES  # noqa: PLC0415  it reads settings: only after django.setup()

    entry = VaultEntry(merchant=merchant, fingerprint=ring.fingerprint(number))
    context = entry.token.encode()
    data_key = AESGCM.generate_key(bit_length=256)
    nonce = os.urandom(NONCE_BYTES)
    entry.ciphertext = nonce + AESGCM(data_key).encrypt(nonce, number.encode(), context)
    entry.key_version, entry.wrapped_key = ring.wrap(data_key, context)
    return entry


def _saved_cards(merchant, offset: int, count: int, ring, now: datetime) -> list:
    """`count` saved cards of `merchant` (test mode), each on a vault entry of its own."""
    from payments.models import Card, VaultEntry  # noqa: PLC0415  it imports models: only after django.setup()

    numbers = [CARDS[(offset + i) % len(CARDS)] for i in range(count)]
    entries = VaultEntry.objects.bulk_create([_sealed_entry(merchant, number, ring) for _, number in numbers])
    return Card.objects.bulk_create(
        [
            Card(
                merchant=merchant,
                is_live=False,
                vault_entry=entry,
                fingerprint=entry.fingerprint,
                brand=brand,
                last4=number[-4:],
                bin=number[:6],
                exp_month=12,
                exp_year=now.year + 3,
                country="FR",
            )
            for entry, (brand, number) in zip(entries, numbers, strict=True)
        ]
    )


def _billing(i: int) -> dict:
    return {
        "first_name": "Ada",
        "last_name": "Lovelace",
        "email": f"shopper-{i}@bench.example.org",
        "address1": "1 rue de la Paix",
        "postcode": "75002",
        "city": "Paris",
        "country": "FR",
        "language": "fr",
    }


def build(merchant, count: int, due_per_plan: int = 1, *, kind: str = "installments") -> dict:
    """`count` due rows of `kind` for `merchant` (test mode): installments (in plans of
    1 + due_per_plan, the first paid on its page, the others due now) or subscription periods (one
    per subscription: period 1 paid, period 2 due now); each owner with its own saved card."""
    if kind == "subscriptions":
        return _build_subscriptions(merchant, count)
    return _build_installments(merchant, count, due_per_plan)


def _build_installments(merchant, installments: int, due_per_plan: int) -> dict:
    from payments.models import Installment, InstallmentPlan  # noqa: PLC0415  after django.setup()
    from payplug.keyring import get_key_ring  # noqa: PLC0415  it reads settings: only after django.setup()

    started = time.perf_counter()
    ring = get_key_ring()
    now = datetime.now(UTC)
    created = now - timedelta(days=30 * (due_per_plan + 1))
    first_day = created.date()
    plans_wanted = -(-installments // due_per_plan)
    made = 0
    for offset in range(0, plans_wanted, INSERT_BATCH):
        cards = _saved_cards(merchant, offset, min(INSERT_BATCH, plans_wanted - offset), ring, now)
        plans = InstallmentPlan.objects.bulk_create(
            [
                InstallmentPlan(
                    merchant=merchant,
                    is_live=False,
                    billing=_billing(offset + i),
                    metadata={"order_id": str(offset + i)},
                    card=card,
                    created_at=created,
                )
                for i, card in enumerate(cards)
            ]
        )
        rows = []
        for plan in plans:
            rows.append(
                Installment(
                    plan=plan, index=1, date=first_day, amount=AMOUNT, status=Installment.Status.PAID, paid_at=created
                )
            )
            for index in range(2, 2 + due_per_plan):
                if made == installments:
                    break
                day: date = first_day + timedelta(days=30 * (index - 1))
                rows.append(Installment(plan=plan, index=index, date=day, amount=AMOUNT, next_attempt_at=now))
                made += 1
        Installment.objects.bulk_create(rows)
    return {
        "installments": made,
        "plans": plans_wanted,
        "due_per_plan": due_per_plan,
        "seconds": round(time.perf_counter() - started, 1),
    }


def _build_subscriptions(merchant, periods: int) -> dict:
    """Active monthly subscriptions started a month ago (today in the merchant's time zone, minus a
    month): period 1 paid then, period 2 dated today and due now, period 3 a month ahead."""
    from payments import recurring  # noqa: PLC0415  it imports models: only after django.setup()
    from payments.models import Subscription, SubscriptionCharge  # noqa: PLC0415  after django.setup()
    from payments.subscriptions import add_months, period_date  # noqa: PLC0415  after django.setup()
    from payplug.keyring import get_key_ring  # noqa: PLC0415  it reads settings: only after django.setup()

    started = time.perf_counter()
    ring = get_key_ring()
    now = datetime.now(UTC)
    start = add_months(recurring.today(merchant), -1)
    created = now - timedelta(days=31)
    Active = Subscription.Status.ACTIVE
    for offset in range(0, periods, INSERT_BATCH):
        cards = _saved_cards(merchant, offset, min(INSERT_BATCH, periods - offset), ring, now)
        subs = Subscription.objects.bulk_create(
            [
                Subscription(
                    merchant=merchant,
                    is_live=False,
                    status=Active,
                    amount=AMOUNT,
                    interval=Subscription.Interval.MONTH,
                    start_date=start,
                    description="Bench membership",
                    billing=_billing(offset + i),
                    metadata={"member_id": str(offset + i)},
                    card=card,
                    consent_at=created,
                    consent_text="I authorise Bench to charge my card €50.00 every month until I cancel.",
                    paid_charges=1,
                    activated_at=created,
                    created_at=created,
                )
                for i, card in enumerate(cards)
            ]
        )
        rows = []
        for sub in subs:
            rows.append(
                SubscriptionCharge(
                    subscription=sub,
                    period=1,
                    date=start,
                    amount=AMOUNT,
                    status=SubscriptionCharge.Status.PAID,
                    paid_at=created,
                )
            )
            rows.append(
                SubscriptionCharge(
                    subscription=sub, period=2, date=period_date(sub, 2), amount=AMOUNT, next_attempt_at=now
                )
            )
        SubscriptionCharge.objects.bulk_create(rows)
    return {
        "subscription_periods": periods,
        "subscriptions": periods,
        "start_date": start.isoformat(),
        "seconds": round(time.perf_counter() - started, 1),
    }


def run_until_idle(kind: str = "installments") -> dict:
    """One runner: the kind's charge_due() again and again until it starts no charge (as beats do
    each minute).

    A database error (deadlock, lock wait timeout) ends that call only, as it would end one beat's
    task: the next call goes on. They are counted."""
    from payments import installments, subscriptions  # noqa: PLC0415  it imports models: only after django.setup()

    charge_due = subscriptions.charge_due if kind == "subscriptions" else installments.charge_due
    started, calls, errors = 0, 0, 0
    while True:
        calls += 1
        try:
            count = charge_due()
        except OperationalError:
            errors += 1
            connection.close()
            continue
        started += count
        if count == 0:
            return {"started": started, "calls": calls, "database_errors": errors}


def _counter(merchant):
    m = [merchant.pk]

    def one(sql: str, params=m) -> int:
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            return int(cursor.fetchone()[0] or 0)

    return one


def _ledger(checks: dict) -> bool:
    from payments.money import ledger_check  # noqa: PLC0415  it imports models: only after django.setup()

    started = time.perf_counter()
    report = ledger_check.run()
    checks["ledger_check"] = "OK" if report.ok else report.problem
    checks["ledger_check_seconds"] = round(time.perf_counter() - started, 1)
    return report.ok


def prove(merchant, *, kind: str = "installments") -> dict:
    """The exactly-once proof, in SQL, over `merchant`'s due rows of `kind`."""
    if kind == "subscriptions":
        return _prove_subscriptions(merchant)
    return _prove_installments(merchant)


def _prove_installments(merchant) -> dict:
    """Over `merchant`'s due installments (index >= 2)."""
    from payments.models import (  # noqa: PLC0415  it imports models: only after django.setup()
        Installment,
        InstallmentPlan,
        Payment,
        PaymentAttempt,
        SandboxOperation,
    )

    plan_t, inst_t = InstallmentPlan._meta.db_table, Installment._meta.db_table
    pay_t, att_t, op_t = Payment._meta.db_table, PaymentAttempt._meta.db_table, SandboxOperation._meta.db_table
    one = _counter(merchant)
    due = f"FROM {inst_t} i JOIN {plan_t} p ON p.id = i.plan_id WHERE p.merchant_id = %s AND i.`index` >= 2"
    charges = f"FROM {pay_t} y WHERE y.merchant_id = %s AND y.installment_index >= 2"
    checks = {
        "installments": one(f"SELECT COUNT(*) {due}"),
        "not_paid": one(f"SELECT COUNT(*) {due} AND i.status <> 'paid'"),
        "still_due": one(f"SELECT COUNT(*) {due} AND i.status IN ('scheduled', 'retrying', 'charging')"),
        "with_exactly_one_paid_payment": one(
            f"SELECT COUNT(*) FROM (SELECT installment_plan_id, installment_index {charges} AND y.status = 'paid' "
            "GROUP BY installment_plan_id, installment_index HAVING COUNT(*) = 1) t"
        ),
        "with_two_paid_payments": one(
            f"SELECT COUNT(*) FROM (SELECT installment_plan_id, installment_index {charges} AND y.status = 'paid' "
            "GROUP BY installment_plan_id, installment_index HAVING COUNT(*) > 1) t"
        ),
        "charge_payments": one(f"SELECT COUNT(*) {charges}"),
        "paid_payment_is_the_paid_one": one(
            f"SELECT COUNT(*) {due} AND EXISTS (SELECT 1 FROM {pay_t} y WHERE y.id = i.paid_payment_id "
            "AND y.status = 'paid' AND y.installment_plan_id = p.public_id AND y.installment_index = i.`index`)"
        ),
        "acquirer_attempts": one(
            f"SELECT COUNT(*) FROM {att_t} a JOIN {pay_t} y ON y.id = a.payment_id "
            "WHERE y.merchant_id = %s AND y.installment_index >= 2"
        ),
        "sandbox_authorizations": one(
            f"SELECT COUNT(*) FROM {op_t} o JOIN {att_t} a ON a.idempotency_key = o.idempotency_key "
            f"JOIN {pay_t} y ON y.id = a.payment_id WHERE y.merchant_id = %s AND y.installment_index >= 2 "
            "AND o.kind = 'authorize'"
        ),
        "plans": one(f"SELECT COUNT(*) FROM {plan_t} WHERE merchant_id = %s"),
        "plans_fully_paid": one(f"SELECT COUNT(*) FROM {plan_t} WHERE merchant_id = %s AND is_fully_paid"),
    }
    ledger_ok = _ledger(checks)
    n = checks["installments"]
    checks["exactly_once"] = bool(
        n
        and checks["not_paid"] == 0
        and checks["still_due"] == 0
        and checks["with_exactly_one_paid_payment"] == n
        and checks["with_two_paid_payments"] == 0
        and checks["charge_payments"] == n
        and checks["paid_payment_is_the_paid_one"] == n
        and checks["acquirer_attempts"] == n
        and checks["sandbox_authorizations"] == n
        and checks["plans_fully_paid"] == checks["plans"]
    )
    checks["ok"] = checks["exactly_once"] and ledger_ok
    return checks


def _prove_subscriptions(merchant) -> dict:
    """Over `merchant`'s due subscription periods (period 2 of every subscription): each paid once,
    and the next period (3) scheduled once, in the future, not charged."""
    from payments.models import (  # noqa: PLC0415  it imports models: only after django.setup()
        Payment,
        PaymentAttempt,
        SandboxOperation,
        Subscription,
        SubscriptionCharge,
    )

    sub_t, chg_t = Subscription._meta.db_table, SubscriptionCharge._meta.db_table
    pay_t, att_t, op_t = Payment._meta.db_table, PaymentAttempt._meta.db_table, SandboxOperation._meta.db_table
    one = _counter(merchant)
    owned = f"FROM {chg_t} c JOIN {sub_t} s ON s.id = c.subscription_id WHERE s.merchant_id = %s"
    due = f"{owned} AND c.period = 2"
    # Every payment of the round's subscriptions, whatever its period (or none: a card check).
    payments = f"FROM {pay_t} y WHERE y.merchant_id = %s AND y.subscription_id IS NOT NULL"
    paid_2 = f"{payments} AND y.subscription_period = 2 AND y.status = 'paid'"
    now = datetime.now(UTC)
    checks = {
        "subscription_periods": one(f"SELECT COUNT(*) {due}"),
        "not_paid": one(f"SELECT COUNT(*) {due} AND c.status <> 'paid'"),
        "still_due": one(f"SELECT COUNT(*) {due} AND c.status IN ('scheduled', 'retrying', 'charging')"),
        "with_exactly_one_paid_payment": one(
            f"SELECT COUNT(*) FROM (SELECT subscription_id {paid_2} GROUP BY subscription_id HAVING COUNT(*) = 1) t"
        ),
        "with_two_paid_payments": one(
            f"SELECT COUNT(*) FROM (SELECT subscription_id {paid_2} GROUP BY subscription_id HAVING COUNT(*) > 1) t"
        ),
        "charge_payments": one(f"SELECT COUNT(*) {payments}"),
        "payments_of_other_periods": one(
            f"SELECT COUNT(*) {payments} AND (y.subscription_period IS NULL OR y.subscription_period <> 2)"
        ),
        "paid_payment_is_the_paid_one": one(
            f"SELECT COUNT(*) {due} AND EXISTS (SELECT 1 FROM {pay_t} y WHERE y.id = c.paid_payment_id "
            "AND y.status = 'paid' AND y.subscription_id = s.public_id AND y.subscription_period = c.period)"
        ),
        "acquirer_attempts": one(
            f"SELECT COUNT(*) FROM {att_t} a JOIN {pay_t} y ON y.id = a.payment_id "
            "WHERE y.merchant_id = %s AND y.subscription_id IS NOT NULL"
        ),
        "sandbox_authorizations": one(
            f"SELECT COUNT(*) FROM {op_t} o JOIN {att_t} a ON a.idempotency_key = o.idempotency_key "
            f"JOIN {pay_t} y ON y.id = a.payment_id WHERE y.merchant_id = %s AND y.subscription_id IS NOT NULL "
            "AND o.kind = 'authorize'"
        ),
        "subscriptions": one(f"SELECT COUNT(*) FROM {sub_t} WHERE merchant_id = %s"),
        "subscriptions_active": one(f"SELECT COUNT(*) FROM {sub_t} WHERE merchant_id = %s AND status = 'active'"),
        "paid_charges_counted_once": one(f"SELECT COUNT(*) FROM {sub_t} WHERE merchant_id = %s AND paid_charges = 2"),
        "next_period_scheduled": one(
            f"SELECT COUNT(*) {owned} AND c.period = 3 AND c.status = 'scheduled' AND c.attempts = 0 "
            "AND c.charge_payment_id IS NULL AND c.next_attempt_at > %s",
            [merchant.pk, now.replace(tzinfo=None)],  # stored in UTC, without a zone
        ),
        "charges_after_period_2": one(f"SELECT COUNT(*) {owned} AND c.period > 2"),
        "open_charges": one(f"SELECT COUNT(*) {owned} AND c.status IN ('scheduled', 'retrying', 'charging')"),
    }
    ledger_ok = _ledger(checks)
    n = checks["subscription_periods"]
    checks["exactly_once"] = bool(
        n
        and checks["not_paid"] == 0
        and checks["still_due"] == 0
        and checks["with_exactly_one_paid_payment"] == n
        and checks["with_two_paid_payments"] == 0
        and checks["charge_payments"] == n
        and checks["payments_of_other_periods"] == 0
        and checks["paid_payment_is_the_paid_one"] == n
        and checks["acquirer_attempts"] == n
        and checks["sandbox_authorizations"] == n
        and checks["subscriptions"] == n
        and checks["subscriptions_active"] == n
        and checks["paid_charges_counted_once"] == n
        and checks["next_period_scheduled"] == n
        and checks["charges_after_period_2"] == n  # period 3 only: one row each
        and checks["open_charges"] == n  # and it is each one's only open charge
    )
    checks["ok"] = checks["exactly_once"] and ledger_ok
    return checks


# --- one round: K runner processes, the worker, the proof ----------------------------------------------


def _left_and_last_paid(merchant, kind: str) -> tuple[int, float | None]:
    """How many of the round's due rows are not paid yet, and when the last one was paid."""
    from payments.models import Installment, SubscriptionCharge  # noqa: PLC0415  after django.setup()

    if kind == "subscriptions":
        rows = SubscriptionCharge.objects.filter(subscription__merchant=merchant, period=2)
    else:
        rows = Installment.objects.filter(plan__merchant=merchant, index__gte=2)
    left = rows.exclude(status=rows.model.Status.PAID).count()
    last = rows.order_by("-paid_at").values_list("paid_at", flat=True).first()
    return left, last.timestamp() if last else None


def broker_backlog(redis_url: str | None) -> int:
    """Tasks waiting in the broker for the worker (not those it holds: countdowns, the one running)."""
    if not redis_url:
        return 0
    client = redis.Redis.from_url(redis_url)
    return sum(client.llen(name) for name in QUEUE_LISTS)


def drain_worker(redis_url: str | None) -> tuple[int, float]:
    """Wait until the worker has taken every queued task; the backlog found and the seconds waited."""
    backlog, started = broker_backlog(redis_url), time.monotonic()
    if backlog:
        log(f"waiting for the worker to take the {backlog:,} tasks left queued (at most {DRAIN_LIMIT_SECONDS:g} s)")
    while broker_backlog(redis_url) and time.monotonic() - started < DRAIN_LIMIT_SECONDS:
        time.sleep(1.0)
    return backlog, round(time.monotonic() - started, 1)


def measure_round(
    env: dict, processes: Processes, *, kind: str = "installments", due: int, runners: int, due_per_plan: int = 1
) -> dict:
    what = "due installments" if kind == "installments" else "due subscription periods"
    merchant = new_merchant(f"Bench {kind.capitalize()} {runners} runners {time.monotonic_ns()}")
    log(f"{kind}, {runners} runners: building {due:,} {what} (not timed)")
    data = build(merchant, due, due_per_plan, kind=kind)
    log(f"built in {data['seconds']} s; starting {runners} runners")
    connections.close_all()
    outputs = [
        os.path.join(tempfile.gettempdir(), f"installments-bench-{os.getpid()}-runner-{i}.json") for i in range(runners)
    ]
    procs = [
        processes.start(
            [sys.executable, "-m", __spec__.name, "--runner", path, "--kind", kind],
            cwd=ROOT,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        for path in outputs
    ]
    for proc in procs:  # each has set Django up and waits for the go
        for line in proc.stdout:
            if line.strip() == "ready":
                break
        else:
            raise SystemExit(f"a runner did not start ({proc.wait()})")
    backlog, drained = drain_worker(env.get("CELERY_BROKER_URL"))
    released = time.time()
    load_at_release = os.getloadavg()[0]
    for proc in procs:
        proc.stdin.write("go\n")
        proc.stdin.flush()
    results = []
    for proc, path in zip(procs, outputs, strict=True):
        proc.communicate(timeout=TIME_LIMIT)
        if proc.returncode:
            raise SystemExit(f"a runner failed ({proc.returncode})")
        with open(path) as handle:
            results.append(json.load(handle))
        os.unlink(path)
    runners_done = max(r["finished"] for r in results)
    progress_at, seen_left = time.monotonic(), None
    while True:  # the worker settles what the runners charged; give up only when it stops progressing
        left, last = _left_and_last_paid(merchant, kind)
        if left == 0:
            break
        if left != seen_left:
            progress_at, seen_left = time.monotonic(), left
        elif time.monotonic() - progress_at > SETTLE_STALL_SECONDS:
            log(f"{left:,} still not paid after {SETTLE_STALL_SECONDS:g} s without progress")
            break
        time.sleep(0.5)
    wall = (last or time.time()) - released
    log(f"{kind}, {runners} runners: {due:,} settled in {wall:.1f} s; proving")
    proof = prove(merchant, kind=kind)
    return {
        "kind": kind,
        "due": due,
        "runners": runners,
        "data": data,
        "wall_seconds": round(wall, 2),
        "charges_per_second": round(due / wall, 1) if wall > 0 else None,
        "runners_seconds": round(runners_done - released, 2),
        # Claims and authorisations only (capture and settlement follow on the worker).
        "runner_charges_per_second": round(due / (runners_done - released), 1),
        "load_average_at_release": round(load_at_release, 2),
        "worker_backlog_before_release": {
            "tasks": backlog,
            "waited_seconds": drained,
            "left": broker_backlog(env.get("CELERY_BROKER_URL")) if backlog else 0,
        },
        "charges_started_by_runner": [r["started"] for r in results],
        "charge_due_calls_by_runner": [r["calls"] for r in results],
        "database_errors": sum(r["database_errors"] for r in results),
        "proof": proof,
    }


def runner_main(output: str, kind: str) -> None:
    django.setup()
    from payments import installments, subscriptions  # noqa: PLC0415, F401  imports models: only after django.setup()

    print("ready", flush=True)
    sys.stdin.readline()
    result = run_until_idle(kind)
    result["finished"] = time.time()
    with open(output, "w") as handle:
        json.dump(result, handle)


# --- results ---------------------------------------------------------------------------------------------

TITLES = {
    "installments": ("Installments", "due installments", "installment"),
    "subscriptions": ("Subscriptions", "due subscription periods", "period"),
}
PROOFS = {
    "installments": (
        "every due installment paid by exactly one paid payment, no second payment, one acquirer attempt "
        "and one sandbox authorisation per installment, every plan fully paid, `check_ledger` OK."
    ),
    "subscriptions": (
        "every due period (period 2 of each subscription) paid by exactly one paid payment, no other "
        "payment of any status for any period, one acquirer attempt and one sandbox authorisation per "
        "period, every subscription still active with `paid_charges` counted once and exactly one next "
        "charge (period 3) scheduled a month ahead and not charged, `check_ledger` OK."
    ),
}


def markdown(data: dict) -> str:
    cores = data["machine"]["cores"]
    lines = [
        "# Scheduler benchmark: installments and subscriptions",
        "",
        "Due rows charged by K runner processes racing (each looping the kind's `charge_due()` until idle), "
        f"settled by the worker; {cores} cores. Wall time from the release of the runners to the last due "
        "row paid; charges/s = due rows / wall time.",
        "",
    ]
    for kind in KINDS:
        rounds = [r for r in data["rounds"] if r.get("kind", "installments") == kind]
        if not rounds:
            continue
        title, what, unit = TITLES[kind]
        setups = []
        for r in rounds:
            if r["setup"] not in setups:
                setups.append(r["setup"])
        lines += [f"## {title}", ""]
        for setup in setups:
            per_plan = f" ({setup['due_per_plan']} due per plan)" if kind == "installments" else ""
            lines.append(f"{setup['due']:,} {what} per round{per_plan}, {setup['database']}, {setup['settlement']}.")
        lines += [
            "",
            f"| measured | runners | {unit}s | charges/s (to paid) | wall s | authorised/s by the runners "
            "| runners done s | started per runner | DB errors | exactly once | ledger |",
            "|---|---:|---:|---:|---:|---:|---:|---|---:|---|---|",
        ]
        for r in rounds:
            p = r["proof"]
            lines.append(
                f"| {r['date']} | {r['runners']} | {r['due']:,} | {r['charges_per_second']} | {r['wall_seconds']} | "
                f"{r.get('runner_charges_per_second', '')} | {r['runners_seconds']} | "
                f"{', '.join(f'{n:,}' for n in r['charges_started_by_runner'])} | {r['database_errors']} | "
                f"{'yes' if p['exactly_once'] else 'NO'} | {p['ledger_check']} |"
            )
        lines += ["", f"Proof per round (SQL): {PROOFS[kind]}", ""]
        loads = [
            f"{r['load_average_at_release']} ({r['runners']} runners)" for r in rounds if "load_average_at_release" in r
        ]
        if loads:
            lines += [
                f"Load average when the runners were released: {', '.join(loads)}, on {cores} cores "
                "(above the core count: other work shared the machine).",
                "",
            ]
    return "\n".join(lines)


def _upgrade(round_: dict, previous: dict) -> dict:
    """A round of an earlier results file, with its kind, size, date and set-up of its own (files
    written before subscriptions were measured had them once, for the whole file)."""
    round_ = dict(round_)
    old = previous.get("setup", {})
    round_.setdefault("kind", "installments")
    round_.setdefault("due", round_.get("data", {}).get("installments", old.get("installments")))
    round_.setdefault("date", previous.get("date"))
    round_.setdefault(
        "setup",
        {
            "due": round_["due"],
            "due_per_plan": old.get("due_per_plan", 1),
            "database": old.get("database"),
            "settlement": old.get("settlement"),
        },
    )
    return round_


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--kind", choices=(*KINDS, "both"), default="both", help="which due rows (default: both)")
    parser.add_argument("--installments", type=int, default=100_000, help="due installments per round")
    parser.add_argument("--subscriptions", type=int, default=100_000, help="due subscription periods per round")
    parser.add_argument("--runners", default="2,4", help="runner processes, one round per value (e.g. 2,4)")
    parser.add_argument("--due-per-plan", type=int, default=1, choices=(1, 2, 3))
    parser.add_argument("--database-url", default=os.environ.get("BENCH_INSTALLMENTS_DATABASE_URL", DATABASE_URL))
    parser.add_argument("--redis-url", default=REDIS_URL, help="broker of the worker (its database is flushed)")
    parser.add_argument("--eager", action="store_true", help="no broker, no worker: the runners settle in-process")
    parser.add_argument("--concurrency", type=int, default=os.cpu_count() or 2, help="pool of the Celery worker")
    parser.add_argument("--output", default=str(RESULTS / f"{NAME}.json"))
    parser.add_argument("--runner", metavar="OUTPUT", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.runner:
        runner_main(args.runner, args.kind)
        return {}
    kinds = list(KINDS) if args.kind == "both" else [args.kind]
    redis_url = None if args.eager else args.redis_url
    if redis_url:
        parts = urlsplit(redis_url)
        if not redis_answers(parts.hostname or "127.0.0.1", parts.port or 6379):
            raise SystemExit(f"no Redis at {redis_url}: start one, pass --redis-url, or --eager")
    env = environment(args.database_url, redis_url)
    os.environ.update(env)
    recreate_database(args.database_url, "bench_installments")
    django.setup()
    from django.core.management import call_command  # noqa: PLC0415  after django.setup()

    log("migrating")
    call_command("migrate", verbosity=0)
    processes = Processes()
    rounds: list[dict] = []
    data: dict = {"ok": False}
    try:
        if redis_url:
            redis.Redis.from_url(redis_url).flushdb()  # our own database number: stale tasks of an earlier run
            command = [sys.executable, "-m", "celery", "-A", "payplug", "worker", "--loglevel", "warning"]
            command += ["--concurrency", str(args.concurrency), "--without-gossip", "--without-mingle"]
            command += ["--without-heartbeat", "--hostname", f"bench-{os.getpid()}@installments"]
            worker_log = os.path.join(tempfile.gettempdir(), f"installments-bench-{os.getpid()}-worker.log")
            with open(worker_log, "ab") as handle:
                processes.start(command, cwd=ROOT, env=env, stdout=handle, stderr=subprocess.STDOUT)
        with connection.cursor() as cursor:
            cursor.execute("SELECT VERSION()")
            database = f"MariaDB {cursor.fetchone()[0]}"
        settlement = (
            "eager (no broker: the runners settle in-process)"
            if args.eager
            else f"Redis broker, 1 Celery worker (prefork, concurrency {args.concurrency})"
        )
        for kind in kinds:
            due = args.installments if kind == "installments" else args.subscriptions
            setup = {"due": due, "database": database, "settlement": settlement}
            if kind == "installments":
                setup["due_per_plan"] = args.due_per_plan
            for runners in [int(value) for value in args.runners.split(",")]:
                result = measure_round(
                    env, processes, kind=kind, due=due, runners=runners, due_per_plan=args.due_per_plan
                )
                result["date"] = datetime.now(UTC).isoformat(timespec="seconds")
                result["setup"] = setup
                rounds.append(result)
                data = write_results(args, kinds, database, rounds)  # after each round: a long run keeps it
    finally:
        processes.stop_all(grace=10)
    if not data["ok"]:
        raise SystemExit("the exactly-once proof failed: see the results")
    return data


def write_results(args, kinds: list[str], database: str, rounds: list[dict]) -> dict:
    """This run's rounds, and the earlier results' rounds of the kinds this run did not measure."""
    output = os.path.abspath(args.output)
    earlier: list[dict] = []
    try:
        with open(output) as handle:
            previous = json.load(handle)
    except (OSError, ValueError):
        previous = {}
    for old in previous.get("rounds", []):
        old = _upgrade(old, previous)
        if old["kind"] not in kinds:
            earlier.append(old)
    data = {
        "benchmark": NAME,
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {"cores": os.cpu_count(), "load_average_at_end": [round(v, 2) for v in os.getloadavg()]},
        "setup": {
            "kinds": kinds,
            "installments": args.installments if "installments" in kinds else None,
            "due_per_plan": args.due_per_plan,
            "subscriptions": args.subscriptions if "subscriptions" in kinds else None,
            "database": database,
            "settlement": (
                "eager (no broker: the runners settle in-process)"
                if args.eager
                else f"Redis broker, 1 Celery worker (prefork, concurrency {args.concurrency})"
            ),
            "runner": (
                "a process looping payments.installments.charge_due() or payments.subscriptions.charge_due() "
                "until it starts nothing"
            ),
        },
        # Sorted by kind, installments first; each round has its own date and set-up.
        "rounds": sorted(earlier + rounds, key=lambda r: KINDS.index(r["kind"])),
        # This run's rounds: the earlier ones were proved when they ran.
        "ok": all(r["proof"]["ok"] for r in rounds),
    }
    os.makedirs(os.path.dirname(output), exist_ok=True)
    with open(output, "w") as handle:
        handle.write(json.dumps(data, indent=2, default=str) + "\n")
    with open(output.removesuffix(".json") + ".md", "w") as handle:
        handle.write(markdown(data))
    log(f"results: {output} and .md")
    return data


def run(ctx) -> dict:
    """Due installments and subscription periods, each charged once by racing runners and a worker (MySQL, Redis db 6).

    bench/run.py entry point: the standalone script in a subprocess (its own database)."""
    args = ["-m", __spec__.name, *(["--installments", "2000", "--subscriptions", "2000"] if ctx.options.quick else [])]
    ctx.run_python(args, timeout=TIME_LIMIT)
    return json.loads((RESULTS / f"{NAME}.json").read_text())


if __name__ == "__main__":
    main()
