"""Checkout benchmark: time from the shopper's card submission to the final outcome page.

    .venv/bin/python -m bench.benchmarks.checkout          # standalone: 200 sequential + 4 x 50 concurrent shoppers
    .venv/bin/python -m bench.benchmarks.checkout --payments 50 --shoppers 2 --per-shopper 20
    bench/run.py checkout                                  # the same through `make bench` (run(ctx) below)

What is measured, per payment, as a browser without JavaScript does it (spec §13):
POST of the card form on the hosted page (sandbox success card 4242...) -> 303 -> GET of the result
page, which waits for the fraud decision (authorised -> fraud.score_payment on the Celery worker ->
captured) and answers the final page. The clock runs from the POST's first byte to the last byte
of the result page; creating the payment (API) and loading the form are not counted.

Set-up, all on this machine: gunicorn (docker/gunicorn.conf.py) on a loopback port; a Celery worker
on Redis database 11 (REDIS_URL=redis://127.0.0.1:6379/11, the cache too; only that database is
flushed); MySQL database `bench_checkout` (dropped and re-created; no other database is touched).
Shoppers come from distinct loopback addresses (127.0.0.2...) so that the per-address card-testing
limit (30 an hour) is not what gets measured. Results: bench/results/checkout.json and .md.
"""

from __future__ import annotations

import argparse
import dataclasses
import http.client
import json
import math
import os
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit

import redis

from bench import harness
from bench.harness import ROOT

NAME = "checkout"
DATABASE_URL = "mysql://root@127.0.0.1:3306/bench_checkout"
REDIS_URL = "redis://127.0.0.1:6379/11"
CARD = {"cardholder": "Bench Shopper", "number": "4242 4242 4242 4242", "expiry": "12/34", "cvc": "123"}
CREATE_BODY = {
    "amount": 3300,
    "currency": "EUR",
    "billing": {"first_name": "Ada", "last_name": "Lovelace", "email": "ada@example.org", "language": "fr"},
    "hosted_payment": {"return_url": "https://shop.example.org/ok", "cancel_url": "https://shop.example.org/ko"},
    "description": "Benchmark order",
}
TOKEN = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
OUTCOME = re.compile(r'data-outcome="([a-z]+)"')


