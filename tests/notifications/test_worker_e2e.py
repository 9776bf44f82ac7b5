"""At least once, for real: a `celery -A payplug worker` process on Redis delivers to a loopback
receiver, survives being killed mid-delivery, and the sweeper recovers a broker restart.

The worker, its embedded beat and the publisher are separate processes sharing a temporary SQLite
database file (DATABASE_URL) and the settings of worker_settings.py; this test process only runs
the receiver and reads the database file with sqlite3. So these tests behave the same whatever
database the rest of the suite uses. The Redis database is REDIS_URL's; every key is prefixed per
test, so nothing else on that database is seen or touched.
"""

import contextlib
import json
import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from .receiver import Receiver

pytestmark = pytest.mark.redis

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(condition, timeout: float, interval: float = 0.1) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(interval)
    return condition()


class Stack:
    """The processes of one test: workers, publishers, optionally a Redis server of its own."""

    def __init__(self, tmp: Path, database: Path, broker_url: str):
        self.tmp = tmp
        self.database = database
        self.broker_url = broker_url
        self.prefix = f"e2e-{uuid.uuid4().hex[:12]}:"
        self.processes: list[subprocess.Popen] = []
        self.extra_env: dict[str, str] = {}

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.lower().endswith("_proxy")}
        env.update(
            DJANGO_SETTINGS_MODULE="tests.notifications.worker_settings",
            DATABASE_URL=f"sqlite:///{self.database}",
            REDIS_URL=self.broker_url,
            CELERY_BROKER_URL=self.broker_url,
            E2E_KEY_PREFIX=self.prefix,
            PYTHONPATH=str(ROOT),
            **self.extra_env,
        )
        return env

    def worker(self, *, beat: bool = False, name: str = "worker") -> subprocess.Popen:
        command = [sys.executable, "-m", "celery", "-A", "payplug", "worker", "--loglevel", "info"]
        command += ["--concurrency", "2", "--hostname", f"{name}-{uuid.uuid4().hex[:6]}@e2e"]
        command += ["--without-gossip", "--without-mingle", "--without-heartbeat"]
        if beat:
            command += ["--beat", "--schedule", str(self.tmp / "beat-schedule")]
        log = open(self.tmp / f"{name}.log", "ab")  # noqa: SIM115  closed with the process
        process = subprocess.Popen(
            command, cwd=ROOT, env=self.env(), stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        self.processes.append(process)
        return process

    def publish(self, count: int, interval: float, ipn_url: str, webhook_url: str | None = None) -> subprocess.Popen:
        command = [sys.executable, "-m", "tests.notifications.e2e_publisher", str(count), str(interval), ipn_url]
        if webhook_url:
            command.append(webhook_url)
        process = subprocess.Popen(
            command,
            cwd=ROOT,
            env=self.env(),
            stdout=subprocess.PIPE,
            stderr=open(self.tmp / "publisher.log", "ab"),  # noqa: SIM115
            start_new_session=True,
            text=True,
        )
        self.processes.append(process)
        return process

    @staticmethod
    def kill(process: subprocess.Popen) -> None:
        """SIGKILL the whole process group: the worker and its pool children, mid-task."""
        if process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
        process.wait(10)

    def close(self) -> None:
        for process in reversed(self.processes):
            if process.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGTERM)
        for process in self.processes:
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                self.kill(process)

    def query(self, sql: str, *args):
        with sqlite3.connect(self.database, timeout=20) as connection:
            return connection.execute(sql, args).fetchall()

    def logs(self) -> str:
        return "\n".join(f"--- {p.name}\n{p.read_text(errors='replace')[-4000:]}" for p in self.tmp.glob("*.log"))


def published(process: subprocess.Popen, timeout: float = 60) -> list[dict]:
    out, _ = process.communicate(timeout=timeout)
    return [json.loads(line) for line in out.splitlines() if line.strip()]


@pytest.fixture(scope="module")
def database_template(tmp_path_factory):
    """One migrated database file, copied for each test (migrating takes seconds)."""
    path = tmp_path_factory.mktemp("e2e-db") / "template.sqlite3"
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "tests.notifications.worker_settings"}
    env["DATABASE_URL"] = f"sqlite:///{path}"
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"], cwd=ROOT, env=env, check=True, timeout=120
    )
    with sqlite3.connect(path) as connection:
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return path


@pytest.fixture
def stack(tmp_path, database_template):
    database = tmp_path / "db.sqlite3"
    shutil.copy(database_template, database)
    built = Stack(tmp_path, database, os.environ["REDIS_URL"])
    yield built
    built.close()


