"""Installments benchmark: the scheduler charges N due installments, each exactly once (issue 13).

    .venv/bin/python -m bench.benchmarks.installments                         # 100,000 due, 2 then 4 runners
    .venv/bin/python -m bench.benchmarks.installments --installments 20000 --runners 4
    .venv/bin/python -m bench.benchmarks.installments --eager                 # no broker: runners settle too
    bench/run.py installments                                                 # the same through `make bench`

Set-up (not timed): MySQL database `bench_installments` (--database-url; dropped, re-created and
migrated; no other database is touched). For each round (one per --runners value) a merchant of
its own in test mode gets N due installments, written with bulk_create: plans of
1 + --due-per-plan installments whose first installment is paid, whose later ones are due now,
each plan with its own saved card (a real vault entry: number sealed with AES-256-GCM under the
key ring, so services.pay_with_saved_card reveals it and the sandbox acquirer authorises it).

Measured: K runner processes (`--runners`, like K beats racing) are released together; each loops
payments.installments.charge_due() until it starts no charge. With Redis (default,
redis://127.0.0.1:6379/6, flushed first; --redis-url) the installments are settled as in
production: each charge's `payment.paid` event goes through the broker to one Celery worker
(prefork, --concurrency) whose subscriber marks the installment paid. `--eager` runs without a
broker: the runners settle in-process. Wall time is from the release of the runners to the last
installment paid (`paid_at`); charges per second = N / that time. The runners' own time (the last
runner done) is reported too.

Then proved with SQL, on the round's merchant: every due installment is paid, by exactly one paid
payment (its `paid_payment`), with no second payment of any status; each payment has exactly one
acquirer attempt and the sandbox answered exactly N authorisations; every plan is fully paid;
`check_ledger`'s proof (payments.money.ledger_check) holds. Results: bench/results/installments.json
and .md.

Subscriptions (issue 13 item 2) do not exist yet: when they do, their due charges are one more
kind of `due` row built by build() and counted by prove().
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
TIME_LIMIT = 8 * 3600  # 100,000 due installments, twice, take hours on 2 cores (see bench/README.md)
DATABASE_URL = "mysql://root@127.0.0.1:3306/bench_installments"
REDIS_URL = "redis://127.0.0.1:6379/6"
AMOUNT = 5000
# The sandbox's success cards (payments.acquirers.sandbox.TEST_CARDS): brand, number.
CARDS = (("Visa", "4242424242424242"), ("Mastercard", "5555555555554444"), ("Mastercard", "5200828282828210"))
INSERT_BATCH = 2000


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


def build(merchant, installments: int, due_per_plan: int = 1) -> dict:
    """`installments` due installments of `merchant` (test mode), in plans of 1 + due_per_plan:
    the first paid on its page, the others due now, each plan with its own saved card."""
    from payments.models import Card, Installment, InstallmentPlan, VaultEntry  # noqa: PLC0415  after django.setup()
    from payplug.keyring import get_key_ring  # noqa: PLC0415  it reads settings: only after django.setup()

    started = time.perf_counter()
    ring = get_key_ring()
    now = datetime.now(UTC)
    created = now - timedelta(days=30 * (due_per_plan + 1))
    first_day = created.date()
    plans_wanted = -(-installments // due_per_plan)
    made = 0
    for offset in range(0, plans_wanted, INSERT_BATCH):
        count = min(INSERT_BATCH, plans_wanted - offset)
        numbers = [CARDS[(offset + i) % len(CARDS)] for i in range(count)]
        entries = VaultEntry.objects.bulk_create([_sealed_entry(merchant, number, ring) for _, number in numbers])
        cards = Card.objects.bulk_create(
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
        plans = InstallmentPlan.objects.bulk_create(
            [
                InstallmentPlan(
                    merchant=merchant,
                    is_live=False,
                    billing={
                        "first_name": "Ada",
                        "last_name": "Lovelace",
                        "email": f"shopper-{offset + i}@bench.example.org",
                        "address1": "1 rue de la Paix",
                        "postcode": "75002",
                        "city": "Paris",
                        "country": "FR",
                        "language": "fr",
                    },
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


def run_until_idle() -> dict:
    """One runner: charge_due() again and again until it starts no charge (as beats do each minute).

    A database error (deadlock, lock wait timeout) ends that call only, as it would end one beat's
    task: the next call goes on. They are counted."""
    from payments import installments  # noqa: PLC0415  it imports models: only after django.setup()

    started, calls, errors = 0, 0, 0
    while True:
        calls += 1
        try:
            count = installments.charge_due()
        except OperationalError:
            errors += 1
            connection.close()
            continue
        started += count
        if count == 0:
            return {"started": started, "calls": calls, "database_errors": errors}


def prove(merchant) -> dict:
    """The exactly-once proof, in SQL, over `merchant`'s due installments (index >= 2)."""
    from payments.models import (  # noqa: PLC0415  it imports models: only after django.setup()
        Installment,
        InstallmentPlan,
        Payment,
        PaymentAttempt,
        SandboxOperation,
    )
    from payments.money import ledger_check  # noqa: PLC0415  it imports models: only after django.setup()

    plan_t, inst_t = InstallmentPlan._meta.db_table, Installment._meta.db_table
    pay_t, att_t, op_t = Payment._meta.db_table, PaymentAttempt._meta.db_table, SandboxOperation._meta.db_table
    m = [merchant.pk]

    def one(sql: str, params=m) -> int:
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            return int(cursor.fetchone()[0] or 0)

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
    started = time.perf_counter()
    report = ledger_check.run()
    checks["ledger_check"] = "OK" if report.ok else report.problem
    checks["ledger_check_seconds"] = round(time.perf_counter() - started, 1)
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
    checks["ok"] = checks["exactly_once"] and report.ok
    return checks


