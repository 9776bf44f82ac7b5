"""The API benchmark: POST /v1/payments, GET /v1/payments/{id} and the framework floor
(bench/floor.py), through gunicorn on MySQL, driven by bench/loadgen.py in another process.

What it measures and how: bench/README.md. `bench/run.py --serve` starts only its server and
data (serve() below), for profiling by hand.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from bench import loadgen
from bench.floor import TABLE_DDL
from bench.harness import (
    BENCH,
    OTHER_LOAD_WARNING_CORES,
    ROOT,
    BenchError,
    Context,
    CpuMeter,
    Server,
    log,
    machine_info,
)

NAME = "api"
# Seconds before the benchmark is stopped (its processes killed), for about 190 s of work.
TIME_LIMIT = 290.0

# A typical PayPlug v1 create-payment request (the official SDK's README example, fuller).
CREATE_BODY = {
    "amount": 3300,
    "currency": "EUR",
    "billing": {
        "title": "mr",
        "first_name": "John",
        "last_name": "Watson",
        "email": "john.watson@example.net",
        "address1": "221B Baker Street",
        "postcode": "75008",
        "city": "Paris",
        "country": "FR",
        "language": "fr",
    },
    "shipping": {
        "title": "mr",
        "first_name": "John",
        "last_name": "Watson",
        "email": "john.watson@example.net",
        "address1": "221B Baker Street",
        "postcode": "75008",
        "city": "Paris",
        "country": "FR",
        "language": "fr",
        "delivery_type": "BILLING",
    },
    "hosted_payment": {
        "return_url": "https://shop.example.net/success?id=42",
        "cancel_url": "https://shop.example.net/cancel?id=42",
    },
    "notification_url": "https://shop.example.net/notifications?id=42",
    "metadata": {"customer_id": 42, "order": "A-0042"},
    "description": "Order A-0042",
}

# Payments already in the database before the run: `seed_payments` of them for the benchmark's
# merchant (70 % paid, 30 % awaiting payment), a random 2,000 of which the retrieve run reads.
SEED_SCRIPT = r"""
import random
from datetime import timedelta
from django.utils import timezone
from merchants.models import Merchant
from payments.models import Payment
from payplug.ids import random_base62

merchant_id, count, paths_file = {arguments!r}
merchant = Merchant.objects.get(public_id=merchant_id)
rng = random.Random(42)
now = timezone.now()
billing = {"first_name": "Ada", "last_name": "Lovelace", "email": "ada@example.org", "address1": "1 rue de la Paix",
           "postcode": "75002", "city": "Paris", "country": "FR", "language": "fr"}
batch = []
for index in range(count):
    created = now - timedelta(seconds=30 * (count - index))
    paid = rng.random() < 0.7
    batch.append(Payment(
        merchant=merchant, is_live=False, amount=rng.randint(99, 50000), created_at=created,
        expires_at=created + timedelta(hours=24), billing=billing, hosted_token=random_base62(32),
        return_url="https://shop.example.org/ok", notification_url="https://shop.example.org/ipn",
        metadata={"order": index}, status="paid" if paid else "created",
        paid_at=created + timedelta(minutes=1) if paid else None,
        hosted_paid_at=created + timedelta(minutes=1) if paid else None,
        card_last4="4242" if paid else None, card_brand="Visa" if paid else None,
        card_country="FR" if paid else None, card_exp_month=12 if paid else None, card_exp_year=2030 if paid else None,
    ))
    if len(batch) == 2000:
        Payment.objects.bulk_create(batch)
        batch = []
Payment.objects.bulk_create(batch)
ids = list(Payment.objects.filter(merchant=merchant).values_list("public_id", flat=True))
with open(paths_file, "w") as handle:
    handle.write("\n".join("/v1/payments/" + public_id for public_id in rng.sample(ids, min(2000, len(ids)))))
