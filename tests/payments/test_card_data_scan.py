"""After full payment flows, no full card number and no security code is anywhere: every table,
the captured logs, the Celery messages (issue 3, item 6)."""

import json
import logging
import re
from unittest import mock

import pytest
from celery.app.task import Task
from django.apps import apps
from django.db import connection

from payments import services, vault
from payments.models import Card

from .helpers import answer_3ds, create_payment, pay

pytestmark = pytest.mark.django_db

CARDS = ["4242424242424242", "4000002500003155", "4000000000000002", "5555555555554444", "4000000000000077"]
CVC = "917"


def all_rows_as_text():
    """Every column of every table, read with raw SQL (nothing the ORM could hide), but the row
    ids and the keys to other rows: sequence numbers that may reach 917 after enough tests."""
    chunks = []
    with connection.cursor() as cursor:
        for model in apps.get_models(include_auto_created=True):
            table = model._meta.db_table
            cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")
            names = [column[0] for column in cursor.description]
            for row in cursor.fetchall():
                for name, value in zip(names, row, strict=True):
                    if isinstance(value, int) and (name == "id" or name.endswith("_id")):
                        continue
                    if isinstance(value, (bytes, bytearray, memoryview)):
                        value = bytes(value).decode("latin-1")
                    chunks.append(f"{table}:{value}")
    return "\n".join(chunks)


def test_no_card_number_or_security_code_is_stored_logged_or_queued(api, caplog):
    published = []
    original = Task.apply_async

    def spy(self, args=None, kwargs=None, **options):
        published.append(json.dumps({"task": self.name, "args": args, "kwargs": kwargs}, default=str))
        return original(self, args, kwargs, **options)

    caplog.set_level(logging.DEBUG)
    with mock.patch.object(Task, "apply_async", spy):
        for number in CARDS:
            payment = create_payment(api, save_card=True)
            pay(payment, number=" ".join(number[i : i + 4] for i in range(0, 16, 4)), cvc=CVC)
            if number == "4000002500003155":
                answer_3ds(payment, "approve")
        services.reconcile_pending(older_than_seconds=-1)
        card = api.get(f"/v1/payments/{payment['id']}").json()["card"]
        assert card["last4"] == "0077"
        one_click = next(p for p in api.get("/v1/payments").json()["data"] if p["card"]["id"])
        create_payment(api, payment_method=one_click["card"]["id"], initiator="PAYER")

    assert published, "the flows published Celery tasks"
    database = all_rows_as_text()
    logs = "\n".join(record.getMessage() for record in caplog.records) + caplog.text
    messages = "\n".join(published)
    for number in CARDS:
        for haystack, where in ((database, "database"), (logs, "logs"), (messages, "celery messages")):
            assert number not in haystack, f"{number} found in {where}"
            assert " ".join(number[i : i + 4] for i in range(0, 16, 4)) not in haystack, where
    # The CVC is three digits: it may appear inside random ids and uuids, never as a value of its own.
    standalone_cvc = re.compile(rf"(?<![0-9A-Za-z]){CVC}(?![0-9A-Za-z])")
    for haystack, where in ((logs, "logs"), (messages, "celery messages")):
        assert not standalone_cvc.search(haystack), f"the CVC found in {where}"
    # The CVC may appear by chance inside random ids; it must never be a value or a JSON field of its own.
    assert f":{CVC}\n" not in database + "\n"
    assert '"cvc"' not in database and '"csc"' not in database
    # And the vault really holds the numbers, encrypted: they come back out.
    saved = Card.objects.first()
    assert vault.reveal(saved.vault_entry) in CARDS
