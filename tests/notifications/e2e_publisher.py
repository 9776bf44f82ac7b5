"""Publishes a burst of events the way payments does, from its own process (redis-marked tests).

    python -m tests.notifications.e2e_publisher COUNT INTERVAL IPN_URL [WEBHOOK_URL]

Prints one JSON line per event published: {"event": "evt_...", "object": "pay_..."}.
"""

import sys

import django


def main(count: int, interval: float, ipn_url: str, webhook_url: str | None) -> None:
    django.setup()
    from tests.notifications.helpers import publish_burst  # noqa: PLC0415  it imports models: only after django.setup()

    publish_burst(count, interval, ipn_url, webhook_url)


if __name__ == "__main__":
    main(int(sys.argv[1]), float(sys.argv[2]), sys.argv[3], sys.argv[4] if len(sys.argv) > 4 else None)