# --- one round: K runner processes, the worker, the proof ----------------------------------------------


def _last_paid_at(merchant) -> tuple[int, float | None]:
    from payments.models import Installment  # noqa: PLC0415  it imports models: only after django.setup()

    rows = Installment.objects.filter(plan__merchant=merchant, index__gte=2)
    left = rows.exclude(status=Installment.Status.PAID).count()
    last = rows.order_by("-paid_at").values_list("paid_at", flat=True).first()
    return left, last.timestamp() if last else None


def measure_round(env: dict, processes: Processes, *, installments: int, runners: int, due_per_plan: int) -> dict:
    merchant = new_merchant(f"Bench Installments {runners} runners {time.monotonic_ns()}")
    log(f"{runners} runners: building {installments:,} due installments (not timed)")
    data = build(merchant, installments, due_per_plan)
    log(f"built in {data['seconds']} s; starting {runners} runners")
    connections.close_all()
    outputs = [
        os.path.join(tempfile.gettempdir(), f"installments-bench-{os.getpid()}-runner-{i}.json") for i in range(runners)
    ]
    procs = [
        processes.start(
            [sys.executable, "-m", __spec__.name, "--runner", path],
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
    deadline = time.monotonic() + max(600.0, installments / 20)
    while True:  # the worker settles what the runners charged
        left, last = _last_paid_at(merchant)
        if left == 0 or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    wall = (last or time.time()) - released
    log(f"{runners} runners: {installments:,} settled in {wall:.1f} s; proving")
    proof = prove(merchant)
    return {
        "runners": runners,
        "data": data,
        "wall_seconds": round(wall, 2),
        "charges_per_second": round(installments / wall, 1) if wall > 0 else None,
        "runners_seconds": round(runners_done - released, 2),
        # Claims and authorisations only (capture and settlement follow on the worker).
        "runner_charges_per_second": round(installments / (runners_done - released), 1),
        "load_average_at_release": round(load_at_release, 2),
        "charges_started_by_runner": [r["started"] for r in results],
        "charge_due_calls_by_runner": [r["calls"] for r in results],
        "database_errors": sum(r["database_errors"] for r in results),
        "proof": proof,
    }


def runner_main(output: str) -> None:
    django.setup()
    from payments import installments  # noqa: PLC0415, F401  imports models: only after django.setup()

    print("ready", flush=True)
    sys.stdin.readline()
    result = run_until_idle()
    result["finished"] = time.time()
    with open(output, "w") as handle:
        json.dump(result, handle)


def markdown(data: dict) -> str:
    setup = data["setup"]
    lines = [
        "# Installments benchmark",
        "",
        f"{setup['installments']:,} due installments per round ({setup['due_per_plan']} due per plan), "
        f"{setup['database']}, {setup['settlement']}; {data['machine']['cores']} cores. Wall time from the "
        "release of the runners to the last installment paid.",
        "",
        "| runners | charges/s (to paid) | wall s | authorised/s by the runners | runners done s | started per runner "
        "| DB errors | exactly once | ledger |",
        "|---:|---:|---:|---:|---:|---|---:|---|---|",
    ]
    for r in data["rounds"]:
        p = r["proof"]
        lines.append(
            f"| {r['runners']} | {r['charges_per_second']} | {r['wall_seconds']} | "
            f"{r.get('runner_charges_per_second', '')} | {r['runners_seconds']} | "
            f"{', '.join(f'{n:,}' for n in r['charges_started_by_runner'])} | {r['database_errors']} | "
            f"{'yes' if p['exactly_once'] else 'NO'} | {p['ledger_check']} |"
        )
    lines += [
        "",
        "Proof per round (SQL): every due installment paid by exactly one paid payment, no second payment, "
        "one acquirer attempt and one sandbox authorisation per installment, every plan fully paid, "
        "`check_ledger` OK.",
        "",
    ]
    loads = [
        f"{r['load_average_at_release']} ({r['runners']} runners)"
        for r in data["rounds"]
        if "load_average_at_release" in r
    ]
    if loads:
        lines += [
            f"Load average when the runners were released: {', '.join(loads)}, on {data['machine']['cores']} cores "
            "(above the core count: other work shared the machine).",
            "",
        ]
    return "\n".join(lines)


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--installments", type=int, default=100_000, help="due installments per round")
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
        runner_main(args.runner)
        return {}
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
        for runners in [int(value) for value in args.runners.split(",")]:
            rounds.append(
                measure_round(
                    env, processes, installments=args.installments, runners=runners, due_per_plan=args.due_per_plan
                )
            )
            data = write_results(args, database, rounds)  # after each round: a long run keeps what it measured
    finally:
        processes.stop_all(grace=10)
    if not data["ok"]:
        raise SystemExit("the exactly-once proof failed: see the results")
    return data


def write_results(args, database: str, rounds: list[dict]) -> dict:
    data = {
        "benchmark": NAME,
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {"cores": os.cpu_count(), "load_average_at_end": [round(v, 2) for v in os.getloadavg()]},
        "setup": {
            "installments": args.installments,
            "due_per_plan": args.due_per_plan,
            "database": database,
            "settlement": (
                "eager (no broker: the runners settle in-process)"
                if args.eager
                else f"Redis broker, 1 Celery worker (prefork, concurrency {args.concurrency})"
            ),
            "runner": "a process looping payments.installments.charge_due() until it starts nothing",
        },
        "rounds": rounds,
        "ok": all(r["proof"]["ok"] for r in rounds),
    }
    output = os.path.abspath(args.output)
    os.makedirs(os.path.dirname(output), exist_ok=True)
    with open(output, "w") as handle:
        handle.write(json.dumps(data, indent=2, default=str) + "\n")
    with open(output.removesuffix(".json") + ".md", "w") as handle:
        handle.write(markdown(data))
    log(f"results: {output} and .md")
    return data


def run(ctx) -> dict:
    """Due installments charged exactly once by racing scheduler runners and a worker (MySQL, Redis db 6).

    bench/run.py entry point: the standalone script in a subprocess (its own database)."""
    args = ["-m", __spec__.name, *(["--installments", "2000"] if ctx.options.quick else [])]
    ctx.run_python(args, timeout=TIME_LIMIT)
    return json.loads((RESULTS / f"{NAME}.json").read_text())


if __name__ == "__main__":
    main()