"""


def _check_once(url: str, method: str, headers: dict, body: bytes | None, expect: int, log_path: Path) -> None:
    request = urllib.request.Request(url, data=body, method=method, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            status, text = answer.status, answer.read()
    except urllib.error.HTTPError as exc:
        status, text = exc.code, exc.read()
    if status != expect:
        server_log = log_path.read_text(errors="replace")[-3000:] if log_path.exists() else ""
        raise BenchError(f"{method} {url} answered {status}, expected {expect}: {text[:500]!r}\n{server_log}")


def merge_runs(runs: list[dict]) -> dict:
    """One result from several runs of the same load (the rounds): sums, and percentiles of all samples."""
    first = runs[0]
    samples = [value for run in runs for value in run["_samples"]]
    duration = sum(run["duration_s"] for run in runs)
    ok = sum(run["ok"] for run in runs)
    requests = sum(run["requests"] for run in runs)
    errors: dict[str, int] = {}
    statuses: dict[str, int] = {}
    for run in runs:
        for table, counts in ((errors, run["errors"]), (statuses, run["statuses"])):
            for name, count in counts.items():
                table[name] = table.get(name, 0) + count
    raw = {name: sum(run["_cpu_raw"][name] for run in runs) for name in first["_cpu_raw"]}
    generator_cpu = sum(run["generator"]["cpu_s"] for run in runs)
    return {
        "mode": first["mode"],
        "method": first["method"],
        "path": first["path"],
        "connections": first["connections"],
        "target_rate_rps": first["target_rate_rps"],
        "duration_s": duration,
        "rounds": [
            {
                "throughput_rps": run["throughput_rps"],
                "p50_ms": run["latency_ms"].get("p50"),
                "p99_ms": run["latency_ms"].get("p99"),
                "other_cpu_cores": run["cpu"]["other_cpu_cores"],
            }
            for run in runs
        ],
        "requests": requests,
        "ok": ok,
        "errors": errors,
        "statuses": statuses,
        "throughput_rps": round(ok / duration, 1),
        "latency_ms": loadgen.summarize_ms(samples),
        "tcp_connects": sum(run["tcp_connects"] for run in runs),
        "generator": {
            "cpu_s": round(generator_cpu, 3),
            "cpu_percent_of_one_core": round(100 * generator_cpu / raw["wall"], 1),
            "cpu_us_per_request": round(1e6 * generator_cpu / max(requests, 1), 1),
            "late_starts": sum(run["generator"]["late_starts"] or 0 for run in runs)
            if first["target_rate_rps"]
            else None,
        },
        "cpu": CpuMeter.figures(raw, requests, generator_cpu),
    }


def measure_endpoints(ctx: Context, server: Server, targets: dict[str, list[str]]) -> dict:
    """Warm every endpoint up, then measure them in interleaved rounds.

    Round r runs every endpoint for 1/rounds of the time, closed loop first, then open loop: a
    change in the machine's other load during the run (another process) falls on every endpoint
    alike instead of on whichever was measured at that moment, which keeps their ratio honest.
    """
    options = ctx.options
    closed_args = ["--connections", str(options.connections)]
    for label, args in targets.items():
        log(f"{label}: warm-up {options.warmup:g} s")
        ctx.loadgen(server, server.url, [*args, *closed_args], options.warmup)
    runs: dict[str, dict[str, list]] = {label: {"closed_loop": [], "open_loop": []} for label in targets}
    rounds = options.rounds
    for number in range(1, rounds + 1):
        for label, args in targets.items():
            log(
                f"round {number}/{rounds} {label}: closed loop, {options.connections} connections, "
                f"{options.duration / rounds:g} s"
            )
            runs[label]["closed_loop"].append(
                ctx.loadgen(server, server.url, [*args, *closed_args], options.duration / rounds)
            )
        time.sleep(1)
        for label, args in targets.items():
            log(
                f"round {number}/{rounds} {label}: open loop, {options.rate:g} requests/s, "
                f"{options.rate_duration / rounds:g} s"
            )
            runs[label]["open_loop"].append(
                ctx.loadgen(server, server.url, [*args, "--rate", str(options.rate)], options.rate_duration / rounds)
            )
    figures = {}
    for label in targets:
        closed, opened = merge_runs(runs[label]["closed_loop"]), merge_runs(runs[label]["open_loop"])
        for run in (closed, opened):
            if run["errors"]:
                log(f"{label}: errors {run['errors']} in the {run['mode']} loop")
        log(
            f"{label}: {closed['throughput_rps']} requests/s max; at {options.rate:g}/s "
            f"p50 {opened['latency_ms'].get('p50')} ms, p99 {opened['latency_ms'].get('p99')} ms"
        )
        figures[label] = {"closed_loop": closed, "open_loop": opened}
    return figures


def _ceiling(ctx: Context, body_file: Path, headers: list[str]) -> dict:
    """The load generator against a trivial server: the most it can drive on this machine.

    Measured with kept-alive connections and with one connection per request (what gunicorn's
    sync workers impose); the server's CPU is accounted apart, the generator's is in its figures.
    """
    ceiling = {}
    for mode in ("keep_alive", "connection_close"):
        proc = ctx.processes.start(
            [sys.executable, str(BENCH / "loadgen.py"), "serve", "--lifetime", "120"]
            + (["--close"] if mode == "connection_close" else []),
            cwd=ROOT,
            stdout=subprocess.PIPE,
            text=True,
        )
        try:
            port = int(proc.stdout.readline())
            url = f"http://127.0.0.1:{port}"
            seconds = 2.0 if ctx.options.quick else 4.0
            args = ["--method", "POST", "--path", "/", "--body-file", str(body_file), *headers]
            result = ctx.loadgen(None, url, [*args, "--connections", str(ctx.options.connections)], seconds)
        finally:
            ctx.processes.stop(proc)
        result.pop("_samples")
        result.pop("_cpu_raw")
        ceiling[mode] = result
        log(f"load generator ceiling ({mode.replace('_', '-')}): {result['throughput_rps']} requests/s")
    return ceiling


@dataclass
class ApiData:
    key: str  # the merchant's secret test key
    paths_file: Path  # /v1/payments/{id} of 2,000 random seeded payments, one a line
    body_file: Path  # the create-payment request body
    empty_file: Path  # the floor's request body


def _prepare_api(ctx: Context) -> ApiData:
    """A fresh database with the floor's table, the merchant, its seeded payments, the request bodies."""
    ctx.database()
    ctx.sql(ctx.database_name, TABLE_DDL)
    seeded = json.loads(ctx.manage("seed_demo", "--json", "--name", "bench").strip().splitlines()[-1])
    paths_file = ctx.tmp / "retrieve-paths.txt"
    log(f"seeding {ctx.options.seed_payments} payments")
    # `manage.py shell -c` takes no arguments for the script: they are written into it.
    arguments = (seeded["merchant_id"], ctx.options.seed_payments, str(paths_file))
    ctx.manage("shell", "-c", SEED_SCRIPT.replace("{arguments!r}", repr(arguments)), timeout=180)
    body_file = ctx.tmp / "create.json"
    body_file.write_bytes(json.dumps(CREATE_BODY).encode())
    empty_file = ctx.tmp / "floor.json"
    empty_file.write_bytes(b"{}")
    return ApiData(key=seeded["secret_key"], paths_file=paths_file, body_file=body_file, empty_file=empty_file)


