#!/usr/bin/env python3
"""`make bench`: the platform's benchmarks. Results go to bench/results/<name>.json and .md.

    bench/run.py                 # every benchmark
    bench/run.py api             # only these (names: see --list)
    bench/run.py api --quick     # short smoke run of the same steps (figures not comparable)
    bench/run.py --serve         # only start the benchmark server and wait (for profiling by hand)

Self-contained: it re-executes itself with the project's virtualenv (running `make install`
when there is none), creates its own MySQL database `bench` (DATABASE_URL, default
mysql://root@127.0.0.1:3306/bench; dropped and re-created on every run, no other database is
touched), starts gunicorn on a free loopback port and drives it with bench/loadgen.py in
another process. Every process it starts runs in its own session and is killed on exit, on
Ctrl-C, on failure, and when the benchmark's time limit runs out (api: 290 s; --time-limit).

Adding a benchmark: put `bench/<name>_bench.py` next to this file with a function
`run(ctx: Context) -> dict` (and optionally NAME = "<name>", TIME_LIMIT = seconds). `ctx` gives
the database, the gunicorn server, the load generator, the environment and the result writer;
see Context below and bench/README.md.
"""

from __future__ import annotations

import argparse
import array
import base64
import contextlib
import datetime as dt
import importlib.util
import json
import os
import platform
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import traceback
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
RESULTS = BENCH / "results"
VENV_PYTHON = ROOT / ".venv" / "bin" / "python"
DEFAULT_DATABASE_URL = "mysql://root@127.0.0.1:3306/bench"
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
# Figures taken while other processes used more than this many cores are flagged as disturbed.
OTHER_LOAD_WARNING_CORES = 0.15


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


class BenchError(Exception):
    pass


class TimeLimit(BaseException):
    """Raised by SIGALRM when a benchmark's time limit runs out (a BaseException: nothing swallows it)."""


# --- the virtualenv -----------------------------------------------------------------------------


def ensure_venv() -> None:
    """Run under the project's virtualenv: `python3 bench/run.py` works as well as `make bench`."""
    if Path(sys.prefix).resolve() == (ROOT / ".venv").resolve():
        return
    if not VENV_PYTHON.exists():
        log("no .venv yet: running `make install`")
        subprocess.run(["make", "install"], cwd=ROOT, check=True)
    os.execv(str(VENV_PYTHON), [str(VENV_PYTHON), str(Path(__file__).resolve()), *sys.argv[1:]])


# --- processes ------------------------------------------------------------------------------------


class Processes:
    """Every process the benchmark starts: each leads its own session, and all are killed at exit."""

    def __init__(self):
        self.running: list[subprocess.Popen] = []

    def start(self, cmd: list[str], **kwargs) -> subprocess.Popen:
        proc = subprocess.Popen(cmd, start_new_session=True, **kwargs)
        self.running.append(proc)
        return proc

    def stop(self, proc: subprocess.Popen, grace: float = 5.0) -> None:
        if proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(grace)
        # The session may hold children that outlived their leader (gunicorn workers).
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(2)
        if proc in self.running:
            self.running.remove(proc)

    def stop_all(self) -> None:
        for proc in list(reversed(self.running)):
            self.stop(proc, grace=3.0)


# --- CPU accounting from /proc (read only) ------------------------------------------------------


def _proc_cpu_seconds(pid: int) -> float:
    try:
        with open(f"/proc/{pid}/stat") as handle:
            fields = handle.read().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    # utime, stime, cutime, cstime: fields 14-17 of stat(5), here shifted by the two first fields
    return sum(int(value) for value in fields[11:15]) / CLOCK_TICKS


def _pids(predicate: Callable[[int, str, int], bool]) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as handle:
                text = handle.read()
        except OSError:
            continue
        comm = text[text.index("(") + 1 : text.rindex(")")]
        fields = text.rsplit(")", 1)[1].split()
        session = int(fields[3])
        if predicate(int(entry), comm, session):
            found.append(int(entry))
    return found


def _machine_busy() -> tuple[float, float]:
    with open("/proc/stat") as handle:
        values = [int(value) for value in handle.readline().split()[1:]]
    idle = values[3] + values[4]
    return (sum(values) - idle) / CLOCK_TICKS, sum(values) / CLOCK_TICKS


