"""Queueing Celery tasks by name: the one way application code starts background work.

Code that changes state queues its follow-up work *after the commit* (`enqueue_after_commit`), so a
worker never reads a row before it exists and a rolled-back change queues nothing. Tasks are named
(`@shared_task(name="payments.generate_accounting_report")`), so no module imports another's
`tasks.py` to queue work, and the import graph keeps its layers.

When the broker does not answer, the task is not queued: we log a warning and return False. Every
task queued through here has a sweeper (a beat task) that finds the work still to do in the database
and queues it again, so a broker outage delays work but never loses it.

In embedded mode (no broker, CELERY_TASK_ALWAYS_EAGER) the task runs in-process at once; countdowns
mean nothing there, so `countdown` tasks are skipped in eager mode when `skip_when_eager` is set:
the work's sweeper or beat task does it when due, which `make run` runs in-process (payplug.scheduler).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from celery import current_app
from django.db import transaction

logger = logging.getLogger(__name__)


def is_eager() -> bool:
    """True when tasks run in-process (embedded mode, and the test suite)."""
    return bool(current_app.conf.task_always_eager)


def enqueue(
    task_name: str,
    args: Sequence = (),
    *,
    countdown: float | None = None,
    skip_when_eager: bool = False,
) -> bool:
    """Queue `task_name` now. False (and a warning in the log) when it was not queued: broker down,
    or a countdown task in eager mode with `skip_when_eager`. The task must be registered, which
    every app's `AppConfig.ready()` makes sure of by importing its tasks module."""
    if skip_when_eager and is_eager():
        return False
    task = current_app.tasks[task_name]
    options = {"countdown": countdown} if countdown is not None else {}
    try:
        task.apply_async(args=list(args), **options)
    except Exception:  # broker down: the task's sweeper queues the work again later
        logger.warning("could not queue %s%s; its sweeper will", task_name, tuple(args), exc_info=True)
        return False
    return True


def enqueue_after_commit(
    task_name: str,
    args: Sequence = (),
    *,
    countdown: float | None = None,
    skip_when_eager: bool = False,
) -> None:
    """Queue `task_name` once the current transaction commits (at once outside a transaction);
    nothing if it rolls back. Same rules as `enqueue`."""
    args = tuple(args)
    transaction.on_commit(lambda: enqueue(task_name, args, countdown=countdown, skip_when_eager=skip_when_eager))
