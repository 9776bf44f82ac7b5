"""What every benchmark is handed: processes, CPU accounting, the database, gunicorn, the load
generator and the result writer (bench/results/<name>.json and .md).

`bench/run.py` builds one `Context` per run and passes it to each benchmark's `run(ctx)`; a
benchmark that needs another database builds a second `Context` of its own (see
bench/benchmarks/checkout.py). Standard library only at the top: `bench/run.py` imports this
module before it re-executes itself with the project's virtualenv.
"""

from __future__ import annotations

import array
import base64
import contextlib
import datetime as dt
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
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
RESULTS = BENCH / "results"
DEFAULT_DATABASE_URL = "mysql://root@127.0.0.1:3306/bench"
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
# Figures taken while other processes used more than this many cores are flagged as disturbed.
OTHER_LOAD_WARNING_CORES = 0.15


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


class BenchError(Exception):
    pass


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

    def stop_all(self, grace: float = 3.0) -> None:
        for proc in list(reversed(self.running)):
            self.stop(proc, grace=grace)


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
        if redis_answers("127.0.0.1", 6379):
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

        The raw latencies (seconds) and CPU seconds stay in `_samples` and `_cpu_raw`, for
        bench.benchmarks.api.merge_runs().
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
    import MySQLdb  # noqa: PLC0415  not in the system Python: run.py imports this module before ensure_venv()

    url = urlsplit(database_url)
    kwargs = {"host": url.hostname or "127.0.0.1", "port": url.port or 3306, "user": url.username or "root"}
    if url.password:
        kwargs["password"] = url.password
    if database:
        kwargs["database"] = database
    return MySQLdb.connect(**kwargs)


def redis_answers(host: str, port: int, timeout: float = 1.0) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout) as conn:
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
