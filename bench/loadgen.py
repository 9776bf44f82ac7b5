#!/usr/bin/env python3
"""HTTP/1.1 load generator of the benchmarks; standard library only, one process, asyncio.

Runs in its own process (never inside the server under test) and prints one JSON object.

    loadgen.py run --url http://127.0.0.1:8000 --path /v1/payments --method POST \
        --body-file body.json --header 'Authorization: Bearer sk_test_...' --expect 201 \
        (--connections 16 | --rate 100) --duration 20

Two ways to load a server:

* closed loop (`--connections N`): N connections, each sends its next request as soon as
  the previous answer arrived. Gives the maximum throughput; latency then is mostly queueing.
* open loop (`--rate R`): requests start on a fixed schedule (one every 1/R s) whatever the
  server does, each on an idle connection (a new one when none is idle). Latency is measured
  from the *scheduled* start, so a stalled server cannot hide its stall by slowing the
  generator down (no coordinated omission).

Connections are kept alive when the server allows it; on `Connection: close` (gunicorn's sync
workers) the next request opens a new connection, and its connect time counts in its latency.
`--paths-file` gives one path per line (e.g. /v1/payments/pay_...), picked at random.

`loadgen.py serve [--port P]` starts a trivial HTTP server (fixed answer, keep-alive) to
measure the generator's own ceiling: the rate it reaches there is the most it can drive.
"""

from __future__ import annotations

import argparse
import array
import asyncio
import json
import math
import random
import resource
import socket
import sys
import threading
import time
from urllib.parse import urlsplit

MAX_OPEN_LOOP_CONNECTIONS = 256


def percentile(sorted_values: list[float], fraction: float) -> float | None:
    """Nearest-rank percentile of an already sorted list."""
    if not sorted_values:
        return None
    rank = max(1, math.ceil(fraction * len(sorted_values)))
    return sorted_values[min(rank, len(sorted_values)) - 1]


def summarize_ms(values: list[float]) -> dict:
    values = sorted(values)
    if not values:
        return {"count": 0}
    return {
        "count": len(values),
        "mean": round(sum(values) / len(values) * 1000, 3),
        "p50": round(percentile(values, 0.50) * 1000, 3),
        "p90": round(percentile(values, 0.90) * 1000, 3),
        "p99": round(percentile(values, 0.99) * 1000, 3),
        "p999": round(percentile(values, 0.999) * 1000, 3),
        "max": round(values[-1] * 1000, 3),
    }


class Connection:
    """One HTTP/1.1 connection: send a prepared request, read one response."""

    def __init__(self, host: str, port: int):
        self.host, self.port = host, port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def ensure_open(self, gen) -> None:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
            sock = self.writer.get_extra_info("socket")
            if sock is not None:
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            gen.connects += 1

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None

    async def request(self, payload: bytes, gen) -> int:
        """Send one request; return the status code. Raises OSError/IncompleteReadError on failure."""
        await self.ensure_open(gen)
        self.writer.write(payload)
        head = await self.reader.readuntil(b"\r\n\r\n")
        lines = head.split(b"\r\n")
        status = int(lines[0].split(b" ", 2)[1])
        length, chunked, close = None, False, False
        for line in lines[1:]:
            name, _, value = line.partition(b":")
            name = name.strip().lower()
            if name == b"content-length":
                length = int(value)
            elif name == b"transfer-encoding" and b"chunked" in value.lower():
                chunked = True
            elif name == b"connection" and value.strip().lower() == b"close":
                close = True
        if chunked:
            while True:
                size = int((await self.reader.readuntil(b"\r\n")).split(b";")[0], 16)
                await self.reader.readexactly(size + 2)
                if size == 0:
                    break
        elif length is not None:
            await self.reader.readexactly(length)
        else:  # body until the server closes
            await self.reader.read()
            close = True
        if close:
            self.close()
        return status


