"""Publishes a burst of events the way payments does, from its own process (redis-marked tests).

    python -m tests.notifications.e2e_publisher COUNT INTERVAL IPN_URL [WEBHOOK_URL]

Prints one JSON line per event published: {"event": "evt_...", "object": "pay_..."}.
"""

import json
import sys
import time

import django


def main(count: int, interval: float, ipn_url: str, webhook_url: str | None) -> None:
    django.setup()
    from django.db import transaction

    from merchants.models import Merchant
    from notifications import services
    from notifications.models import WebhookEndpoint
    from payplug.ids import new_id
    from tests import factories

    merchant = Merchant.objects.filter(name="E2E Shop").first() or factories.merchant("E2E Shop")
    if webhook_url and not WebhookEndpoint.objects.filter(merchant=merchant, url=webhook_url).exists():
        services.create_endpoint(merchant, False, url=webhook_url, event_types=["payment.paid"])
    for _ in range(count):
        object_id = new_id("pay")
        with transaction.atomic():
            event = services.publish(
                merchant=merchant,
                is_live=False,
                type="payment.paid",
                object_type="payment",
                object_id=object_id,
                payload={"id": object_id, "object": "payment", "is_live": False, "amount": 1000},
                ipn_url=ipn_url,
            )
        print(json.dumps({"event": event.public_id, "object": object_id}), flush=True)
        time.sleep(interval)


if __name__ == "__main__":
    main(int(sys.argv[1]), float(sys.argv[2]), sys.argv[3], sys.argv[4] if len(sys.argv) > 4 else None)
