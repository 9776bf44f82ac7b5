import socket

import pytest

from payplug.celery import app

from .receiver import Receiver


@pytest.fixture(autouse=True)
def _in_process_tasks(request):
    """Tasks run in-process in these tests, even when REDIS_URL configures a broker; the tests
    marked `redis` drive a real worker instead."""
    if request.node.get_closest_marker("redis"):
        yield
        return
    previous = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = previous


@pytest.fixture
def receiver():
    server = Receiver().start()
    yield server
    server.stop()


@pytest.fixture
def allow_private(settings, receiver):
    """Test mode may deliver to the loopback receiver (what `make run` turns on: private networks,
    and loopback on the listed ports only, here the receiver's; issue 12, finding 10)."""
    settings.NOTIFICATIONS_ALLOW_PRIVATE_NETWORKS = True
    settings.NOTIFICATIONS_ALLOWED_LOOPBACK_PORTS = [receiver.port]


class FakeDns:
    """socket.getaddrinfo answering from a table for the names the test chose; addresses and
    other names go to the real resolver (which never touches the network for an address)."""

    def __init__(self, real):
        self.real = real
        self.table: dict[str, list[list[str]]] = {}
        self.lookups: list[str] = []

    def add(self, name: str, *answers: str | list[str]) -> None:
        # Each answer is the address list of one lookup; the last one repeats.
        self.table[name] = [[a] if isinstance(a, str) else list(a) for a in answers]

    def __call__(self, host, port, family=0, type=0, proto=0, flags=0):
        if isinstance(host, bytes):
            host = host.decode()
        if host in self.table:
            self.lookups.append(host)
            answers = self.table[host]
            addresses = answers.pop(0) if len(answers) > 1 else answers[0]
            result = []
            for address in addresses:
                if ":" in address:
                    result.append((socket.AF_INET6, socket.SOCK_STREAM, 6, "", (address, port, 0, 0)))
                else:
                    result.append((socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, port)))
            return result
        return self.real(host, port, family, type, proto, flags)


@pytest.fixture
def fake_dns(monkeypatch):
    dns = FakeDns(socket.getaddrinfo)
    monkeypatch.setattr(socket, "getaddrinfo", dns)
    return dns
