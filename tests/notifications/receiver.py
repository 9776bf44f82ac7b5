"""A loopback HTTP receiver for notification tests: records every request, answers from a plan."""

from __future__ import annotations

import socket
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    at: float

    def header(self, name: str) -> str | None:
        for key, value in self.headers.items():
            if key.lower() == name.lower():
                return value
        return None


@dataclass
class Answer:
    status: int = 200
    body: bytes = b'{"received": true}'
    headers: dict[str, str] = field(default_factory=dict)


class Receiver:
    """`Receiver().start()`; `fail(3)` makes the next three requests answer 500, then 200s."""

    def __init__(self, host: str = "127.0.0.1"):
        self.host = host
        self.received: list[Received] = []
        self.plan: deque[Answer] = deque()
        self.default = Answer()
        self.hold = threading.Event()  # set: requests wait until released
        self.released = threading.Event()
        self.arrived = threading.Event()
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None

    # --- behaviour ---------------------------------------------------------------------------
    def fail(self, times: int, status: int = 500) -> Receiver:
        for _ in range(times):
            self.plan.append(Answer(status=status, body=b"boom"))
        return self

    def answer(self, status: int, body: bytes = b"", **headers) -> Receiver:
        self.plan.append(Answer(status=status, body=body, headers=headers))
        return self

    # --- life --------------------------------------------------------------------------------
    def start(self) -> Receiver:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                with receiver._lock:
                    receiver.received.append(Received(self.path, dict(self.headers.items()), body, time.time()))
                    answer = receiver.plan.popleft() if receiver.plan else receiver.default
                receiver.arrived.set()
                if receiver.hold.is_set():
                    receiver.released.wait(30)
                self.send_response(answer.status)
                for name, value in answer.headers.items():
                    self.send_header(name.replace("_", "-"), value)
                self.send_header("Content-Length", str(len(answer.body)))
                self.end_headers()
                self.wfile.write(answer.body)

            def log_message(self, format, *args):
                return

        server_class = ThreadingHTTPServer
        if ":" in self.host:
            server_class = type("ThreadingHTTPServerV6", (ThreadingHTTPServer,), {"address_family": socket.AF_INET6})
        self._server = server_class((self.host, 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        return self

    def stop(self) -> None:
        self.released.set()
        if self._server:
            self._server.shutdown()
            self._server.server_close()

    @property
    def port(self) -> int:
        return self._server.server_address[1]

    def url(self, path: str = "/ipn") -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}{path}"

    def wait_for(self, count: int, timeout: float = 10) -> bool:
        deadline = time.time() + timeout
        while time.time() < deadline:
            if len(self.received) >= count:
                return True
            time.sleep(0.02)
        return len(self.received) >= count
