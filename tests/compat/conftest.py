"""The official PayPlug SDK against a live server, through real HTTP.

* `sdk_python`: a virtualenv of its own holding `payplug==1.4.0` from PyPI (its package name
  collides with our project package `payplug`, so it can never share our interpreter). Created
  once, on first use, and reused while it still holds that version. Path: `$PAYPLUG_SDK_VENV`,
  else `<repo>/.venv-compat/payplug-1.4.0` (built beside it, then moved in, under a lock).
* `live_server` (pytest-django): our Django app in a thread, answering real HTTP on a free port.
  `PUBLIC_BASE_URL` points at it, so the `payment_url` we hand out is the live hosted page.
* `sdk`: runs one scenario of `sdk_driver.py` with the SDK's interpreter and answers its
  questions (a shopper paying on the hosted page, the notification body we would send).
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import queue
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import pytest

from notifications.models import Event
from payplug.celery import app
from tests import factories

from .shopper import Shopper

SDK_REQUIREMENT = "payplug==1.4.0"
SDK_VERSION = "1.4.0"
REPO_ROOT = Path(__file__).resolve().parents[2]
DRIVER = Path(__file__).with_name("sdk_driver.py")
DRIVER_TIMEOUT_SECONDS = 120


# --- the SDK's own virtualenv ---------------------------------------------------------------------


def sdk_venv_dir() -> Path:
    return Path(os.environ.get("PAYPLUG_SDK_VENV") or REPO_ROOT / ".venv-compat" / f"payplug-{SDK_VERSION}")


def _venv_python(venv: Path) -> Path:
    return venv / "bin" / "python"


def _has_sdk(venv: Path) -> bool:
    python = _venv_python(venv)
    if not python.exists():
        return False
    probe = subprocess.run(
        [str(python), "-I", "-c", "import payplug; print(payplug.__version__)"],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tempfile.gettempdir(),
    )
    return probe.returncode == 0 and probe.stdout.strip() == SDK_VERSION


def _run(cmd: list[str], log: list[str]) -> bool:
    result = subprocess.run(cmd, capture_output=True, text=True, timeout=600, cwd=tempfile.gettempdir())
    log.append(f"$ {' '.join(cmd)}\n(exit {result.returncode})\n{result.stdout[-3000:]}{result.stderr[-3000:]}")
    return result.returncode == 0


def _install(venv: Path, log: list[str]) -> bool:
    quiet = ["--disable-pip-version-check", "--no-input", "-q"]
    # Fast path: a venv without pip, filled by our own pip (`pip --python`, pip >= 22.3).
    if _run([sys.executable, "-m", "venv", "--without-pip", str(venv)], log) and _run(
        [sys.executable, "-m", "pip", "--python", str(_venv_python(venv)), "install", *quiet, SDK_REQUIREMENT], log
    ):
        return True
    # Fallback: a venv with its own pip.
    shutil.rmtree(venv, ignore_errors=True)
    return _run([sys.executable, "-m", "venv", str(venv)], log) and _run(
        [str(_venv_python(venv)), "-m", "pip", "install", *quiet, SDK_REQUIREMENT], log
    )


def _create_venv(venv: Path) -> list[str]:
    """Build the virtualenv beside its place, then move it in; returns the log of what was run.

    Nothing ever sees a half-built venv at `venv`: a process that found a usable one keeps it.
    """
    log: list[str] = []
    building = venv.with_name(f"{venv.name}.building-{os.getpid()}")
    shutil.rmtree(building, ignore_errors=True)
    if _install(building, log) and _has_sdk(building):
        shutil.rmtree(venv, ignore_errors=True)
        building.rename(venv)
    shutil.rmtree(building, ignore_errors=True)
    return log


@contextlib.contextmanager
def _venv_lock(venv: Path):
    """Serialize creation between concurrent pytest processes (xdist workers, parallel runs)."""
    venv.parent.mkdir(parents=True, exist_ok=True)
    with open(venv.with_name(f"{venv.name}.lock"), "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


@pytest.fixture(scope="session")
def sdk_python() -> str:
    """The interpreter of a virtualenv holding the official SDK (created on first use)."""
    venv = sdk_venv_dir()
    with _venv_lock(venv):
        if not _has_sdk(venv):
            log = _create_venv(venv)
            if not _has_sdk(venv):
                pytest.fail(f"could not install {SDK_REQUIREMENT} into {venv}:\n" + "\n".join(log), pytrace=False)
    return str(_venv_python(venv))


# --- the live server --------------------------------------------------------------------------------


@pytest.fixture
def base_url(live_server, settings) -> str:
    """Our API root as the SDK gets it (`payplug.routes.API_BASE_URL`), plain HTTP, no trailing slash."""
    settings.PUBLIC_BASE_URL = live_server.url
    return live_server.url


@pytest.fixture(autouse=True)
def _tasks_in_process():
    """No Celery worker runs beside the test server, even when a broker is configured (the
    MariaDB + Redis run): run tasks in-process, so that an authorised payment gets its fraud
    decision and capture as it does in embedded mode."""
    previous = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = previous


@pytest.fixture
def merchant(db):
    return factories.merchant("Compat Shop")


@pytest.fixture
def secret_key(merchant) -> str:
    return factories.secret_key(merchant)


@pytest.fixture
def shopper(base_url) -> Shopper:
    return Shopper(base_url)


# --- running the driver --------------------------------------------------------------------------


def _clean_env() -> dict:
    """The environment of the SDK process: no proxy (everything is on loopback)."""
    env = {k: v for k, v in os.environ.items() if not k.lower().endswith("_proxy")}
    env["NO_PROXY"] = env["no_proxy"] = "*"
    return env


def notification_body(object_id: str, event_type: str) -> str:
    """The body our platform sends to a `notification_url` for this change (spec §12).

    The outbox event recorded with the change holds it (the resource as the retrieve route
    serializes it, and the IPN URL it goes to).
    """
    event = Event.objects.filter(object_id=object_id, type=event_type).order_by("-sequence").first()
    assert event is not None, f"no {event_type} event for {object_id}"
    assert event.ipn_url, f"the {event_type} event of {object_id} has no IPN URL"
    return json.dumps(event.payload)


class SdkRunner:
    """Runs `sdk_driver.py SCENARIO` with the SDK's interpreter and serves its questions."""

    def __init__(self, python: str, base_url: str, shopper: Shopper):
        self.python = python
        self.base_url = base_url
        self.shopper = shopper
        self.asked: list[dict] = []

    def _answer(self, message: dict):
        op = message["op"]
        if op == "pay":
            return self.shopper.pay(
                message["payment_url"],
                message["number"],
                save_card=message.get("save_card", False),
                three_ds=message.get("three_ds"),
            )
        if op == "notification":
            return notification_body(message["object_id"], message["event_type"])
        raise AssertionError(f"the driver asked for an unknown operation: {op}")

    def run(self, scenario: str, key: str, **params) -> dict:
        cmd = [self.python, "-I", str(DRIVER), self.base_url, key, scenario, json.dumps(params)]
        proc = subprocess.Popen(
            cmd,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=_clean_env(),
            cwd=tempfile.gettempdir(),
            bufsize=1,
        )
        lines: queue.Queue = queue.Queue()
        stderr: list[str] = []

        def read_stdout():
            for line in proc.stdout:
                lines.put(line)
            lines.put(None)

        readers = [
            threading.Thread(target=read_stdout, daemon=True),
            threading.Thread(target=lambda: stderr.extend(proc.stderr), daemon=True),
        ]
        for reader in readers:
            reader.start()
        deadline = time.monotonic() + DRIVER_TIMEOUT_SECONDS

        def fail(reason):
            if proc.poll() is None:
                proc.kill()
            proc.wait(timeout=10)
            readers[1].join(timeout=5)
            pytest.fail(
                f"SDK driver, scenario {scenario!r}: {reason}\n--- driver stderr ---\n{''.join(stderr)}", pytrace=False
            )

        try:
            while True:
                try:
                    line = lines.get(timeout=max(0.1, deadline - time.monotonic()))
                except queue.Empty:
                    fail(f"no answer within {DRIVER_TIMEOUT_SECONDS} s")
                if line is None:
                    fail(f"exited (status {proc.wait(timeout=10)}) without a result")
                message = json.loads(line)
                if message["kind"] == "ask":
                    self.asked.append(message)
                    reply = self._answer(message)
                    proc.stdin.write(json.dumps({"data": reply}) + "\n")
                    proc.stdin.flush()
                    continue
                if message["kind"] == "result":
                    proc.wait(timeout=30)
                    if not message["ok"]:
                        fail(f"raised\n{message['error']}\nsteps done: {json.dumps(message['data'], indent=1)}")
                    return message["data"]
                fail(f"unexpected line {line!r}")
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait(timeout=10)
            for reader in readers:
                reader.join(timeout=5)
            for stream in (proc.stdin, proc.stdout, proc.stderr):
                with contextlib.suppress(OSError, ValueError):
                    stream.close()


@pytest.fixture
def sdk(sdk_python, base_url, shopper) -> SdkRunner:
    return SdkRunner(sdk_python, base_url, shopper)