def run(ctx: Context) -> dict:
    """POST /v1/payments, GET /v1/payments/{id} and the framework floor, through gunicorn on MySQL."""
    options = ctx.options
    started = time.monotonic()
    data = _prepare_api(ctx)
    key, paths_file, body_file, empty_file = data.key, data.paths_file, data.body_file, data.empty_file
    body = body_file.read_bytes()
    auth = ["--header", f"Authorization: Bearer {key}"]

    background = CpuMeter(None).background()
    waited_until = time.monotonic() + options.wait_quiet
    while background > OTHER_LOAD_WARNING_CORES and time.monotonic() < waited_until:
        log(f"waiting for a quiet machine ({background} cores busy)")
        background = CpuMeter(None).background(5.0)
    if background > OTHER_LOAD_WARNING_CORES:
        log(f"warning: the machine is not idle ({background} cores busy before the run): figures will be disturbed")
    ceiling = _ceiling(ctx, body_file, auth)
    with ctx.gunicorn({"BENCH_FLOOR": "1"}) as server:
        headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
        _check_once(
            server.url + "/bench/floor", "POST", {"Content-Type": "application/json"}, b"{}", 201, server.log_path
        )
        _check_once(server.url + "/v1/payments", "POST", headers, body, 201, server.log_path)
        retrieve_path = paths_file.read_text().split("\n", 1)[0]
        _check_once(server.url + retrieve_path, "GET", headers, None, 200, server.log_path)
        targets = {
            "floor": ["--method", "POST", "--path", "/bench/floor", "--body-file", str(empty_file), "--expect", "201"],
            "create": [
                "--method",
                "POST",
                "--path",
                "/v1/payments",
                "--body-file",
                str(body_file),
                "--expect",
                "201",
                *auth,
            ],
            "retrieve": ["--method", "GET", "--paths-file", str(paths_file), "--expect", "200", *auth],
        }
        figures = measure_endpoints(ctx, server, targets)
        gunicorn_command = [("127.0.0.1:<free port>" if part.startswith("fd://") else part) for part in server.command]
    rows_after = {}
    for table in ("payments_payment", "bench_floor"):
        rows_after[table] = ctx.sql(ctx.database_name, f"SELECT COUNT(*) FROM {table}")[0][0]

    create, floor = figures["create"], figures["floor"]
    ratio = create["closed_loop"]["throughput_rps"] / max(floor["closed_loop"]["throughput_rps"], 1e-9)
    p99 = {label: figures[label]["open_loop"]["latency_ms"].get("p99") for label in figures}

    def cpu_cost(figure):
        cpu = figure["closed_loop"]["cpu"]
        return cpu["server_cpu_ms_per_request"] + cpu["database_cpu_ms_per_request"]

    disturbed = [
        label
        for label in figures
        for run in figures[label].values()
        if run["cpu"]["other_cpu_cores"] > OTHER_LOAD_WARNING_CORES
    ]
    result = {
        "benchmark": "api",
        "machine": machine_info(ctx) | {"other_cpu_cores_before_run": background},
        "parameters": {
            "quick": options.quick,
            "rounds": options.rounds,
            "closed_loop": {
                "connections": options.connections,
                "duration_s": options.duration,
                "warmup_s": options.warmup,
            },
            "open_loop": {
                "rate_rps": options.rate,
                "duration_s": options.rate_duration,
                "latency_from": "scheduled start (no coordinated omission)",
            },
            "server": {
                "gunicorn_command": gunicorn_command,
                "workers": options.workers,
                "worker_class": options.worker_class,
                "threads": options.threads,
                "max_requests": options.max_requests,
                "nice": options.nice,
                "config": "docker/gunicorn.conf.py (production) with GUNICORN_MAX_REQUESTS="
                f"{options.max_requests}, access log to a file",
            },
            "environment": {
                "DEBUG": "0",
                "DATABASE_URL": options.database_url,
                "REDIS_URL": ctx.env.get("REDIS_URL"),
                "API_RATE_LIMIT_PER_SECOND": "1000000",
                "PROMETHEUS_MULTIPROC_DIR": "a temporary directory",
            },
            "data": {
                "seeded_payments": options.seed_payments,
                "retrieve_ids": "2000 random seeded payments",
                "rows_after": rows_after,
                "create_body_bytes": len(body),
            },
            "requests": {
                "create": {"method": "POST", "path": "/v1/payments", "body": CREATE_BODY},
                "retrieve": {"method": "GET", "path": "/v1/payments/{id}"},
                "floor": {
                    "method": "POST",
                    "path": "/bench/floor",
                    "view": "bench/floor.py: one INSERT through connection.cursor()",
                },
            },
        },
        "loadgen_ceiling": ceiling,
        "results": figures,
        "summary": {
            label: {
                "max_throughput_rps": figures[label]["closed_loop"]["throughput_rps"],
                "closed_loop_p50_ms": figures[label]["closed_loop"]["latency_ms"].get("p50"),
                "closed_loop_p99_ms": figures[label]["closed_loop"]["latency_ms"].get("p99"),
                f"p50_ms_at_{options.rate:g}rps": figures[label]["open_loop"]["latency_ms"].get("p50"),
                f"p99_ms_at_{options.rate:g}rps": figures[label]["open_loop"]["latency_ms"].get("p99"),
                "server_cpu_ms_per_request": figures[label]["closed_loop"]["cpu"]["server_cpu_ms_per_request"],
                "database_cpu_ms_per_request": figures[label]["closed_loop"]["cpu"]["database_cpu_ms_per_request"],
                "other_cpu_cores": figures[label]["closed_loop"]["cpu"]["other_cpu_cores"],
                "errors": sum(
                    figures[label][run]["errors"].get(k, 0)
                    for run in figures[label]
                    for k in figures[label][run]["errors"]
                ),
            }
            for label in figures
        }
        | {
            "create_over_floor_throughput": round(ratio, 3),
            # The same ratio from CPU cost per request (gunicorn + database): steadier when other
            # processes share the machine.
            "create_over_floor_by_cpu_cost": round(cpu_cost(floor) / max(cpu_cost(create), 1e-9), 3),
            "loadgen_ceiling_rps": {mode: ceiling[mode]["throughput_rps"] for mode in ceiling},
            "targets": {
                "create_throughput_at_least_half_of_floor": ratio >= 0.5,
                f"create_p99_under_50ms_at_{options.rate:g}rps": (p99["create"] or 1e9) < 50,
                f"retrieve_p99_under_50ms_at_{options.rate:g}rps": (p99["retrieve"] or 1e9) < 50,
            },
        },
        "disturbed_by_other_load": sorted(set(disturbed)),
        "elapsed_s": round(time.monotonic() - started, 1),
    }
    ctx.write_results("api", result, _api_markdown(result))
    return result


