"""docs/api/subscriptions.md says what the API does: its object example has the real shape, its
tables list the real fields, statuses and figures. (Its curl examples are sent to the API by
tests/docs like every page's.)"""

from __future__ import annotations

import json
import re

import pytest

from payments import recurring, subscriptions
from payments.api.subscriptions import SubscriptionCreateSerializer
from payments.models import Subscription
from tests.docs.pages import code_blocks, normalized, page, section, table_rows
from tests.docs.test_docs_facts import assert_same_shape

from .test_subscriptions_api import active_subscription

PAGE = "api/subscriptions.md"


def object_example() -> dict:
    blocks = [json.loads(block) for block in code_blocks(page(PAGE), "json")]
    examples = [block for block in blocks if block.get("object") == "subscription"]
    assert len(examples) == 1, "one subscription object example"
    return examples[0]


@pytest.mark.django_db
def test_the_object_example_has_the_shape_of_a_real_subscription(api):
    real = active_subscription(api)

    assert_same_shape(object_example(), real, f"docs/{PAGE}: subscription")


def test_the_create_table_lists_exactly_the_body_s_fields():
    rows = table_rows(section(page(PAGE), "Create a subscription"))
    documented = {re.sub(r"`", "", cells[0]) for cells in rows}

    assert documented == set(SubscriptionCreateSerializer().fields)


def test_the_statuses_and_the_cancelers_are_the_model_s():
    text = normalized(page(PAGE))
    status_row = next(cells for cells in table_rows(page(PAGE)) if cells[0] == "`status`")
    canceler_row = next(cells for cells in table_rows(page(PAGE)) if cells[0] == "`canceled_by`")

    named = set(re.findall(r"`(\w+)`", status_row[1])) - {"end_date", "max_charges"}
    assert named == set(Subscription.Status.values)
    assert set(re.findall(r"`(\w+)`", canceler_row[1])) == set(Subscription.CanceledBy.values)
    assert "400 subscription_not_active" in text and "400 subscription_not_paused" in text


def test_the_figures_are_the_engine_s():
    months, years = (subscriptions.MAX_INTERVAL_COUNT[unit] for unit in ("month", "year"))
    create = normalized(section(page(PAGE), "Create a subscription"))
    what_next = normalized(section(page(PAGE), "What happens next"))

    assert f"1 (the default) to {months} for months, 1 to {years} for years" in create
    assert f"today (the default) to {subscriptions.MAX_START_DAYS_AHEAD} days ahead" in create
    assert "| `max_charges` | integer | 1 to 1200;" in page(PAGE)
    first, second, third = recurring.RETRY_AFTER_DAYS
    assert f"retried {first}, {second} and {third} days after the first decline" in what_next


@pytest.mark.django_db
def test_max_charges_stops_at_the_documented_figure(api):
    body_ok = api.post(
        "/v1/subscriptions",
        {
            "amount": 1000,
            "currency": "EUR",
            "interval": "month",
            "max_charges": 1200,
            "billing": {"email": "a@example.org"},
            "hosted_payment": {"return_url": "https://asso.example.org/ok"},
        },
    )
    too_many = api.post(
        "/v1/subscriptions",
        {
            "amount": 1000,
            "currency": "EUR",
            "interval": "month",
            "max_charges": 1201,
            "billing": {"email": "a@example.org"},
            "hosted_payment": {"return_url": "https://asso.example.org/ok"},
        },
    )

    assert body_ok.status_code == 201 and too_many.status_code == 400
    assert set(too_many.json()["details"]) == {"max_charges"}
