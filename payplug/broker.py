"""The Redis broker transport of the Celery processes: kombu's, plus one check.

Celery 5.7.0 and kombu 5.7.0 crash a worker ("Unrecoverable error: AttributeError: 'NoneType'
object has no attribute 'hostname'") when Redis goes away while messages are in flight. On a lost
connection the consumer calls `connection.collect()`, which releases the transport
(`transport.client = None`) even when closing a channel failed half-way (a BRPOP was on the
wire, the remote-control fanout queue could not be deleted). Anything that then touches such a
channel builds a Redis pool from `transport.client` and raises AttributeError where kombu and
Celery only expect connection errors:

- the consumer's own second `connection.close()`, restoring unacknowledged messages;
- a task that finishes after the reconnection and acknowledges its message on the old channel.

Either way the worker exits and consumes nothing more (tests/payplug/test_broker.py reproduces
both). Here a channel whose transport was released raises the connection error it really is:
the close is ignored and the acknowledgement logged as failed, as for any broker outage. The
message stays in the broker's unacked index and is handed out again after the visibility
timeout, and every task of the platform is idempotent (at least once, decided once).
"""

from kombu.transport import redis
from redis.exceptions import ConnectionError as RedisConnectionError


class Channel(redis.Channel):
    def _connparams(self, asynchronous=False):
        if self.connection is None or self.connection.client is None:
            raise RedisConnectionError("this channel's broker connection was closed")
        return super()._connparams(asynchronous=asynchronous)


class Transport(redis.Transport):
    Channel = Channel