def _number(value, digits: int = 1) -> str:
    return "n/a" if value is None else f"{value:.{digits}f}"


def _api_markdown(result: dict) -> str:
    summary, params, machine = result["summary"], result["parameters"], result["machine"]
    rate = f"{params['open_loop']['rate_rps']:g}"
    server = params["server"]
    lines = [
        "# API benchmark",
        "",
        f"{machine['date']} · {machine['cores']} cores ({machine['cpu']}) · "
        f"Python {machine['versions']['python']}, Django {machine['versions']['django']}, "
        f"gunicorn {machine['versions']['gunicorn']} ({server['workers']} {server['worker_class']} workers"
        + (f" x {server['threads']} threads" if server["threads"] > 1 else "")
        + f") · MariaDB {machine['database_server'].get('version', '?')} · git {machine['git']}"
        + (" · **quick run, not comparable**" if params["quick"] else ""),
        "",
        f"| endpoint | max throughput (req/s) | p50 at {rate} req/s (ms) | p99 at {rate} req/s (ms) "
        "| gunicorn CPU / req (ms) | MariaDB CPU / req (ms) | errors |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    names = {
        "floor": "floor: minimal Django view, 1 INSERT",
        "create": "POST /v1/payments (create)",
        "retrieve": "GET /v1/payments/{id} (retrieve)",
    }
    for label in ("floor", "create", "retrieve"):
        row = summary[label]
        lines.append(
            f"| {names[label]} | {_number(row['max_throughput_rps'], 0)} | {_number(row[f'p50_ms_at_{rate}rps'])} "
            f"| {_number(row[f'p99_ms_at_{rate}rps'])} | {_number(row['server_cpu_ms_per_request'], 2)} "
            f"| {_number(row['database_cpu_ms_per_request'], 2)} | {row['errors']} |"
        )
    targets = summary["targets"]
    lines += [
        "",
        f"- **create / floor throughput: {summary['create_over_floor_throughput']:.2f}** (target ≥ 0.50: "
        f"{'met' if targets['create_throughput_at_least_half_of_floor'] else 'MISSED'}); "
        f"by CPU cost per request: {summary['create_over_floor_by_cpu_cost']:.2f}",
        f"- **create p99 at {rate} req/s: {_number(summary['create'][f'p99_ms_at_{rate}rps'])} ms** (target < 50 ms: "
        f"{'met' if targets[f'create_p99_under_50ms_at_{rate}rps'] else 'MISSED'})",
        f"- load generator ceiling on this machine (trivial server, same request, same connections): "
        f"{summary['loadgen_ceiling_rps']['keep_alive']:.0f} req/s with keep-alive, "
        f"{summary['loadgen_ceiling_rps']['connection_close']:.0f} req/s with a new connection per request; "
        "its own CPU during the closed loops: "
        + ", ".join(
            f"{label} {result['results'][label]['closed_loop']['cpu']['generator_cpu_cores']:.2f} core"
            for label in ("floor", "create", "retrieve")
        ),
    ]
    if result["disturbed_by_other_load"]:
        lines.append(
            f"- **disturbed**: other processes used CPU during {', '.join(result['disturbed_by_other_load'])} "
            "(see `other_cpu_cores` in api.json); compare the CPU-cost ratio"
        )
    lines += [
        "",
        f"Max throughput: closed loop, {params['closed_loop']['connections']} connections "
        + (
            "(a new one per request: sync workers close them), "
            if server["worker_class"] == "sync"
            else "(kept alive), "
        )
        + f"{params['closed_loop']['duration_s']:g} s per endpoint after {params['closed_loop']['warmup_s']:g} s of "
        f"warm-up. Latency: open loop at a fixed {rate} requests/s for {params['open_loop']['duration_s']:g} s per "
        f"endpoint, measured from each request's scheduled start. Both in {params['rounds']} interleaved "
        "round(s). Load generator: bench/loadgen.py in its own process. Data: "
        f"{params['data']['seeded_payments']} payments seeded before the run, retrieve reads 2,000 of them at "
        f"random; rows after the run: {params['data']['rows_after']}. gunicorn: {server['config']}. "
        "Full figures and parameters: `api.json`; method: `bench/README.md`.",
        "",
    ]
    return "\n".join(lines)


def serve(ctx: Context) -> int:
    """The API benchmark's server with its data, until Ctrl-C: for profiling by hand."""
    data = _prepare_api(ctx)
    with ctx.gunicorn({"BENCH_FLOOR": "1"}) as server:
        info = {"url": server.url, "gunicorn_pid": server.session, "secret_key": data.key}
        info |= {name: str(getattr(data, name)) for name in ("paths_file", "body_file", "empty_file")}
        print(json.dumps(info), flush=True)
        while True:
            time.sleep(3600)