class CpuMeter:
    """CPU seconds of the server's processes, of the database server and of the whole machine."""

    def __init__(self, server_session: int | None):
        self.server_session = server_session

    def sample(self) -> dict:
        server = 0.0
        if self.server_session is not None:
            pids = _pids(lambda pid, comm, session: session == self.server_session)
            server = sum(_proc_cpu_seconds(pid) for pid in pids)
        database = sum(
            _proc_cpu_seconds(pid) for pid in _pids(lambda pid, comm, session: comm in ("mariadbd", "mysqld"))
        )
        busy, total = _machine_busy()
        return {"server": server, "database": database, "busy": busy, "total": total, "wall": time.monotonic()}

    @staticmethod
    def raw(before: dict, after: dict) -> dict:
        return {name: after[name] - before[name] for name in ("server", "database", "busy", "wall")}

    @staticmethod
    def figures(raw: dict, requests: int, generator_cpu: float) -> dict:
        """Per request and per core; `other_cpu_cores` is what the rest of the machine used meanwhile."""
        wall, per = raw["wall"], max(requests, 1)
        server, database, busy = raw["server"], raw["database"], raw["busy"]
        return {
            "server_cpu_ms_per_request": round(1000 * server / per, 3),
            "database_cpu_ms_per_request": round(1000 * database / per, 3),
            "server_cpu_cores": round(server / wall, 2),
            "database_cpu_cores": round(database / wall, 2),
            "generator_cpu_cores": round(generator_cpu / wall, 2),
            "other_cpu_cores": round(max(0.0, busy - server - database - generator_cpu) / wall, 2),
            "machine_busy_percent": round(100 * busy / (wall * (os.cpu_count() or 1)), 1),
        }

    def background(self, seconds: float = 2.0) -> float:
        """Cores busy on this machine while the benchmark itself sends nothing."""
        before = self.sample()
        time.sleep(seconds)
        after = self.sample()
        return round((after["busy"] - before["busy"]) / (after["wall"] - before["wall"]), 2)


# --- the context handed to every benchmark --------------------------------------------------------


@dataclass
class Options:
    names: list[str]
    quick: bool = False
    duration: float = 20.0  # closed loop, measured seconds
    rate: float = 100.0  # open loop, requests per second
    rate_duration: float = 30.0  # open loop, measured seconds
    warmup: float = 3.0
    connections: int = 16
    workers: int = 4
    worker_class: str = "sync"
    threads: int = 1
    # Worker recycling off: the production config recycles every 2,000 requests, and each
    # re-import of Django would be charged to the requests measured (see bench/README.md).
    max_requests: int = 0
    rounds: int = 2  # interleaved rounds over the endpoints (see measure_endpoints)
    wait_quiet: float = 0.0  # seconds to wait for the machine's other load to drop before measuring
    nice: int = 0  # scheduling priority of the benchmark and every process it starts (negative: root only)
    seed_payments: int = 10000
    time_limit: float | None = None  # seconds per benchmark; None: each benchmark's own (TIME_LIMITS)
    database_url: str = DEFAULT_DATABASE_URL


@dataclass
class Server:
    url: str
    session: int
    log_path: Path
    command: list[str]


