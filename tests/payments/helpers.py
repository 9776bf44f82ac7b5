"""Helpers to drive payments through the API and the hosted page in tests."""

import re
import threading

from django.db import connections
from django.test import Client

BILLING = {
    "first_name": "Jeanne",
    "last_name": "Martin",
    "email": "jeanne@example.org",
    "country": "FR",
    "language": "fr",
}


def payment_body(**overrides):
    body = {
        "amount": 3300,
        "currency": "EUR",
        "billing": dict(BILLING),
        "hosted_payment": {"return_url": "https://shop.example.org/ok", "cancel_url": "https://shop.example.org/ko"},
        "notification_url": "https://shop.example.org/ipn",
        "metadata": {"order_id": "42"},
    }
    body.update(overrides)
    return body


def create_payment(api, **overrides):
    response = api.post("/v1/payments", payment_body(**overrides))
    assert response.status_code == 201, response.content
    return response.json()


def hosted_path(payment: dict) -> str:
    return re.sub(r"^https?://[^/]+", "", payment["hosted_payment"]["payment_url"])


def pay(payment: dict, number="4242 4242 4242 4242", expiry="12/34", cvc="123", client=None, **extra):
    """Submit the hosted form; returns the final response after following redirects."""
    client = client or Client()
    path = hosted_path(payment)
    client.get(path)
    data = {"cardholder": "Jeanne Martin", "number": number, "expiry": expiry, "cvc": cvc, **extra}
    return client.post(path, data, follow=True)


def answer_3ds(payment: dict, outcome: str, client=None):
    client = client or Client()
    return client.post(hosted_path(payment) + "3ds/", {"outcome": outcome}, follow=True)


def race(n, work):
    """Run `work(index)` in n threads released together; each thread has its own DB connection.

    Returns (results, errors), one slot per thread.
    """
    barrier = threading.Barrier(n)
    results, errors = [None] * n, [None] * n

    def run(index):
        try:
            barrier.wait()
            results[index] = work(index)
        except Exception as exc:  # collected and asserted on by the caller
            errors[index] = exc
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return results, errors
