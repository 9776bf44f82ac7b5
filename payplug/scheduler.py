"""The embedded mode's Celery beat: the periodic tasks of CELERY_BEAT_SCHEDULE, run in-process.

`make run` has no broker and no beat: tasks run eagerly in the web process. Without this module
nothing would run the periodic jobs there: the acquirer-timeout card would never be reconciled,
failed notifications never retried (in eager mode a retry is left to the sweeper, see
notifications.services.delivery), no settlement, payout or sandbox chargeback would happen.

`manage.py runplatform` (what `make run` serves with) starts one `Scheduler` in a daemon thread of
the process that serves requests. Each tick runs every entry that is due, through its registered
Celery task, in-process (`task.apply`), and schedules it one interval later: like beat, each task
runs once per interval and a late tick never runs a task twice to catch up. Every task runs once at
start (beat would wait one interval: an hourly payout job would then be an hour away). A task that
fails is logged and runs again at its next interval; nothing stops the thread but the process.

Production never runs this: gunicorn does not start it and celery beat sends the same schedule to
the workers. The test suite does not either, unless a test builds a Scheduler itself.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from celery import current_app
from django.conf import settings
from django.db import connections

logger = logging.getLogger(__name__)

# Seconds before the first tick, so that the server listens before tasks call it (deliveries to
# the platform's own loopback address, for example).
START_DELAY = 2.0
# The thread sleeps at most this long between looks at the schedule.
POLL_SECONDS = 1.0


@dataclass
class Entry:
    name: str
    task: str
    interval: float
    args: tuple = ()
    kwargs: dict = field(default_factory=dict)
    due_at: float = 0.0
    runs: int = 0
    failures: int = 0


def entries_of(schedule: Mapping[str, Mapping]) -> list[Entry]:
    """CELERY_BEAT_SCHEDULE as entries. Schedules are seconds (a float, or a timedelta)."""
    entries = []
    for name, spec in schedule.items():
        interval = spec["schedule"]
        interval = interval.total_seconds() if hasattr(interval, "total_seconds") else float(interval)
        if interval <= 0:
            raise ValueError(f"{name}: the schedule must be a positive number of seconds")
        entries.append(
            Entry(
                name=name,
                task=spec["task"],
                interval=interval,
                args=tuple(spec.get("args", ())),
                kwargs=dict(spec.get("kwargs", {})),
            )
        )
    return entries


def _drop_stale_connections() -> None:
    """What Django does around each request, for this long-lived thread: close a connection the
    database dropped or that outlived CONN_MAX_AGE. Never inside a transaction (a test's)."""
    for connection in connections.all(initialized_only=True):
        if not connection.in_atomic_block:
            connection.close_if_unusable_or_obsolete()


def run_registered_task(entry: Entry) -> None:
    """Run the entry's Celery task in this process; raises what the task raised."""
    task = current_app.tasks[entry.task]
    _drop_stale_connections()
    try:
        task.apply(args=list(entry.args), kwargs=entry.kwargs, throw=True)
    finally:
        _drop_stale_connections()


class Scheduler:
    """Runs each entry at its interval. `clock` (seconds, monotonic) and `run` are injectable so
    that tests drive ticks with a fake clock."""

    def __init__(
        self,
        schedule: Mapping[str, Mapping] | None = None,
        *,
        clock: Callable[[], float] = time.monotonic,
        run: Callable[[Entry], None] = run_registered_task,
        start_delay: float = 0.0,
    ):
        self.entries = entries_of(settings.CELERY_BEAT_SCHEDULE if schedule is None else schedule)
        self.clock = clock
        self.run = run
        first = clock() + start_delay
        for entry in self.entries:
            entry.due_at = first

    def tick(self) -> list[str]:
        """Run every entry that is due now; returns their names in the order they ran."""
        ran = []
        for entry in self.entries:
            now = self.clock()
            if entry.due_at > now:
                continue
            # Next run one interval after this one; a tick that came late does not run it twice.
            entry.due_at += entry.interval
            if entry.due_at <= now:
                entry.due_at = now + entry.interval
            self._run_one(entry)
            ran.append(entry.name)
        return ran

    def _run_one(self, entry: Entry) -> None:
        started = self.clock()
        try:
            self.run(entry)
        except Exception:  # logged; the task runs again at its next interval
            entry.failures += 1
            logger.exception("periodic task %s (%s) failed; next run in %.0f s", entry.name, entry.task, entry.interval)
        else:
            entry.runs += 1
            logger.debug("periodic task %s ran in %.3f s", entry.name, self.clock() - started)

    def seconds_to_next(self) -> float:
        if not self.entries:
            return POLL_SECONDS
        return max(0.0, min(entry.due_at for entry in self.entries) - self.clock())

    def run_until(self, stop: threading.Event, poll: float = POLL_SECONDS) -> None:
        """The thread's loop: tick, then sleep until the next entry is due (at most `poll`)."""
        while not stop.is_set():
            try:
                self.tick()
            except Exception:  # never let the loop die (tick itself already catches task errors)
                logger.exception("the periodic task scheduler hit an error; it goes on")
            stop.wait(min(poll, self.seconds_to_next()) or 0.05)


_lock = threading.Lock()
_running: tuple[Scheduler, threading.Thread, threading.Event] | None = None


def start_in_background(*, start_delay: float = START_DELAY) -> Scheduler:
    """Start the process's one scheduler thread (a second call returns the running one)."""
    global _running
    with _lock:
        if _running is not None and _running[1].is_alive():
            return _running[0]
        scheduler = Scheduler(start_delay=start_delay)
        stop = threading.Event()
        thread = threading.Thread(target=scheduler.run_until, args=(stop,), name="periodic-tasks", daemon=True)
        thread.start()
        _running = (scheduler, thread, stop)
        logger.info(
            "periodic tasks run in this process: the %s of CELERY_BEAT_SCHEDULE, first in %g s",
            len(scheduler.entries),
            start_delay,
        )
        return scheduler


def stop_background() -> None:
    """Stop the background scheduler (tests that started one)."""
    global _running
    with _lock:
        if _running is None:
            return
        _scheduler, thread, stop = _running
        stop.set()
        thread.join(5)
        _running = None