@dataclass
class Context:
    options: Options
    processes: Processes
    tmp: Path
    env: dict = field(default_factory=dict)
    _database_ready: bool = False
    _lock: object = None  # the MySQL connection that holds this run's database lock

    # environment ---------------------------------------------------------------------------
    @classmethod
    def create(cls, options: Options, processes: Processes, tmp: Path) -> Context:
        env = {key: value for key, value in os.environ.items() if not key.startswith(("DJANGO_", "BENCH_"))}
        env.update(
            {
                "ENV_FILE": "/nonexistent",  # a developer's .env must not leak in
                "DJANGO_SETTINGS_MODULE": "payplug.settings",
                "DEBUG": "0",
                # Throwaway secrets: the settings refuse to start without them when DEBUG is off.
                "SECRET_KEY": secrets.token_urlsafe(48),
                "CARD_KEYS": "1:" + base64.b64encode(os.urandom(32)).decode(),
                "DATABASE_URL": options.database_url,
                # The API's rate limits are raised so that they never answer 429 in the benchmark.
                "API_RATE_LIMIT_PER_SECOND": "1000000",
                "API_RATE_LIMIT_BURST": "1000000",
                "ALLOWED_HOSTS": "127.0.0.1,localhost",
            }
        )
        for key in ("REDIS_URL", "CELERY_BROKER_URL", "CACHE_KEY_PREFIX", "PROMETHEUS_MULTIPROC_DIR"):
            env.pop(key, None)
        if _redis_answers("127.0.0.1", 6379):
            # As in production: the cache (and broker) on Redis; a database number of its own.
            env["REDIS_URL"] = "redis://127.0.0.1:6379/15"
            env["CACHE_KEY_PREFIX"] = "bench"
        return cls(options=options, processes=processes, tmp=tmp, env=env)

    def run_python(self, args: list[str], timeout: float = 120.0, env: dict | None = None) -> str:
        """Run the virtualenv's Python in the project directory; return its stdout."""
        proc = self.processes.start(
            [sys.executable, *args],
            cwd=ROOT,
            env=env or self.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            out, err = proc.communicate(timeout=timeout)
        finally:
            self.processes.stop(proc)
        if proc.returncode != 0:
            raise BenchError(f"{' '.join(args[:3])} failed ({proc.returncode}):\n{err[-3000:]}")
        return out

    def manage(self, *args: str, timeout: float = 120.0) -> str:
        return self.run_python(["manage.py", *args], timeout=timeout)

    # database ------------------------------------------------------------------------------
    def database(self) -> None:
        """Drop and re-create the benchmark's own database, then migrate it (once per run)."""
        if self._database_ready:
            return
        name = self.database_name
        if not name.startswith("bench"):
            raise BenchError(f"refusing to drop database {name!r}: the benchmark's database name starts with bench")
        # Two runs on one database would drop it under each other (several people share this
        # server): a named lock, held by a connection that lives as long as this process.
        self._lock = mysql_connect(self.options.database_url)
        cursor = self._lock.cursor()
        cursor.execute("SELECT GET_LOCK(%s, 0)", [f"payplatform-bench:{name}"])
        if cursor.fetchone()[0] != 1:
            raise BenchError(f"another benchmark run is using the database {name!r}; try again when it is done")
        log(f"database {name}: drop, create, migrate")
        self.sql(None, f"DROP DATABASE IF EXISTS `{name}`", f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4")
        self.manage("migrate", "--noinput", "-v", "0", timeout=240)
        self._database_ready = True

    def sql(self, database: str | None, *statements: str) -> list:
        """Run statements through MySQLdb (the app's own driver); return the last one's rows."""
        conn = mysql_connect(self.options.database_url, database)
        try:
            cursor = conn.cursor()
            for statement in statements:
                cursor.execute(statement)
            rows = list(cursor.fetchall())
            conn.commit()
        finally:
            conn.close()
        return rows

    @property
    def database_name(self) -> str:
        return urlsplit(self.options.database_url).path.lstrip("/")

    # server --------------------------------------------------------------------------------
    @contextlib.contextmanager
    def gunicorn(self, extra_env: dict | None = None) -> Iterator[Server]:
        """gunicorn with the production config (docker/gunicorn.conf.py) on a free loopback port."""
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", 0))
        listener.listen(2048)
        port = listener.getsockname()[1]
        env = dict(self.env)
        metrics_dir = self.tmp / f"prometheus-{port}"
        metrics_dir.mkdir()
        env.update(
            {
                "PROMETHEUS_MULTIPROC_DIR": str(metrics_dir),  # as in production with several workers
                "GUNICORN_ACCESS_LOG": str(self.tmp / f"access-{port}.log"),
                "GUNICORN_LOG_LEVEL": "warning",
                "GUNICORN_MAX_REQUESTS": str(self.options.max_requests),
            }
        )
        env.update(extra_env or {})
        log_path = self.tmp / f"gunicorn-{port}.log"
        options = self.options
        command = [
            str(Path(sys.executable).with_name("gunicorn")),
            "payplug.wsgi:application",
            "--config",
            str(ROOT / "docker" / "gunicorn.conf.py"),
            "--bind",
            f"fd://{listener.fileno()}",  # the socket is ours: no race for the port
            "--workers",
            str(options.workers),
            "--worker-class",
            options.worker_class,
            "--threads",
            str(options.threads),
            "--worker-tmp-dir",
            "/dev/shm" if Path("/dev/shm").is_dir() else tempfile.gettempdir(),
            "--error-logfile",
            str(log_path),
        ]
        with open(log_path, "w") as log_file:
            proc = self.processes.start(
                command, cwd=ROOT, env=env, stdout=log_file, stderr=subprocess.STDOUT, pass_fds=[listener.fileno()]
            )
        listener.close()
        url = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 60
            while True:
                if proc.poll() is not None:
                    raise BenchError(f"gunicorn exited ({proc.returncode}):\n{log_path.read_text()[-3000:]}")
                try:
                    with urllib.request.urlopen(url + "/healthz", timeout=2) as answer:
                        if answer.status == 200:
                            break
                except (urllib.error.URLError, OSError):
                    pass
                if time.monotonic() > deadline:
                    raise BenchError(f"gunicorn did not answer within 60 s:\n{log_path.read_text()[-3000:]}")
                time.sleep(0.2)
            log(f"gunicorn ready on {url} ({options.workers} {options.worker_class} workers)")
            yield Server(url=url, session=proc.pid, log_path=log_path, command=command)
        finally:
            self.processes.stop(proc, grace=10)
            shutil.rmtree(metrics_dir, ignore_errors=True)

    # load generator ------------------------------------------------------------------------
    def loadgen(self, server: Server | None, url: str, args: list[str], duration: float) -> dict:
        """Run bench/loadgen.py (another process) and return its figures plus the CPU accounting.

        The raw latencies (seconds) and CPU seconds stay in `_samples` and `_cpu_raw`, for merge_runs().
        """
        meter = CpuMeter(server.session if server else None)
        samples = self.tmp / f"samples-{time.monotonic_ns()}.bin"
        before = meter.sample()
        out = self.run_python(
            [
                str(BENCH / "loadgen.py"),
                "run",
                "--url",
                url,
                "--duration",
                str(duration),
                "--samples-out",
                str(samples),
                *args,
            ],
            timeout=duration + 60,
        )
        after = meter.sample()
        result = json.loads(out.strip().splitlines()[-1])
        result["_cpu_raw"] = CpuMeter.raw(before, after)
        result["cpu"] = CpuMeter.figures(result["_cpu_raw"], result["requests"], result["generator"]["cpu_s"])
        result["_samples"] = array.array("d", samples.read_bytes())
        samples.unlink()
        if result["cpu"]["other_cpu_cores"] > OTHER_LOAD_WARNING_CORES:
            log(f"warning: other processes used {result['cpu']['other_cpu_cores']} cores during this run")
        return result

    # results -------------------------------------------------------------------------------
    def write_results(self, name: str, data: dict, markdown: str | None = None) -> None:
        RESULTS.mkdir(parents=True, exist_ok=True)
        (RESULTS / f"{name}.json").write_text(json.dumps(data, indent=2) + "\n")
        if markdown is not None:
            (RESULTS / f"{name}.md").write_text(markdown)
        log(f"results: {RESULTS.relative_to(ROOT)}/{name}.json" + (" and .md" if markdown else ""))


def mysql_connect(database_url: str, database: str | None = None):
    import MySQLdb

    url = urlsplit(database_url)
    kwargs = {"host": url.hostname or "127.0.0.1", "port": url.port or 3306, "user": url.username or "root"}
    if url.password:
        kwargs["password"] = url.password
    if database:
        kwargs["database"] = database
    return MySQLdb.connect(**kwargs)


def _redis_answers(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1) as conn:
            conn.sendall(b"PING\r\n")
            return conn.recv(16).startswith(b"+PONG")
    except OSError:
        return False


# --- machine description ----------------------------------------------------------------------


def machine_info(ctx: Context) -> dict:
    cpu_model = ""
    with contextlib.suppress(OSError), open("/proc/cpuinfo") as handle:
        for line in handle:
            if line.startswith("model name"):
                cpu_model = line.split(":", 1)[1].strip()
                break
    memory_kb = 0
    with contextlib.suppress(OSError), open("/proc/meminfo") as handle:
        memory_kb = int(handle.readline().split()[1])
    versions = json.loads(
        ctx.run_python(
            [
                "-c",
                "import json, django, rest_framework, gunicorn, MySQLdb, sys;"
                "print(json.dumps({'python': sys.version.split()[0], 'django': django.get_version(),"
                "'djangorestframework': rest_framework.VERSION, 'gunicorn': gunicorn.__version__,"
                "'mysqlclient': '.'.join(map(str, MySQLdb.version_info[:3]))}))",
            ]
        )
    )
    database = {}
    with contextlib.suppress(Exception):
        database = dict(
            ctx.sql(
                None,
                "SHOW VARIABLES WHERE Variable_name IN ('version', 'innodb_flush_log_at_trx_commit', "
                "'innodb_buffer_pool_size', 'sync_binlog', 'log_bin', 'transaction_isolation', 'tx_isolation')",
            )
        )
    git = ""
    with contextlib.suppress(Exception):
        git = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True, timeout=5
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=5,
        ).stdout.strip()
        git += " (with uncommitted changes)" if dirty else ""
    return {
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "host": platform.node(),
        "os": platform.platform(),
        "cpu": cpu_model,
        "cores": os.cpu_count(),
        "memory_gib": round(memory_kb / 1024 / 1024, 1),
        "load_average": [round(value, 2) for value in os.getloadavg()],
        "versions": versions,
        "database_server": database,
        "redis": "REDIS_URL" in ctx.env,
        "git": git,
    }


# --- registry -----------------------------------------------------------------------------------

BENCHMARKS: dict[str, Callable[[Context], dict]] = {}
# Seconds each benchmark may take before it is stopped (its processes killed); the next one runs.
TIME_LIMITS: dict[str, float] = {}
# For a bench/<name>_bench.py that sets no TIME_LIMIT of its own.
DEFAULT_MODULE_TIME_LIMIT = 3600.0


def benchmark(name: str, time_limit: float):
    def register(func):
        BENCHMARKS[name] = func
        TIME_LIMITS[name] = time_limit
        return func

    return register


def load_module(path: Path):
    """Import a file of bench/ by its path (bench/ is no package), once."""
    name = f"bench_{path.stem}"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, path)
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module  # before running it: dataclasses look their module up
        spec.loader.exec_module(module)
    return sys.modules[name]