class LoadGenerator:
    def __init__(self, args):
        url = urlsplit(args.url)
        self.host, self.port = url.hostname, url.port or 80
        body = b""
        if args.body_file:
            with open(args.body_file, "rb") as handle:
                body = handle.read()
        paths = [args.path]
        if args.paths_file:
            with open(args.paths_file) as handle:
                paths = [line.strip() for line in handle if line.strip()]
        headers = "".join(f"{header}\r\n" for header in args.header)
        if body:
            headers += f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
        self.payloads = [
            (
                f"{args.method} {path} HTTP/1.1\r\nHost: {self.host}:{self.port}\r\n"
                f"User-Agent: payplatform-bench\r\nAccept: application/json\r\n{headers}\r\n"
            ).encode()
            + body
            for path in paths
        ]
        self.args = args
        self.expect = set(args.expect)
        self.connects = 0
        self.late_starts = 0
        self.latencies: list[float] = []  # from the (scheduled) start to the last byte
        self.service_times: list[float] = []  # from the actual send to the last byte
        self.statuses: dict[str, int] = {}
        self.errors: dict[str, int] = {}
        self.start = self.end = 0.0  # the measured window (perf_counter)

    def payload(self) -> bytes:
        return self.payloads[0] if len(self.payloads) == 1 else random.choice(self.payloads)

    def _count(self, table: dict, key: str) -> None:
        table[key] = table.get(key, 0) + 1

    def record(self, scheduled: float, sent: float, done: float, status: int | None, error: str | None) -> None:
        if scheduled < self.start:
            return
        # Closed loop: only what completed inside the window. Open loop: every scheduled request,
        # however late its answer (a slow answer is exactly what it measures).
        if not self.args.rate and done > self.end:
            return
        if error is not None:
            self._count(self.errors, error)
            return
        self._count(self.statuses, str(status))
        if status in self.expect:
            self.latencies.append(done - scheduled)
            self.service_times.append(done - sent)
        else:
            self._count(self.errors, f"status_{status}")

    async def one(self, conn: Connection, scheduled: float) -> bool:
        sent = time.perf_counter()
        try:
            status = await asyncio.wait_for(conn.request(self.payload(), self), self.args.timeout)
        except (OSError, EOFError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, ValueError) as exc:
            conn.close()
            self.record(scheduled, sent, time.perf_counter(), None, type(exc).__name__)
            return False
        except TimeoutError:
            conn.close()
            self.record(scheduled, sent, time.perf_counter(), None, "timeout")
            return False
        self.record(scheduled, sent, time.perf_counter(), status, None)
        return True

    async def closed_loop(self) -> None:
        async def client():
            conn = Connection(self.host, self.port)
            while time.perf_counter() < self.end:
                if not await self.one(conn, time.perf_counter()):
                    await asyncio.sleep(0.01)  # do not spin on a refused connection
            conn.close()

        await asyncio.gather(*(client() for _ in range(self.args.connections)))

    async def open_loop(self) -> None:
        # The schedule is kept by a thread: time.sleep() wakes up within tens of microseconds,
        # where the event loop's timers round up to the millisecond. The thread only hands each
        # start over to the event loop, which does all the I/O.
        loop = asyncio.get_running_loop()
        interval = 1.0 / self.args.rate
        idle: list[Connection] = []
        tasks: set[asyncio.Task] = set()
        scheduled_all = asyncio.Event()
        in_flight = 0

        async def fire(scheduled: float):
            nonlocal in_flight
            conn = idle.pop() if idle else Connection(self.host, self.port)
            in_flight += 1
            try:
                await self.one(conn, scheduled)
            finally:
                in_flight -= 1
                idle.append(conn)

        def start(scheduled: float):
            if time.perf_counter() - scheduled > 0.002:
                self.late_starts += 1
            if in_flight >= MAX_OPEN_LOOP_CONNECTIONS:
                self.record(scheduled, scheduled, scheduled, None, "generator_saturated")
                return
            task = asyncio.ensure_future(fire(scheduled))
            tasks.add(task)
            task.add_done_callback(tasks.discard)

        def schedule():
            index = 0
            while (scheduled := self.start + index * interval) < self.end:
                delay = scheduled - time.perf_counter()
                if delay > 0:
                    time.sleep(delay)
                loop.call_soon_threadsafe(start, scheduled)
                index += 1
            loop.call_soon_threadsafe(scheduled_all.set)

        thread = threading.Thread(target=schedule, name="schedule", daemon=True)
        thread.start()
        await scheduled_all.wait()
        thread.join()
        await asyncio.sleep(0)  # let the last start() run
        if tasks:
            await asyncio.wait(set(tasks), timeout=self.args.timeout + 1)
        for conn in idle:
            conn.close()

    async def run(self) -> dict:
        self.start = time.perf_counter() + 0.02
        self.end = self.start + self.args.duration
        cpu0, wall0 = time.process_time(), time.perf_counter()
        await (self.open_loop() if self.args.rate else self.closed_loop())
        cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
        ok = len(self.latencies)
        failed = sum(self.errors.values())
        return {
            "mode": "open" if self.args.rate else "closed",
            "method": self.args.method,
            "path": self.args.path if not self.args.paths_file else f"one of {len(self.payloads)} paths",
            "connections": None if self.args.rate else self.args.connections,
            "target_rate_rps": self.args.rate or None,
            "duration_s": self.args.duration,
            "requests": ok + failed,
            "ok": ok,
            "errors": self.errors,
            "statuses": self.statuses,
            "throughput_rps": round(ok / self.args.duration, 1),
            "latency_ms": summarize_ms(self.latencies),
            "service_time_ms": summarize_ms(self.service_times),
            "tcp_connects": self.connects,
            "generator": {
                "cpu_s": round(cpu, 3),
                "cpu_percent_of_one_core": round(100 * cpu / max(wall, 1e-9), 1),
                "cpu_us_per_request": round(1e6 * cpu / max(ok + failed, 1), 1),
                "late_starts": self.late_starts if self.args.rate else None,
                "max_rss_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
            },
        }


