"""Notifications benchmark: what one Celery worker delivers, and how fast an IPN follows a commit.

    .venv/bin/python -m bench.benchmarks.notifications              # full run, ~1 minute
    .venv/bin/python -m bench.benchmarks.notifications --quick      # smoke run (figures not comparable)

Two measurements, against a loopback HTTP receiver that answers 200 at once:

1. throughput: N events (each with an IPN URL) are committed while no worker runs, so their
   dispatch tasks wait in the broker; then one worker (`celery -A payplug worker`, prefork,
   --concurrency) starts, and the rate is (N - 1) / (last IPN received - first IPN received).
   Each IPN is a full path: dispatch task, Delivery row, deliver task with its claim, signed
   POST, attempt recorded.
2. latency: with the worker running, a publisher commits `payment.paid` events at --rate per
   second for --seconds, each in its own transaction through notifications.services.outbox.publish,
   exactly as payments.services does when a capture commits; the latency of each is from the
   commit (an on_commit hook takes the time) to the receiver getting the IPN. Target (issue 5):
   p99 under 1 s at 50 payments per second.

Self-contained: a temporary SQLite database (or --database-url), its own redis-server on a spare
loopback port (or --redis-url), every process in its own session and stopped on exit. Results go
to bench/results/notifications.json. `bench/run.py` can call run(ctx).
"""

from __future__ import annotations

import argparse
import base64
import datetime as dt
import json
import os
import platform
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import django
from django.db import transaction

from bench.harness import RESULTS, ROOT, Processes, redis_answers
from payplug.ids import new_id

NAME = "notifications"
TARGET_P99_MS = 1000