def discover() -> None:
    """Every bench/<name>_bench.py that defines run(ctx) joins the built-in benchmarks."""
    for path in sorted(BENCH.glob("*_bench.py")):
        module = load_module(path)
        run = getattr(module, "run", None)
        if callable(run):
            name = getattr(module, "NAME", path.stem.removesuffix("_bench"))
            BENCHMARKS.setdefault(name, run)
            TIME_LIMITS.setdefault(name, float(getattr(module, "TIME_LIMIT", DEFAULT_MODULE_TIME_LIMIT)))


# --- the API benchmark ----------------------------------------------------------------------------

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


def _load_floor_ddl() -> str:
    return load_module(BENCH / "floor.py").TABLE_DDL


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


def _load_loadgen():
    return load_module(BENCH / "loadgen.py")


def merge_runs(runs: list[dict]) -> dict:
    """One result from several runs of the same load (the rounds): sums, and percentiles of all samples."""
    loadgen = _load_loadgen()
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
    ctx.sql(ctx.database_name, _load_floor_ddl())
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


@benchmark("api", time_limit=290.0)
def api_benchmark(ctx: Context) -> dict:
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


# --- main ---------------------------------------------------------------------------------------


def parse_args(argv: list[str]) -> tuple[Options, argparse.Namespace]:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("names", nargs="*", help="benchmarks to run (default: all)")
    parser.add_argument("--list", action="store_true", help="list the benchmarks and exit")
    parser.add_argument("--quick", action="store_true", help="short smoke run (figures not comparable)")
    parser.add_argument("--serve", action="store_true", help="start the API benchmark's server and wait")
    defaults = Options(names=[])
    parser.add_argument("--duration", type=float, default=defaults.duration, help="closed-loop seconds")
    parser.add_argument("--rate", type=float, default=defaults.rate, help="open-loop requests per second")
    parser.add_argument("--rate-duration", type=float, default=defaults.rate_duration, help="open-loop seconds")
    parser.add_argument("--warmup", type=float, default=defaults.warmup)
    parser.add_argument("--connections", type=int, default=defaults.connections, help="closed-loop connections")
    parser.add_argument("--workers", type=int, default=defaults.workers, help="gunicorn workers")
    parser.add_argument("--worker-class", default=defaults.worker_class, help="gunicorn worker class")
    parser.add_argument("--threads", type=int, default=defaults.threads, help="threads per gunicorn worker")
    parser.add_argument(
        "--max-requests", type=int, default=defaults.max_requests, help="gunicorn worker recycling (0: off)"
    )
    parser.add_argument("--seed-payments", type=int, default=defaults.seed_payments)
    parser.add_argument("--rounds", type=int, default=defaults.rounds, help="interleaved rounds over the endpoints")
    parser.add_argument(
        "--nice",
        type=int,
        default=defaults.nice,
        help="priority of the benchmark's processes, e.g. -10 on a machine shared with test runs (root only)",
    )
    parser.add_argument(
        "--wait-quiet", type=float, default=defaults.wait_quiet, help="wait up to this many seconds for an idle machine"
    )
    parser.add_argument(
        "--time-limit", type=float, default=defaults.time_limit, help="seconds per benchmark (default: its own)"
    )
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_DATABASE_URL))
    args = parser.parse_args(argv)
    options = Options(
        names=args.names,
        quick=args.quick,
        duration=args.duration,
        rate=args.rate,
        rate_duration=args.rate_duration,
        warmup=args.warmup,
        connections=args.connections,
        workers=args.workers,
        worker_class=args.worker_class,
        threads=args.threads,
        max_requests=args.max_requests,
        rounds=args.rounds,
        wait_quiet=args.wait_quiet,
        nice=args.nice,
        seed_payments=args.seed_payments,
        time_limit=args.time_limit,
        database_url=args.database_url,
    )
    if args.quick:
        options.duration, options.rate_duration, options.warmup, options.rounds = 3.0, 3.0, 1.0, 1
        options.seed_payments = min(options.seed_payments, 2000)
    return options, args


