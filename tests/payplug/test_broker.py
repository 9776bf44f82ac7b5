"""A worker survives losing its Redis broker with messages in flight (payplug/broker.py).

The state is the one a real worker is in when Redis dies: a BRPOP waiting on the socket, one
message delivered and not acknowledged (acks_late), and the remote-control (pidbox) fanout queue
consumed on the same channel. Then Redis is killed and Celery's consumer runs its connection-loss
handler. Each case runs on kombu's own transport too, to prove the reproduction is faithful: if
those stop failing, a kombu or Celery release fixed it and payplug/broker.py can go.
"""

import contextlib
import logging
import shutil
import socket
import subprocess
import time
from unittest import mock

import pytest
from celery.worker.consumer import Consumer as CeleryConsumer
from django.conf import settings
from kombu import Connection, Consumer, Exchange, Producer, Queue
from kombu.common import ignore_errors

from payplug.celery import app

pytestmark = pytest.mark.redis

OURS, KOMBUS = "payplug.broker:Transport", "redis"


@pytest.fixture
def broker(tmp_path):
    if shutil.which("redis-server") is None:
        pytest.fail("redis-server is not installed (apt-get install redis-server)")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    command = ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
    process = subprocess.Popen(
        [*command, "--dir", str(tmp_path)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 10
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            break
        except OSError:
            assert time.monotonic() < deadline, "redis-server did not start"
            time.sleep(0.05)
    yield process, f"redis://127.0.0.1:{port}/0"
    process.kill()
    process.wait(10)


@pytest.fixture(autouse=True)
def _no_restore_at_exit():
    """kombu restores a channel's unacknowledged messages at interpreter exit; these channels'
    broker is gone, so that would only print connection errors after the run."""
    yield
    for channel in CHANNELS:
        channel.qos._on_collect.cancel()
    CHANNELS.clear()


CHANNELS = []


def lost_mid_poll(broker, transport: str):
    """A connection whose broker died while it waited on BRPOP, and its unacknowledged message."""
    process, url = broker
    connection = Connection(url, transport=transport)
    channel = connection.default_channel
    CHANNELS.append(channel)
    tasks = Queue("celery", routing_key="celery")
    pidbox = Queue("worker.pidbox", Exchange("celery.pidbox", type="fanout"), auto_delete=True)
    Producer(channel).publish({"task": "x"}, routing_key="celery", declare=[tasks])
    received = []
    Consumer(channel, [tasks, pidbox], callbacks=[lambda body, message: received.append(message)]).consume()
    connection.drain_events(timeout=5)
    assert len(received) == 1 and len(channel.qos._delivered) == 1  # delivered, not acknowledged
    channel._brpop_start()  # the next BRPOP is on the wire
    process.kill()
    process.wait(10)
    return connection, received[0]


def celery_consumer(connection: Connection) -> CeleryConsumer:
    consumer = CeleryConsumer(
        on_task_request=mock.Mock(),
        hostname="t@broker",
        pool=mock.Mock(num_processes=2),
        app=app,
        timer=mock.Mock(),
        hub=None,
        controller=mock.Mock(),
    )
    consumer.connection = connection
    return consumer


def test_kombus_transport_crashes_the_consumer_on_this_loss(broker):
    connection, _ = lost_mid_poll(broker, KOMBUS)

    with pytest.raises(AttributeError, match="hostname"):
        celery_consumer(connection).on_connection_error_after_connected(ConnectionError("lost"))


def test_ours_lets_the_consumer_drop_the_connection_and_reconnect(broker):
    connection, _ = lost_mid_poll(broker, OURS)
    consumer = celery_consumer(connection)

    consumer.on_connection_error_after_connected(ConnectionError("lost"))

    assert consumer.connection is None  # released; Celery's consumer loop reconnects next


@pytest.mark.parametrize("transport", [KOMBUS, OURS])
def test_a_task_acknowledging_on_the_lost_connection(broker, transport, caplog):
    connection, message = lost_mid_poll(broker, transport)
    # what Celery's consumer does on a lost connection (kombu's transport already crashes in the
    # close, the test above; a worker that survived it would crash here)
    connection.collect(socket_timeout=1)
    with contextlib.suppress(AttributeError):
        ignore_errors(connection, connection.close)
    errors = connection.connection_errors + connection.channel_errors
    logger = logging.getLogger("celery.worker.request")

    if transport == KOMBUS:
        with pytest.raises(AttributeError, match="hostname"):
            message.ack_log_error(logger, errors)
    else:
        message.ack_log_error(logger, errors)  # logged; the message comes back after the visibility timeout
        assert "Couldn't ack" in caplog.text


def test_a_live_connection_works_as_kombus(broker):
    _, url = broker
    with Connection(url, transport=OURS) as connection:
        queue = connection.SimpleQueue("plain")
        queue.put({"n": 1})
        message = queue.get(timeout=5)
        message.ack()
        assert message.payload == {"n": 1}
        queue.close()


def test_the_celery_processes_use_it_for_a_redis_broker():
    assert settings.CELERY_BROKER_URL.startswith("redis://")
    assert app.conf.broker_transport == OURS
    with app.connection_for_write() as connection:
        assert type(connection.transport).__module__ == "payplug.broker"