@pytest.fixture
def receiver(stack):
    server = Receiver().start()
    # Test mode reaches loopback only on the ports the operator lists (issue 12, finding 10).
    stack.extra_env["NOTIFICATIONS_ALLOWED_LOOPBACK_PORTS"] = str(server.port)
    yield server
    server.stop()


def received_event_ids(receiver: Receiver) -> set[str]:
    ids = set()
    for request in receiver.received:
        if request.path == "/ipn":
            ids.add(json.loads(request.body)["id"])
    return ids


def test_a_real_worker_delivers_every_ipn_and_webhook(stack, receiver):
    stack.worker()

    events = published(stack.publish(20, 0.02, receiver.url("/ipn"), receiver.url("/hook")))

    objects = {e["object"] for e in events}
    assert len(objects) == 20
    assert wait_until(lambda: len(receiver.received) >= 40, timeout=90), stack.logs()
    assert received_event_ids(receiver) == objects
    hooks = {r.header("X-Event-Id") for r in receiver.received if r.path == "/hook"}
    assert hooks == {e["event"] for e in events}
    assert stack.query("SELECT status, COUNT(*) FROM notifications_delivery GROUP BY status") == [("succeeded", 40)]


def test_a_delivery_survives_its_worker_being_killed_mid_request(stack, receiver):
    # given: a worker whose messages come back 3 s after it dies, and a receiver that hangs
    stack.extra_env["E2E_VISIBILITY_TIMEOUT"] = "3"
    first = stack.worker(name="first")
    receiver.hold.set()

    (event,) = published(stack.publish(1, 0, receiver.url("/ipn")))
    assert receiver.arrived.wait(90), stack.logs()

    # when: the worker is killed while the HTTP request is in flight, then a new one starts
    stack.kill(first)
    receiver.hold.clear()
    receiver.released.set()
    stack.worker(name="second")

    # then: the same message is handed out again (late acknowledgement) and the delivery completes
    assert wait_until(
        lambda: stack.query("SELECT status FROM notifications_delivery") == [("succeeded",)], timeout=90
    ), stack.logs()
    assert [json.loads(r.body)["id"] for r in receiver.received] == [event["object"]] * 2
    assert [r.header("X-Delivery-Attempt") for r in receiver.received] == ["1", "2"]
    attempts = stack.query("SELECT number, succeeded, error FROM notifications_deliveryattempt ORDER BY number")
    assert attempts[0][:2] == (1, 0) and attempts[0][2].startswith("interrupted")
    assert attempts[1][:2] == (2, 1)


def test_the_sweeper_delivers_every_event_of_a_burst_across_a_broker_restart(stack, receiver, tmp_path):
    if shutil.which("redis-server") is None:
        pytest.fail("redis-server is not installed (apt-get install redis-server)")
    port = free_port()
    redis_command = ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
    redis_command += ["--dir", str(tmp_path)]

    def start_redis() -> subprocess.Popen:
        process = subprocess.Popen(
            redis_command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
        )
        stack.processes.append(process)
        assert wait_until(lambda: _answers(port), timeout=10)
        return process

    broker = start_redis()
    stack.broker_url = f"redis://127.0.0.1:{port}/0"
    stack.worker(beat=True)

    # a burst of 40 events over ~4 s; the broker dies after ~1 s and is back ~2 s later, empty
    publisher = stack.publish(40, 0.1, receiver.url("/ipn"))
    assert wait_until(lambda: len(receiver.received) >= 3, timeout=90), stack.logs()
    broker.kill()
    broker.wait(10)
    time.sleep(2)
    start_redis()
    events = published(publisher)

    assert len(events) == 40
    objects = {e["object"] for e in events}
    if not wait_until(lambda: received_event_ids(receiver) >= objects, timeout=90):
        # pytest.fail rather than an assert message: pytest shortens those, and the logs are the point
        missing = sorted(objects - received_event_ids(receiver))
        pytest.fail(f"{len(missing)} events never delivered: {missing}\n{stack.logs()}", pytrace=False)
    assert wait_until(
        lambda: stack.query("SELECT COUNT(*) FROM notifications_event WHERE dispatched_at IS NULL") == [(0,)],
        timeout=10,
    )


def _answers(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5) as connection:
            connection.sendall(b"PING\r\n")
            return connection.recv(16).startswith(b"+PONG")
    except OSError:
        return False