def main(argv: list[str] | None = None) -> int:
    ensure_venv()
    options, args = parse_args(sys.argv[1:] if argv is None else argv)
    discover()
    if args.list:
        print("\n".join(f"{name}: {(func.__doc__ or '').strip().splitlines()[0]}" for name, func in BENCHMARKS.items()))
        return 0
    names = options.names or list(BENCHMARKS)
    unknown = [name for name in names if name not in BENCHMARKS]
    if unknown:
        log(f"unknown benchmark(s) {', '.join(unknown)}; known: {', '.join(BENCHMARKS)}")
        return 2

    if options.nice:
        # Inherited by gunicorn, the load generator and every other process started from here;
        # the database server keeps its own priority.
        try:
            os.setpriority(os.PRIO_PROCESS, 0, options.nice)
        except PermissionError:
            log(f"--nice {options.nice} needs root: running at normal priority")
            options.nice = 0
    processes = Processes()

    def on_signal(signum, frame):
        raise KeyboardInterrupt if signum == signal.SIGINT else SystemExit(128 + signum)

    def on_alarm(signum, frame):
        raise TimeLimit()

    signal.signal(signal.SIGINT, on_signal)  # also when started in the background, where SIGINT is ignored
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGHUP, on_signal)
    signal.signal(signal.SIGALRM, on_alarm)
    failed = []
    with tempfile.TemporaryDirectory(prefix="payplatform-bench-") as tmp:
        ctx = Context.create(options, processes, Path(tmp))
        try:
            if args.serve:
                return serve(ctx)
            for name in names:
                limit = options.time_limit or TIME_LIMITS.get(name, DEFAULT_MODULE_TIME_LIMIT)
                log(f"=== {name} (time limit {limit:g} s) ===")
                signal.setitimer(signal.ITIMER_REAL, limit)
                try:
                    BENCHMARKS[name](ctx)
                except TimeLimit:
                    log(f"{name}: time limit of {limit:g} s reached, stopped")
                    failed.append(name)
                except (BenchError, subprocess.SubprocessError) as exc:
                    log(f"{name} failed: {exc}")
                    failed.append(name)
                except Exception:  # one broken benchmark must not stop the others
                    log(f"{name} failed:\n{traceback.format_exc()}")
                    failed.append(name)
                finally:
                    signal.setitimer(signal.ITIMER_REAL, 0)
                    processes.stop_all()
        except KeyboardInterrupt:
            log("interrupted")
            return 130
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
            processes.stop_all()
    if failed:
        log(f"failed: {', '.join(failed)}")
    return 1 if failed else 0


def serve(ctx: Context) -> int:
    """The API benchmark's server with its data, until Ctrl-C: for profiling by hand."""
    data = _prepare_api(ctx)
    with ctx.gunicorn({"BENCH_FLOOR": "1"}) as server:
        info = {"url": server.url, "gunicorn_pid": server.session, "secret_key": data.key}
        info |= {name: str(getattr(data, name)) for name in ("paths_file", "body_file", "empty_file")}
        print(json.dumps(info), flush=True)
        while True:
            time.sleep(3600)


if __name__ == "__main__":
    sys.exit(main())