# --- the trivial server of the ceiling measurement ------------------------------------------------


class TrivialHttp(asyncio.Protocol):
    """Answers every request with a fixed 200 (bodies are skipped); keeps the connection open,
    or closes it after each answer like gunicorn's sync workers when `close` is set."""

    ANSWER = b'HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 11\r\n\r\n{"ok":true}'
    ANSWER_CLOSE = ANSWER.replace(b"\r\n\r\n", b"\r\nConnection: close\r\n\r\n", 1)
    close = False

    def connection_made(self, transport):
        self.transport = transport
        self.buffer = b""
        sock = transport.get_extra_info("socket")
        if sock is not None:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def data_received(self, data):
        self.buffer += data
        answers = 0
        while True:
            end = self.buffer.find(b"\r\n\r\n")
            if end < 0:
                break
            head = self.buffer[:end].lower()
            length = 0
            at = head.find(b"\r\ncontent-length:")
            if at >= 0:
                length = int(head[at + 17 :].split(b"\r\n", 1)[0])
            if len(self.buffer) < end + 4 + length:
                break
            self.buffer = self.buffer[end + 4 + length :]
            answers += 1
        if answers and self.close:
            self.transport.write(self.ANSWER_CLOSE)
            self.transport.close()
        elif answers:
            self.transport.write(self.ANSWER * answers)


async def serve(port: int, lifetime: float, close: bool) -> None:
    loop = asyncio.get_running_loop()
    protocol = type("Trivial", (TrivialHttp,), {"close": close})
    server = await loop.create_server(protocol, "127.0.0.1", port, backlog=1024)
    print(server.sockets[0].getsockname()[1], flush=True)
    await asyncio.sleep(lifetime)  # bounded: stops by itself
    server.close()


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="load a server and print the figures as JSON")
    run.add_argument("--url", required=True, help="http://host:port (plain HTTP)")
    run.add_argument("--path", default="/")
    run.add_argument("--paths-file", help="one path per line, picked at random for each request")
    run.add_argument("--method", default="GET")
    run.add_argument("--body-file")
    run.add_argument("--header", action="append", default=[], help="'Name: value', repeatable")
    run.add_argument("--expect", type=int, action="append", default=None, help="expected status (default 200)")
    mode = run.add_mutually_exclusive_group(required=True)
    mode.add_argument("--connections", type=int, help="closed loop with this many connections")
    mode.add_argument("--rate", type=float, help="open loop at this many requests per second")
    run.add_argument("--duration", type=float, default=20.0, help="measured seconds")
    run.add_argument("--timeout", type=float, default=10.0, help="per-request timeout, seconds")
    run.add_argument("--json-out", help="also write the result to this file")
    run.add_argument("--samples-out", help="write every latency (seconds, float64 array) to this file")
    srv = sub.add_parser("serve", help="a trivial HTTP server for the generator's ceiling")
    srv.add_argument("--port", type=int, default=0)
    srv.add_argument("--lifetime", type=float, default=120.0, help="seconds before it stops by itself")
    srv.add_argument("--close", action="store_true", help="close the connection after each answer")
    args = parser.parse_args(argv)

    if args.command == "serve":
        asyncio.run(serve(args.port, args.lifetime, args.close))
        return 0
    args.expect = args.expect or [200]
    args.rate = args.rate or 0
    generator = LoadGenerator(args)
    result = asyncio.run(generator.run())
    if args.samples_out:
        with open(args.samples_out, "wb") as handle:
            handle.write(array.array("d", generator.latencies).tobytes())
    text = json.dumps(result)
    if args.json_out:
        with open(args.json_out, "w") as handle:
            handle.write(text + "\n")
    print(text, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
