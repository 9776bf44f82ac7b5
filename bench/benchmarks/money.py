"""Money benchmark: the payments back office and the ledger proof at a million payments.

    .venv/bin/python -m bench.benchmarks.money                    # 1,000,000 payments (a few minutes of set-up)
    .venv/bin/python -m bench.benchmarks.money --payments 100000  # smaller
    .venv/bin/python -m bench.benchmarks.money --reuse            # keep the generated database, measure again
    bench/run.py money                                            # the same through `make bench` (run(ctx) below)

Set-up: MySQL database `bench_money` (DATABASE_URL, default mysql://root@127.0.0.1:3306/bench_money;
dropped, re-created and migrated; no other database is touched). One merchant in test mode gets
N payments written with multi-row INSERTs (85 % paid with their capture postings and ledger lines,
15 % of the paid ones partly refunded with their Refund rows and postings, 10 % failed, 5 % awaiting
payment), so the ledger holds about a million transactions that `check_ledger` must prove.

Measured in-process through Django's test client (middleware, session, template included):
* the payments list, p50/p95/max of REPEAT requests each: first page, a filtered page
  (status=failed), an email filter, a page deep in the keyset (the cursor of row 90 %);
* the streamed CSV export of every payment: time, rows, bytes, and the process's peak resident
  memory above its level before the export (sampled every 20 ms from /proc);
* `check_ledger` over the whole ledger: time.
Results: bench/results/money.json and .md.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import threading
import time
from datetime import UTC, datetime, timedelta

import django
from django.conf import settings
from django.core.management import call_command
from django.db import connection, transaction
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from bench.harness import RESULTS
from bench.mysql import recreate_database

NAME = "money"
DATABASE_URL = "mysql://root@127.0.0.1:3306/bench_money"
REPEAT = 40
BATCH = 5000


def log(message: str) -> None:
    print(f"[money {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def setup_django(database_url: str) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "payplug.settings")
    os.environ["ENV_FILE"] = "/nonexistent"
    os.environ["DATABASE_URL"] = database_url
    os.environ.setdefault("SECRET_KEY", "bench-secret-key-0123456789abcdefghijklmnopqrstuvwxyz")
    os.environ.setdefault("CARD_KEYS", "1:MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=")
    os.environ.setdefault("DEBUG", "0")
    os.environ.setdefault("SECURE_HTTPS", "0")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    for key in ("REDIS_URL", "CELERY_BROKER_URL"):
        os.environ.pop(key, None)
    django.setup()
    # DEBUG stays off (no query log), but pages render without a collectstatic manifest.
    settings.STORAGES["staticfiles"] = {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}


# --- data ------------------------------------------------------------------------------------------


def _insert(table: str, columns: list[str], rows: list[tuple]) -> None:
    sql = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join(['%s'] * len(columns))})"
    with connection.cursor() as cursor:
        cursor.executemany(sql, rows)  # mysqlclient sends one multi-row INSERT per call


def generate(n: int) -> dict:
    """N payments of one merchant (test mode), their ledger postings and refunds, in bulk."""
    from merchants.models import User  # noqa: PLC0415  it imports models: only after django.setup()
    from merchants.services import organisations  # noqa: PLC0415  it imports models: only after django.setup()
    from payments.models import LedgerAccount  # noqa: PLC0415  it imports models: only after django.setup()
    from payments.money import ledger  # noqa: PLC0415  it imports models: only after django.setup()

    owner = User.objects.create_user(
        email="bench@example.org", password="bench-password-123", email_verified_at=timezone.now()
    )
    merchant = organisations.create_merchant(owner, "Bench Shop")
    schedule = ledger.settings_for(merchant)
    bps, fixed = schedule.fee_percent_bps, schedule.fee_fixed
    with transaction.atomic():
        accounts = ledger.merchant_accounts(merchant.pk, False)
        clearing = ledger.platform_account(False, LedgerAccount.Kind.ACQUIRER_CLEARING).pk
        fees = ledger.platform_account(False, LedgerAccount.Kind.FEES).pk
    pending = accounts["pending"].pk
    start = timezone.now() - timedelta(days=365)
    step = timedelta(days=364) / n
    metadata_json = json.dumps({"schedule": {"bps": bps, "fixed": fixed}})
    payment_cols = [
        "id",
        "merchant_id",
        "is_live",
        "public_id",
        "status",
        "amount",
        "amount_refunded",
        "currency",
        "is_deferred",
        "auto_capture",
        "created_at",
        "updated_at",
        "expires_at",
        "paid_at",
        "is_3ds",
        "save_card",
        "allow_save_card",
        "force_3ds",
        "card_last4",
        "card_brand",
        "billing",
        "metadata",
        "failed_attempts",
        "source",
        "billing_email",
        "failure_code",
        "description",
    ]
    tx_cols = [
        "id",
        "public_id",
        "unique_key",
        "kind",
        "merchant_id",
        "is_live",
        "payment_id",
        "refund_id",
        "gross",
        "fee",
        "net",
        "currency",
        "description",
        "metadata",
        "created_at",
    ]
    entry_cols = ["transaction_id", "account_id", "amount", "available_on", "created_at"]
    refund_cols = [
        "id",
        "merchant_id",
        "is_live",
        "public_id",
        "payment_id",
        "amount",
        "currency",
        "metadata",
        "acquirer_reference",
        "created_at",
        "created_by",
    ]
    counts = {"payments": 0, "transactions": 0, "entries": 0, "refunds": 0}
    started = time.perf_counter()
    tx_id = refund_id = 0
    with connection.cursor() as cursor:
        cursor.execute("SET unique_checks = 0")
    for low in range(0, n, BATCH):
        payments, txs, entries, refunds = [], [], [], []
        for i in range(low, min(n, low + BATCH)):
            pk = i + 1
            created = start + step * i
            amount = 500 + (i * 7919) % 20000
            kind = i % 20
            status = "paid" if kind < 17 else ("failed" if kind < 19 else "created")
            refunded = (amount // 3) if (status == "paid" and i % 5 == 0) else 0
            email = f"buyer{i % 50000}@example.org"
            payments.append(
                (
                    pk,
                    merchant.pk,
                    False,
                    f"pay_bench{pk:017d}",
                    status,
                    amount,
                    refunded,
                    "EUR",
                    False,
                    False,
                    created,
                    created,
                    created + timedelta(hours=24),
                    created if status == "paid" else None,
                    False,
                    False,
                    False,
                    False,
                    f"{4000 + i % 5000:04d}" if status != "created" else None,
                    "Visa" if status != "created" else None,
                    json.dumps({"email": email, "first_name": "B"}),
                    json.dumps({"order_id": str(i), "channel": "web" if i % 3 else "app"}),
                    1 if status == "failed" else 0,
                    "api",
                    email,
                    "card_declined" if status == "failed" else None,
                    None,
                )
            )
            if status != "paid":
                continue
            fee = ledger.fee_for(amount, bps, fixed)
            due = created + timedelta(days=7)
            tx_id += 1
            txs.append(
                (
                    tx_id,
                    f"ltx_bench{tx_id:018d}",
                    f"capture:{pk}",
                    "capture",
                    merchant.pk,
                    False,
                    pk,
                    None,
                    amount,
                    fee,
                    amount - fee,
                    "EUR",
                    "",
                    metadata_json,
                    created,
                )
            )
            entries += [
                (tx_id, clearing, -amount, created, created),
                (tx_id, fees, fee, created, created),
                (tx_id, pending, amount - fee, due, created),
            ]
            if refunded:
                refund_id += 1
                at = created + timedelta(minutes=5)
                returned = fee - ledger.fee_for(amount - refunded, bps, fixed)
                refunds.append(
                    (
                        refund_id,
                        merchant.pk,
                        False,
                        f"re_bench{refund_id:018d}",
                        pk,
                        refunded,
                        "EUR",
                        "{}",
                        "sbx",
                        at,
                        "bench",
                    )
                )
                tx_id += 1
                txs.append(
                    (
                        tx_id,
                        f"ltx_bench{tx_id:018d}",
                        f"refund:{refund_id}",
                        "refund",
                        merchant.pk,
                        False,
                        pk,
                        refund_id,
                        -refunded,
                        -returned,
                        -(refunded - returned),
                        "EUR",
                        "",
                        "{}",
                        at,
                    )
                )
                entries += [
                    (tx_id, clearing, refunded, at, at),
                    (tx_id, fees, -returned, at, at),
                    (tx_id, pending, -(refunded - returned), due, at),
                ]
        with transaction.atomic():
            _insert("payments_payment", payment_cols, payments)
            if refunds:
                _insert("payments_refund", refund_cols, refunds)
            _insert("payments_ledgertransaction", tx_cols, txs)
            _insert("payments_ledgerentry", entry_cols, entries)
        counts["payments"] += len(payments)
        counts["transactions"] += len(txs)
        counts["entries"] += len(entries)
        counts["refunds"] += len(refunds)
        if (low // BATCH) % 20 == 0:
            log(f"{counts['payments']:,} payments written ({time.perf_counter() - started:.0f} s)")
    with connection.cursor() as cursor:
        cursor.execute("SET unique_checks = 1")
        for table in ("payments_payment", "payments_ledgertransaction", "payments_ledgerentry", "payments_refund"):
            cursor.execute(f"ANALYZE TABLE {table}")
            cursor.fetchall()
    counts["seconds"] = round(time.perf_counter() - started, 1)
    log(f"data ready: {counts}")
    return {"merchant_id": merchant.pk, "owner_id": owner.pk, **counts}


# --- measurements ----------------------------------------------------------------------------------


def percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def timed(client, url: str, params: dict, repeat: int = REPEAT) -> dict:
    samples = []
    for _ in range(repeat + 3):
        started = time.perf_counter()
        response = client.get(url, params)
        elapsed = (time.perf_counter() - started) * 1000
        if response.status_code != 200:
            raise RuntimeError(f"{url} {params}: HTTP {response.status_code}")
        samples.append(elapsed)
    samples = samples[3:]  # warm-up
    return {
        "requests": len(samples),
        "p50_ms": round(statistics.median(samples), 1),
        "p95_ms": round(percentile(samples, 0.95), 1),
        "max_ms": round(max(samples), 1),
        "rows": len(response.context["page"]) if response.context else None,
    }


def rss_bytes() -> int:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def measure(info: dict) -> dict:
    from merchants.models import User  # noqa: PLC0415  it imports models: only after django.setup()
    from payments.dashboard import queries  # noqa: PLC0415  it imports models: only after django.setup()
    from payments.models import Payment  # noqa: PLC0415  it imports models: only after django.setup()

    client = Client()
    client.force_login(User.objects.get(pk=info["owner_id"]))
    url = reverse("dashboard:payments")
    queryset = Payment.objects.filter(merchant_id=info["merchant_id"], is_live=False).order_by("-created_at", "-id")
    deep = queryset.values_list("created_at", "id")[int(info["payments"] * 0.9)]
    cursor = queries.encode_cursor(*deep)
    results = {
        "first_page": timed(client, url, {}),
        "filtered_page_status": timed(client, url, {"status": "failed"}),
        "filtered_page_email": timed(client, url, {"email": "buyer777@example.org"}),
        "filtered_page_status_deep": timed(client, url, {"status": "paid", "after": cursor}),
        "deep_keyset_page": timed(client, url, {"after": cursor}),
    }
    log(f"list: {json.dumps(results)}")

    # Streamed export of everything, peak RSS sampled from /proc while it runs.
    baseline = rss_bytes()
    peak = [baseline]
    done = threading.Event()

    def sample():
        while not done.is_set():
            peak[0] = max(peak[0], rss_bytes())
            time.sleep(0.02)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    started = time.perf_counter()
    response = client.get(reverse("dashboard:payments_export"))
    rows = size = 0
    for chunk in response.streaming_content:
        size += len(chunk)
        rows += chunk.count(b"\n")
    export_seconds = time.perf_counter() - started
    done.set()
    sampler.join()
    results["csv_export"] = {
        "rows": rows - 1,
        "bytes": size,
        "seconds": round(export_seconds, 1),
        "rows_per_second": round((rows - 1) / export_seconds),
        "rss_before_mb": round(baseline / 2**20, 1),
        "peak_rss_increase_mb": round((peak[0] - baseline) / 2**20, 1),
    }
    log(f"export: {results['csv_export']}")

    from payments.money import ledger_check  # noqa: PLC0415  it imports models: only after django.setup()

    started = time.perf_counter()
    report = ledger_check.run()
    results["check_ledger"] = {
        "ok": report.ok,
        "problem": report.problem,
        "transactions": report.transactions,
        "payments": report.payments,
        "seconds": round(time.perf_counter() - started, 1),
    }
    log(f"check_ledger: {results['check_ledger']}")
    with connection.cursor() as c:
        c.execute("SELECT VERSION()")
        results["database"] = c.fetchone()[0]
    return results


def markdown(data: dict) -> str:
    lines = [
        "# Money benchmark",
        "",
        f"{data['data']['payments']:,} payments, {data['data']['transactions']:,} ledger transactions, "
        f"{data['data']['entries']:,} ledger lines ({data['results']['database']}); generated in "
        f"{data['data']['seconds']} s. Target: p95 < 150 ms per list page.",
        "",
        "| payments list | p50 ms | p95 ms | max ms |",
        "|---|---|---|---|",
    ]
    for name in (
        "first_page",
        "filtered_page_status",
        "filtered_page_email",
        "filtered_page_status_deep",
        "deep_keyset_page",
    ):
        r = data["results"][name]
        lines.append(f"| {name} | {r['p50_ms']} | {r['p95_ms']} | {r['max_ms']} |")
    e = data["results"]["csv_export"]
    c = data["results"]["check_ledger"]
    lines += [
        "",
        f"CSV export: {e['rows']:,} rows, {e['bytes'] / 2**20:.0f} MiB in {e['seconds']} s "
        f"({e['rows_per_second']:,} rows/s); peak resident memory +{e['peak_rss_increase_mb']} MiB.",
        "",
        f"check_ledger: {c['transactions']:,} transactions, {c['payments']:,} payments in {c['seconds']} s "
        f"({'OK' if c['ok'] else c['problem']}).",
        "",
    ]
    return "\n".join(lines)


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--payments", type=int, default=1_000_000)
    parser.add_argument("--database-url", default=os.environ.get("BENCH_MONEY_DATABASE_URL", DATABASE_URL))
    parser.add_argument("--reuse", action="store_true", help="measure the existing bench_money data again")
    args = parser.parse_args(argv)
    info_file = RESULTS / ".money_data.json"
    if not args.reuse:
        recreate_database(args.database_url, "bench_money")
    setup_django(args.database_url)
    if args.reuse and info_file.exists():
        info = json.loads(info_file.read_text())
    else:
        log("migrating")
        call_command("migrate", verbosity=0)
        info = generate(args.payments)
        RESULTS.mkdir(parents=True, exist_ok=True)
        info_file.write_text(json.dumps(info))
    results = measure(info)
    data = {
        "benchmark": NAME,
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {"cores": os.cpu_count()},
        "data": info,
        "results": results,
        "targets": {"list_p95_ms": 150},
        "targets_met": all(
            results[k]["p95_ms"] < 150
            for k in ("first_page", "filtered_page_status", "filtered_page_email", "deep_keyset_page")
        ),
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "money.json").write_text(json.dumps(data, indent=2, default=str) + "\n")
    (RESULTS / "money.md").write_text(markdown(data))
    log("results: bench/results/money.json and .md")
    return data


def run(ctx) -> dict:
    """bench/run.py entry point: the standalone script in a subprocess (its own database)."""
    args = ["-m", __spec__.name, *(["--payments", "100000"] if ctx.options.quick else [])]
    ctx.run_python(args, timeout=3 * 3600)
    return json.loads((RESULTS / "money.json").read_text())


if __name__ == "__main__":
    main()