def log(message: str) -> None:
    print(f"[bench checkout {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


# --- one shopper ---------------------------------------------------------------------------------


class Http:
    """Plain http.client from a chosen loopback source address; one connection per request."""

    def __init__(self, base_url: str, source_ip: str = "127.0.0.1"):
        parts = urlsplit(base_url)
        self.host, self.port = parts.hostname, parts.port
        self.source_ip = source_ip

    def request(self, method, path, body=None, headers=None) -> tuple[int, dict, bytes]:
        conn = http.client.HTTPConnection(self.host, self.port, timeout=60, source_address=(self.source_ip, 0))
        try:
            conn.request(method, path, body=body, headers=headers or {})
            response = conn.getresponse()
            return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
        finally:
            conn.close()


def create_payment(base_url: str, secret_key: str) -> str:
    status, _headers, body = Http(base_url).request(
        "POST",
        "/v1/payments",
        json.dumps(CREATE_BODY),
        {"Authorization": f"Bearer {secret_key}", "Content-Type": "application/json"},
    )
    if status != 201:
        raise RuntimeError(f"create answered {status}: {body[:300]!r}")
    return urlsplit(json.loads(body)["hosted_payment"]["payment_url"]).path


def pay_once(base_url: str, path: str, source_ip: str) -> dict:
    """Load the form (not timed), then time submission -> final outcome page."""
    client = Http(base_url, source_ip)
    status, _headers, page = client.request("GET", path)
    if status != 200:
        raise RuntimeError(f"hosted page answered {status}")
    token = TOKEN.search(page.decode()).group(1)
    form = "&".join(f"{key}={value.replace(' ', '+')}" for key, value in {**CARD, "csrfmiddlewaretoken": token}.items())
    started = time.perf_counter()
    status, headers, _ = client.request(
        "POST", path, form, {"Content-Type": "application/x-www-form-urlencoded", "Origin": base_url}
    )
    posted = time.perf_counter()
    if status != 303:
        raise RuntimeError(f"card POST answered {status}")
    location = urlsplit(headers["location"]).path
    status, _headers, result = client.request("GET", location)
    finished = time.perf_counter()
    match = OUTCOME.search(result.decode())
    return {
        "total_s": finished - started,
        "post_s": posted - started,
        "result_s": finished - posted,
        "status": status,
        "outcome": match.group(1) if match else f"http-{status}",
    }


# --- figures -------------------------------------------------------------------------------------------


def percentile(sorted_values: list[float], fraction: float) -> float | None:
    if not sorted_values:
        return None
    rank = max(1, math.ceil(fraction * len(sorted_values)))
    return sorted_values[min(rank, len(sorted_values)) - 1]


def summarize(samples: list[dict], wall_s: float) -> dict:
    def ms(key):
        values = sorted(sample[key] * 1000 for sample in samples)
        return {
            "p50": round(percentile(values, 0.50), 1),
            "p90": round(percentile(values, 0.90), 1),
            "p99": round(percentile(values, 0.99), 1),
            "max": round(values[-1], 1),
            "mean": round(statistics.fmean(values), 1),
        }

    outcomes: dict[str, int] = {}
    for sample in samples:
        outcomes[sample["outcome"]] = outcomes.get(sample["outcome"], 0) + 1
    return {
        "payments": len(samples),
        "outcomes": outcomes,
        "submission_to_outcome_ms": ms("total_s"),
        "card_post_ms": ms("post_s"),
        "result_page_ms": ms("result_s"),
        "wall_s": round(wall_s, 2),
        "payments_per_s": round(len(samples) / wall_s, 2) if wall_s else None,
    }


def run_phase(base_url: str, secret_key: str, shoppers: int, per_shopper: int, first_ip: int) -> dict:
    """`shoppers` concurrent shoppers, each paying `per_shopper` payments one after the other."""
    paths = [[create_payment(base_url, secret_key) for _ in range(per_shopper)] for _ in range(shoppers)]
    samples: list[dict] = []
    errors: list[str] = []
    lock = threading.Lock()

    def shopper(number: int):
        for index, path in enumerate(paths[number]):
            serial = first_ip + number * per_shopper + index
            source = f"127.0.{1 + serial // 250}.{2 + serial % 250}"
            try:
                sample = pay_once(base_url, path, source)
            except Exception as exc:  # a benchmark records failures instead of stopping
                with lock:
                    errors.append(repr(exc)[:300])
                continue
            with lock:
                samples.append(sample)

    threads = [threading.Thread(target=shopper, args=(n,)) for n in range(shoppers)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    figures = summarize(samples, time.perf_counter() - started) if samples else {"payments": 0}
    figures["shoppers"] = shoppers
    figures["errors"] = errors[:20]
    figures["error_count"] = len(errors)
    return figures


# --- the environment ---------------------------------------------------------------------------------


def _flush_redis_db() -> None:
    redis.Redis.from_url(REDIS_URL).flushdb()  # database 11 only


def _start_worker(ctx, env: dict, concurrency: int):
    log_path = ctx.tmp / "celery-worker.log"
    command = [
        str(Path(sys.executable).with_name("celery")),
        "-A",
        "payplug",
        "worker",
        "-l",
        "info",
        "--concurrency",
        str(concurrency),
        "--without-gossip",
        "--without-mingle",
        "--without-heartbeat",
        "--hostname",
        "bench-checkout@%h",
    ]
    handle = open(log_path, "w")  # noqa: SIM115  closed when the worker stops (process exit)
    proc = ctx.processes.start(command, cwd=ROOT, env=env, stdout=handle, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the Celery worker exited:\n{log_path.read_text()[-3000:]}")
        if " ready." in log_path.read_text():
            log(f"celery worker ready ({concurrency} processes, broker {REDIS_URL})")
            return proc
        time.sleep(0.3)
    raise RuntimeError(f"the Celery worker did not start:\n{log_path.read_text()[-3000:]}")


def run(ctx, payments: int = 200, shoppers: int = 4, per_shopper: int = 50, worker_concurrency: int = 2) -> dict:
    """Card submission to final outcome page, p50/p99: gunicorn + Celery worker (Redis db 11), MySQL bench_checkout."""
    if ctx.options.quick:
        payments, per_shopper = 20, 5
    options = dataclasses.replace(ctx.options, database_url=DATABASE_URL)
    env = dict(ctx.env)
    env.update(
        {
            "DATABASE_URL": DATABASE_URL,
            "REDIS_URL": REDIS_URL,
            "CELERY_BROKER_URL": REDIS_URL,
            "CACHE_KEY_PREFIX": "bench-checkout",
            "EMAIL_URL": "dummymail://",  # receipts are rendered and "sent" nowhere
        }
    )
    bench = harness.Context(options=options, processes=ctx.processes, tmp=ctx.tmp, env=env)
    load_before = [round(value, 2) for value in os.getloadavg()]
    bench.database()
    # DEBUG off serves static files from the manifest, as in production (the Docker image does the same).
    bench.manage("collectstatic", "--noinput", "-v", "0", timeout=240)
    _flush_redis_db()
    seeded = json.loads(bench.manage("seed_demo", "--json", "--name", "checkout bench").strip().splitlines()[-1])
    worker = _start_worker(bench, env, worker_concurrency)
    try:
        with bench.gunicorn() as server:
            base = server.url
            log("warm-up: 5 payments")
            run_phase(base, seeded["secret_key"], 1, 5, first_ip=0)
            log(f"sequential: {payments} payments, one shopper")
            sequential = run_phase(base, seeded["secret_key"], 1, payments, first_ip=10)
            log(f"concurrent: {shoppers} shoppers x {per_shopper} payments")
            concurrent = run_phase(base, seeded["secret_key"], shoppers, per_shopper, first_ip=10 + payments)
            gunicorn_command = [part for part in server.command if not part.startswith("fd://")]
    finally:
        ctx.processes.stop(worker, grace=10)
    result = {
        "benchmark": NAME,
        # Other processes share the machine's 2 cores: the load averages say how quiet it was.
        "machine": harness.machine_info(bench)
        | {"load_average_before_run": load_before, "load_average_after_run": [round(v, 2) for v in os.getloadavg()]},
        "parameters": {
            "measured": "card form POST (sandbox card 4242..., no JavaScript) -> 303 -> result page with the final "
            "outcome (waits up to 3 s for the fraud decision); payment creation and form load not counted",
            "database": DATABASE_URL,
            "broker_and_cache": REDIS_URL,
            "celery_worker": {"concurrency": worker_concurrency, "pool": "prefork"},
            "gunicorn": {"command": gunicorn_command, "workers": options.workers},
            "sequential_payments": payments,
            "concurrent": {"shoppers": shoppers, "payments_each": per_shopper},
            "quick": ctx.options.quick,
        },
        "results": {"sequential": sequential, "concurrent": concurrent},
        "summary": {
            "p50_ms": sequential.get("submission_to_outcome_ms", {}).get("p50"),
            "p99_ms": sequential.get("submission_to_outcome_ms", {}).get("p99"),
            f"p50_ms_{shoppers}_shoppers": concurrent.get("submission_to_outcome_ms", {}).get("p50"),
            f"p99_ms_{shoppers}_shoppers": concurrent.get("submission_to_outcome_ms", {}).get("p99"),
            "outcomes": {"sequential": sequential.get("outcomes"), "concurrent": concurrent.get("outcomes")},
        },
    }
    ctx.write_results(NAME, result, markdown=_markdown(result))
    return result


def _markdown(result: dict) -> str:
    lines = [
        "# Checkout: card submission to final outcome page",
        "",
        result["parameters"]["measured"] + ".",
        "",
        "| run | payments | outcomes | p50 ms | p90 ms | p99 ms | max ms | card POST p50 ms | result page p50 ms |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for label, figures in result["results"].items():
        total = figures.get("submission_to_outcome_ms", {})
        lines.append(
            f"| {label} ({figures.get('shoppers')} shopper(s)) | {figures.get('payments')} | {figures.get('outcomes')} "
            f"| {total.get('p50')} | {total.get('p90')} | {total.get('p99')} | {total.get('max')} "
            f"| {figures.get('card_post_ms', {}).get('p50')} | {figures.get('result_page_ms', {}).get('p50')} |"
        )
    lines += ["", f"Machine: {result['machine'].get('cpu')}, {result['machine'].get('cores')} cores.", ""]
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--payments", type=int, default=200, help="sequential payments (one shopper)")
    parser.add_argument("--shoppers", type=int, default=4, help="concurrent shoppers")
    parser.add_argument("--per-shopper", type=int, default=50, help="payments per concurrent shopper")
    parser.add_argument("--worker-concurrency", type=int, default=2)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    options = harness.Options(names=[NAME], quick=args.quick, database_url=DATABASE_URL)
    processes = harness.Processes()
    try:
        with tempfile.TemporaryDirectory(prefix="bench-checkout-") as tmp:
            ctx = harness.Context.create(options, processes, Path(tmp))
            result = run(
                ctx,
                payments=args.payments,
                shoppers=args.shoppers,
                per_shopper=args.per_shopper,
                worker_concurrency=args.worker_concurrency,
            )
    finally:
        processes.stop_all()
    print(json.dumps(result["summary"], indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
