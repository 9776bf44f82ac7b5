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

This file only reads the command line and runs the benchmarks one after the other: each is a
module of bench/benchmarks/ with a function `run(ctx: Context) -> dict` (and optionally
NAME = "<name>", TIME_LIMIT = seconds), found there by itself. `ctx` (bench/harness.py) gives
the database, the gunicorn server, the load generator, the environment and the result writer;
see bench/README.md.
"""

from __future__ import annotations

import argparse
import importlib
import os
import pkgutil
import signal
import subprocess
import sys
import tempfile
import traceback
from pathlib import Path
from types import ModuleType

# Run as a script, Python puts bench/ on the path, not the project: `bench.*` needs the project.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

# Both import only the standard library at their top: usable before ensure_venv() re-executes with .venv.
from bench import benchmarks
from bench.harness import DEFAULT_DATABASE_URL, ROOT, BenchError, Context, Options, Processes, log

VENV_PYTHON = ROOT / ".venv" / "bin" / "python"
# For a benchmark module that sets no TIME_LIMIT of its own.
DEFAULT_TIME_LIMIT = 3600.0


class TimeLimit(BaseException):
    """Raised by SIGALRM when a benchmark's time limit runs out (a BaseException: nothing swallows it)."""


def ensure_venv() -> None:
    """Run under the project's virtualenv: `python3 bench/run.py` works as well as `make bench`."""
    if Path(sys.prefix).resolve() == (ROOT / ".venv").resolve():
        return
    if not VENV_PYTHON.exists():
        log("no .venv yet: running `make install`")
        subprocess.run(["make", "install"], cwd=ROOT, check=True)
    os.execv(str(VENV_PYTHON), [str(VENV_PYTHON), str(Path(__file__).resolve()), *sys.argv[1:]])


def discover() -> dict[str, ModuleType]:
    """Every module of bench/benchmarks/ that defines run(ctx), by its NAME (default: the module's name).

    Imported by name once the virtualenv runs: the benchmarks use its packages at their top.
    """
    found: dict[str, ModuleType] = {}
    for info in sorted(pkgutil.iter_modules(benchmarks.__path__), key=lambda info: info.name):
        module = importlib.import_module(f"{benchmarks.__name__}.{info.name}")
        if callable(getattr(module, "run", None)):
            found.setdefault(getattr(module, "NAME", info.name), module)
    return found


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
    modules = discover()
    if args.list:
        print("\n".join(f"{name}: {(mod.run.__doc__ or '').strip().splitlines()[0]}" for name, mod in modules.items()))
        return 0
    names = options.names or list(modules)
    unknown = [name for name in names if name not in modules]
    if unknown:
        log(f"unknown benchmark(s) {', '.join(unknown)}; known: {', '.join(modules)}")
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
                return modules["api"].serve(ctx)
            for name in names:
                limit = options.time_limit or float(getattr(modules[name], "TIME_LIMIT", DEFAULT_TIME_LIMIT))
                log(f"=== {name} (time limit {limit:g} s) ===")
                signal.setitimer(signal.ITIMER_REAL, limit)
                try:
                    modules[name].run(ctx)
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


if __name__ == "__main__":
    sys.exit(main())