def log(message: str) -> None:
    print(f"[notifications bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


# --- the receiver -------------------------------------------------------------------------------


class Receiver:
    """Loopback HTTP server: answers 200 at once, remembers when each IPN (by object id) arrived."""

    def __init__(self):
        self.arrivals: dict[str, float] = {}
        self.count = 0
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.0"

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                now = time.time()
                self.send_response(200)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"{}")
                try:
                    object_id = json.loads(body)["id"]
                except (ValueError, KeyError):
                    return
                with receiver.lock:
                    receiver.count += 1
                    receiver.arrivals.setdefault(object_id, now)

            def log_message(self, format, *args):
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.server.request_queue_size = 128
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/ipn"

    def wait_for(self, object_ids: set[str], timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                if object_ids <= self.arrivals.keys():
                    return True
            time.sleep(0.05)
        return False

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


# --- processes ----------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _environment(tmp: Path, database_url: str | None, redis_url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "BENCH_")) and "proxy" not in k.lower()}
    env.update(
        ENV_FILE="/nonexistent",
        DJANGO_SETTINGS_MODULE="payplug.settings",
        DEBUG="0",
        SECRET_KEY=secrets.token_urlsafe(48),
        CARD_KEYS="1:" + base64.b64encode(os.urandom(32)).decode(),
        DATABASE_URL=database_url or f"sqlite:///{tmp / 'bench.sqlite3'}",
        REDIS_URL=redis_url,
        CELERY_BROKER_URL=redis_url,
        CACHE_KEY_PREFIX="notifications-bench",
        NOTIFICATIONS_ALLOW_PRIVATE_NETWORKS="1",  # the receiver is on loopback (test mode)
        LOG_LEVEL="WARNING",
        PYTHONPATH=str(ROOT),
    )
    return env


def _session_cpu_seconds(session_id: int) -> float:
    """CPU time (user + system) of every live process of a session: the worker and its pool."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as handle:
                fields = handle.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[3]) == session_id:  # field 6 of stat(5): the session
            total += (int(fields[11]) + int(fields[12])) / ticks
    return total


def _percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(fraction * (len(ordered) - 1))))
    return ordered[index]


# --- the publisher (a child process) --------------------------------------------------------------


def publisher(count: int, rate: float, ipn_url: str) -> None:
    """Child process: commit `count` events, `rate` per second (0: as fast as possible); print
    one JSON line per event with its commit time."""
    django.setup()
    from merchants.models import Merchant, User  # noqa: PLC0415  it imports models: only after django.setup()
    from merchants.services import organisations  # noqa: PLC0415  it imports models: only after django.setup()
    from notifications.services.outbox import publish  # noqa: PLC0415  it imports models: only after django.setup()

    merchant = Merchant.objects.filter(name="Bench Shop").first()
    if merchant is None:
        owner = User.objects.create_user(email=f"bench-{secrets.token_hex(4)}@example.org", password=None)
        merchant = organisations.create_merchant(owner, "Bench Shop")
    start = time.monotonic()
    for index in range(count):
        if rate:
            pause = start + index / rate - time.monotonic()
            if pause > 0:
                time.sleep(pause)
        object_id = new_id("pay")
        committed: list[float] = []
        with transaction.atomic():
            # Registered first, so it runs first: the time right after the commit, before the
            # dispatch task is queued by publish's own hook.
            transaction.on_commit(lambda stamps=committed: stamps.append(time.time()))
            publish(
                merchant=merchant,
                is_live=False,
                type="payment.paid",
                object_type="payment",
                object_id=object_id,
                payload={"id": object_id, "object": "payment", "is_live": False, "amount": 3300, "is_paid": True},
                ipn_url=ipn_url,
            )
        print(json.dumps({"id": object_id, "committed": committed[0]}), flush=True)


# --- the benchmark --------------------------------------------------------------------------------


def measure(
    tmp: Path,
    *,
    events: int,
    rate: float,
    seconds: float,
    concurrency: int,
    database_url: str | None = None,
    redis_url: str | None = None,
) -> dict:
    load_at_start = os.getloadavg()[0]
    processes = Processes()
    receiver = Receiver()
    try:
        if redis_url is None:
            if shutil.which("redis-server") is None:
                raise SystemExit("redis-server is needed (apt-get install redis-server), or pass --redis-url")
            port = _free_port()
            processes.start(
                ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
                cwd=tmp,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            deadline = time.monotonic() + 10
            while not redis_answers("127.0.0.1", port, timeout=0.5) and time.monotonic() < deadline:
                time.sleep(0.05)
            redis_url = f"redis://127.0.0.1:{port}/0"
        env = _environment(tmp, database_url, redis_url)
        log("migrating the benchmark database")
        subprocess.run(
            [sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"], cwd=ROOT, env=env, check=True, timeout=300
        )

        def publish(count: int, publish_rate: float) -> list[dict]:
            command = [sys.executable, "-m", __spec__.name, "--publisher", str(count), str(publish_rate), receiver.url]
            process = processes.start(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, text=True)
            out, _ = process.communicate(timeout=count / (publish_rate or 200) + 120)
            if process.returncode:
                raise SystemExit(f"the publisher failed ({process.returncode})")
            return [json.loads(line) for line in out.splitlines() if line.startswith("{")]

        worker_log = open(tmp / "worker.log", "ab")  # noqa: SIM115  closed at exit with the process

        def start_worker() -> subprocess.Popen:
            command = [sys.executable, "-m", "celery", "-A", "payplug", "worker", "--loglevel", "warning"]
            command += ["--concurrency", str(concurrency), "--without-gossip", "--without-mingle"]
            command += ["--without-heartbeat", "--hostname", f"bench-{secrets.token_hex(3)}@notifications"]
            return processes.start(command, cwd=ROOT, env=env, stdout=worker_log, stderr=subprocess.STDOUT)

        # 1. throughput: a backlog, then one worker drains it
        log(f"throughput: committing {events} events while no worker runs")
        backlog = publish(events, 0)
        wanted = {item["id"] for item in backlog}
        log(f"throughput: starting one worker (prefork, concurrency {concurrency})")
        worker_started = time.time()
        worker = start_worker()
        load_before = os.getloadavg()[0]
        complete = receiver.wait_for(wanted, timeout=max(120.0, events / 5))
        drain_cpu = _session_cpu_seconds(worker.pid)  # includes the worker's start-up
        with receiver.lock:
            times = sorted(receiver.arrivals[object_id] for object_id in wanted if object_id in receiver.arrivals)
        span = (times[-1] - times[0]) if len(times) > 1 else 0.0
        throughput = {
            "events": events,
            "delivered": len(times),
            "complete": complete,
            "first_after_worker_start_s": round(times[0] - worker_started, 3) if times else None,
            "drain_seconds": round(span, 3),
            "deliveries_per_second": round((len(times) - 1) / span, 1) if span else None,
            "worker_cpu_seconds_with_startup": round(drain_cpu, 2),
            "load_average_at_start": round(load_before, 2),
        }
        log(f"throughput: {throughput['deliveries_per_second']} deliveries/s")

        # 2. latency at a steady rate, the worker warm
        count = int(rate * seconds)
        log(f"latency: {count} commits at {rate}/s")
        cpu_before = _session_cpu_seconds(worker.pid)
        committed = publish(count, rate)
        wanted = {item["id"] for item in committed}
        receiver.wait_for(wanted, timeout=60)
        cpu_per_event_ms = (_session_cpu_seconds(worker.pid) - cpu_before) / max(1, count) * 1000
        with receiver.lock:
            latencies = [
                (receiver.arrivals[item["id"]] - item["committed"]) * 1000
                for item in committed
                if item["id"] in receiver.arrivals
            ]
        latency = {
            "rate_per_second": rate,
            "seconds": seconds,
            "payments": count,
            "received": len(latencies),
            "p50_ms": round(_percentile(latencies, 0.50), 1) if latencies else None,
            "p90_ms": round(_percentile(latencies, 0.90), 1) if latencies else None,
            "p99_ms": round(_percentile(latencies, 0.99), 1) if latencies else None,
            "max_ms": round(max(latencies), 1) if latencies else None,
            "target_p99_ms": TARGET_P99_MS,
            # Load-independent: what one event costs the worker (dispatch + IPN delivery).
            "worker_cpu_ms_per_event": round(cpu_per_event_ms, 2),
            "load_average_at_end": round(os.getloadavg()[0], 2),
        }
        latency["target_met"] = bool(latencies) and len(latencies) == count and latency["p99_ms"] < TARGET_P99_MS
        log(f"latency: p50 {latency['p50_ms']} ms, p99 {latency['p99_ms']} ms")
        return {
            "benchmark": NAME,
            "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform()},
            "setup": {
                "database": env["DATABASE_URL"].split(":", 1)[0],
                "broker": "redis (own server)" if "--redis-url" not in sys.argv else "redis",
                "worker": f"1 worker, prefork, concurrency {concurrency}",
                "receiver": "loopback HTTP/1.0 server answering 200 at once",
                "deliveries": "IPN only (one delivery per event)",
            },
            "throughput": throughput,
            "latency": latency,
            # Others kept the CPUs busy before we started: the figures are not comparable.
            "load_average_before": round(load_at_start, 2),
            "disturbed": load_at_start > 0.5 * (os.cpu_count() or 1),
        }
    finally:
        processes.stop_all(grace=10)
        receiver.stop()


def run(ctx) -> dict:
    """Entry point for bench/run.py: its temporary directory and quick mode; our own database
    file and Redis server, so nothing of the API benchmark's is touched."""
    quick = getattr(getattr(ctx, "options", None), "quick", False)
    result = measure(
        Path(ctx.tmp),
        events=200 if quick else 1000,
        rate=50,
        seconds=4 if quick else 20,
        concurrency=os.cpu_count() or 2,
    )
    ctx.write_results(NAME, result)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=1000, help="backlog size of the throughput run")
    parser.add_argument("--rate", type=float, default=50.0, help="commits per second of the latency run")
    parser.add_argument("--seconds", type=float, default=20.0, help="duration of the latency run")
    parser.add_argument("--concurrency", type=int, default=os.cpu_count() or 2, help="pool processes of the worker")
    parser.add_argument("--database-url", help="default: a temporary SQLite file")
    parser.add_argument("--redis-url", help="default: a redis-server of our own on a spare port")
    parser.add_argument("--quick", action="store_true", help="200 events, 4 s of latency")
    parser.add_argument("--output", default=str(RESULTS / f"{NAME}.json"))
    parser.add_argument("--publisher", nargs=3, metavar=("COUNT", "RATE", "URL"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.publisher:
        publisher(int(args.publisher[0]), float(args.publisher[1]), args.publisher[2])
        return
    if args.quick:
        args.events, args.seconds = 200, 4.0
    with tempfile.TemporaryDirectory(prefix="notifications-bench-") as tmp:
        result = measure(
            Path(tmp),
            events=args.events,
            rate=args.rate,
            seconds=args.seconds,
            concurrency=args.concurrency,
            database_url=args.database_url,
            redis_url=args.redis_url,
        )
    output = Path(args.output)
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(result, indent=2) + "\n")
    log(f"results: {output}")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
