"""The embedded mode's in-process scheduler (issue 12, item 22): `make run` runs the periodic tasks.

Ticks are driven by hand with a fake clock: no test waits for an interval.
"""

import threading
from datetime import timedelta

import pytest
from django.conf import settings
from django.core.management import get_commands

from payplug import scheduler as scheduler_module
from payplug.management.commands import runplatform
from payplug.scheduler import Scheduler


class FakeClock:
    def __init__(self, start=1000.0):
        self.now = start

    def __call__(self):
        return self.now

    def advance(self, seconds):
        self.now += seconds


SCHEDULE = {
    "fast": {"task": "tests.fast", "schedule": 30.0},
    "slow": {"task": "tests.slow", "schedule": timedelta(minutes=5)},
}


def make(schedule=SCHEDULE, **kwargs):
    clock = FakeClock()
    calls = []
    sched = Scheduler(schedule, clock=clock, run=lambda entry: calls.append(entry.name), **kwargs)
    return sched, clock, calls


def test_every_task_runs_at_start_then_at_its_interval():
    sched, clock, calls = make()
    assert sched.tick() == ["fast", "slow"]
    clock.advance(29)
    assert sched.tick() == []
    clock.advance(1)
    assert sched.tick() == ["fast"]
    for _ in range(9):
        clock.advance(30)
        sched.tick()
    # 300 s after the start: fast ran at 0, 30, ..., 300 (11 times), slow at 0 and 300.
    assert calls.count("fast") == 11
    assert calls.count("slow") == 2


def test_a_late_tick_runs_each_task_once_not_once_per_missed_interval():
    sched, clock, _calls = make()
    sched.tick()
    clock.advance(1000)  # the process was suspended for many intervals
    assert sched.tick() == ["fast", "slow"]
    assert sched.tick() == []
    clock.advance(30)
    assert sched.tick() == ["fast"]


def test_ticks_in_a_row_run_nothing_twice():
    sched, clock, calls = make()
    sched.tick()
    sched.tick()
    clock.advance(0.5)
    sched.tick()
    assert calls == ["fast", "slow"]


def test_start_delay_postpones_the_first_run():
    sched, clock, _calls = make(start_delay=2.0)
    assert sched.tick() == []
    clock.advance(2)
    assert sched.tick() == ["fast", "slow"]


def test_a_failing_task_is_logged_and_the_others_still_run(caplog):
    clock = FakeClock()
    calls = []

    def run(entry):
        calls.append(entry.name)
        if entry.name == "fast":
            raise RuntimeError("boom")

    sched = Scheduler(SCHEDULE, clock=clock, run=run)
    with caplog.at_level("ERROR", logger="payplug.scheduler"):
        assert sched.tick() == ["fast", "slow"]
    assert "fast" in caplog.text and "boom" in caplog.text
    clock.advance(30)
    assert sched.tick() == ["fast"]  # it runs again at its next interval
    fast = next(e for e in sched.entries if e.name == "fast")
    assert fast.failures == 2 and fast.runs == 0


def test_the_loop_survives_a_failing_task_and_stops_on_request():
    ran = threading.Event()
    calls = []

    def run(entry):
        calls.append(entry.name)
        if len(calls) >= 3:
            ran.set()
        raise RuntimeError("always fails")

    sched = Scheduler({"often": {"task": "tests.often", "schedule": 0.01}}, run=run)
    stop = threading.Event()
    thread = threading.Thread(target=sched.run_until, args=(stop,), kwargs={"poll": 0.01}, daemon=True)
    thread.start()
    assert ran.wait(2), "the scheduler thread died after the first failure"
    stop.set()
    thread.join(2)
    assert not thread.is_alive()


def test_it_runs_the_registered_celery_tasks_of_the_beat_schedule(db):
    """The default run calls the task registered under the schedule's name, in-process."""
    sched = Scheduler({"sweep": {"task": "notifications.sweep", "schedule": 15.0}}, clock=FakeClock())
    assert sched.tick() == ["sweep"]
    entry = sched.entries[0]
    assert entry.runs == 1 and entry.failures == 0


def test_the_default_schedule_is_celery_beat_schedule():
    sched = Scheduler(clock=FakeClock(), run=lambda entry: None)
    assert {e.task for e in sched.entries} == {spec["task"] for spec in settings.CELERY_BEAT_SCHEDULE.values()}
    assert {e.name: e.interval for e in sched.entries}["reconcile-pending-authorizations"] == 30.0


def test_an_unknown_task_is_an_error_the_loop_survives(caplog):
    sched = Scheduler({"ghost": {"task": "tests.no_such_task", "schedule": 10.0}}, clock=FakeClock())
    with caplog.at_level("ERROR", logger="payplug.scheduler"):
        assert sched.tick() == ["ghost"]
    assert "tests.no_such_task" in caplog.text


def test_only_one_background_scheduler_per_process(monkeypatch):
    monkeypatch.setattr(scheduler_module.Scheduler, "run_until", lambda self, stop, poll=1.0: stop.wait(5))
    try:
        first = scheduler_module.start_in_background(start_delay=3600)
        assert scheduler_module.start_in_background(start_delay=3600) is first
    finally:
        scheduler_module.stop_background()


def test_nothing_starts_a_scheduler_in_the_test_suite():
    """Neither importing the apps nor the settings start one: only runplatform's serving process does."""
    assert scheduler_module._running is None


def test_make_run_serves_with_runplatform():
    assert get_commands()["runplatform"] == "payplug"
    makefile = (settings.BASE_DIR / "Makefile").read_text()
    run_target = makefile.split("\nrun:", 1)[1].split("\n\n", 1)[0]
    assert "manage.py runplatform" in run_target
    assert "manage.py runserver" not in run_target


@pytest.mark.parametrize("eager", [True, False])
def test_runplatform_starts_the_scheduler_only_without_a_broker(monkeypatch, eager):
    started = []
    monkeypatch.setattr(runplatform.scheduler, "start_in_background", lambda: started.append(True))
    monkeypatch.setattr(runplatform, "is_eager", lambda: eager)
    monkeypatch.setattr(runplatform.RunserverCommand, "inner_run", lambda self, *args, **options: None)
    command = runplatform.Command()
    command.inner_run(None, scheduler=True)
    assert started == ([True] if eager else [])
    started.clear()
    command.inner_run(None, scheduler=False)
    assert started == []
