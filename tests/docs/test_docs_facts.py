"""No page may contradict the code: every figure or default the documentation quotes is checked here.

The pages are parsed (tables, code blocks, sentences) and compared with what the code does: the
settings module's defaults, the sandbox acquirer's behaviour through the API and the hosted page,
the ledger through an accounting report, the notification constants, the beat schedule, and the
API examples, which are sent to the API as written. When a test here fails, either the page or the
code is wrong: fix the one that is, never the test alone.
"""

from __future__ import annotations

import base64
import csv
import hmac
import io
import json
import os
import re
import shlex
import subprocess
import sys
import time
import types
from datetime import timedelta
from urllib.parse import urlsplit

import environ
import pytest
from celery import current_app
from django.apps import apps
from django.conf import settings
from django.test import Client
from django.urls import Resolver404, resolve
from django.utils import timezone

from payments.acquirers import sandbox
from tests.docs.pages import (
    DOCS,
    ROOT,
    all_pages,
    backticked,
    code_blocks,
    computed_from,
    constant,
    constant_default,
    environment_reads,
    normalized,
    page,
    quoted,
    rendered,
    section,
    settings_variables,
    table_rows,
)
from tests.payments.installments.helpers import advance, create_plan, first_payment

HOUR = 3600
DAY = 24 * HOUR


def seconds(value) -> float:
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


# --- driving payments as a merchant and a shopper would --------------------------------------------

BILLING = {"first_name": "Jeanne", "last_name": "Martin", "email": "jeanne.martin@example.org", "country": "FR"}
NEXT_YEAR = f"12/{(timezone.now().year + 1) % 100:02d}"


def create_payment(api, **fields) -> dict:
    body = {
        "amount": 3300,
        "currency": "EUR",
        "billing": dict(BILLING),
        "hosted_payment": {"return_url": "https://shop.example.org/ok"},
        **fields,
    }
    if "authorized_amount" in body:
        body.pop("amount")
    response = api.post("/v1/payments", body)
    assert response.status_code == 201, response.content
    return response.json()


def hosted_path(payment: dict) -> str:
    url = urlsplit(payment["hosted_payment"]["payment_url"])
    return url.path


def pay(payment: dict, number="4242 4242 4242 4242", cvc="123", client=None):
    """Type a card on the hosted page; returns the last response, after the redirects."""
    client = client or Client()
    path = hosted_path(payment)
    client.get(path)
    form = {"cardholder": "Jeanne Martin", "number": number, "expiry": NEXT_YEAR, "cvc": cvc}
    return client.post(path, form, follow=True)


def answer_challenge(response, outcome: str):
    challenge = response.redirect_chain[-1][0]
    return Client().post(challenge, {"outcome": outcome}, follow=True)


def retrieve(api, payment: dict) -> dict:
    return api.get(f"/v1/payments/{payment['id']}").json()


def run_task(name: str):
    return current_app.tasks[name].apply(throw=True).result


def paid_payment(api, **fields) -> dict:
    payment = create_payment(api, **fields)
    pay(payment)
    payment = retrieve(api, payment)
    assert payment["is_paid"] or payment["authorization"], payment
    return payment


# --- the configuration page ------------------------------------------------------------------------


def configuration_rows() -> dict[str, str]:
    rows = {}
    for cells in table_rows(page("configuration.md")):
        names = re.findall(r"^`([A-Z][A-Z0-9_]*)`$", cells[0])
        if names:
            assert names[0] not in rows, f"{names[0]} is documented twice"
            rows[names[0]] = cells[1]
    return rows


def test_every_variable_of_the_settings_is_documented():
    missing = sorted(set(settings_variables()) - set(configuration_rows()))
    assert not missing, f"docs/configuration.md does not list {missing}"


def test_documented_defaults_are_the_settings_defaults():
    rows = configuration_rows()
    for name, default in settings_variables().items():
        cell = rows[name]
        if default is None:
            assert "required" in cell, f"{name} has no default in payplug/settings.py"
            continue
        is_constant, value = constant_default(default)
        if is_constant:
            expected = rendered(value)
            if expected is None:
                assert cell.lower().startswith("empty"), f"{name}: the default is empty, the page says {cell!r}"
                continue
            shown = backticked(cell)
            assert shown, f"{name}: the page gives no default in backticks ({cell!r})"
            assert shown[0] == expected, f"{name}: the default is {expected!r}, the page says {shown[0]!r}"
        else:
            names, literals = computed_from(default)
            for other in names:
                assert f"`{other}`" in cell, f"{name}: the default depends on {other}, the page does not say so"
            for literal in literals:
                assert str(literal) in cell, f"{name}: the default involves {literal!r}, the page does not say so"


def test_every_variable_read_elsewhere_is_documented_with_its_default():
    rows = configuration_rows()
    reads = environment_reads()
    missing = sorted(set(reads) - set(rows) - {"DJANGO_SETTINGS_MODULE"})
    assert not missing, f"docs/configuration.md does not list {missing}"
    for name, read in reads.items():
        if name not in rows:
            continue
        cell = rows[name]
        if read["required"]:
            assert "required" in cell, f"{name} is required, the page says {cell!r}"
        elif read["defaults"]:
            assert len(read["defaults"]) == 1, f"{name} has several defaults in the code: {read['defaults']}"
            (default,) = read["defaults"]
            shown = backticked(cell)
            assert shown and shown[0] == default, f"{name}: the default is {default!r}, the page says {cell!r}"
        else:
            assert cell.lower().startswith("unset"), f"{name} has no default in the code, the page says {cell!r}"


def test_no_documented_variable_is_read_by_nothing():
    read = set(settings_variables()) | set(environment_reads())
    unknown = sorted(set(configuration_rows()) - read)
    assert not unknown, f"docs/configuration.md lists variables that nothing reads: {unknown}"


def test_every_variable_of_the_docker_env_example_is_documented():
    listed = re.findall(r"^([A-Z][A-Z0-9_]*)=", (ROOT / "docker" / ".env.example").read_text(), re.M)
    missing = sorted(set(listed) - set(configuration_rows()))
    assert not missing, f"docker/.env.example has {missing}, docs/configuration.md does not"


def test_the_boolean_spellings_are_those_of_django_environ():
    words = set(re.findall(r"`([^`]+)`", quoted("configuration.md", r"booleans are on for (.+?) and off").group(1)))
    assert words == set(environ.Env.BOOLEAN_TRUE_STRINGS)


def _settings_in_a_clean_environment(**variables) -> dict:
    """payplug/settings.py evaluated in a fresh process, with nothing but `variables` set."""
    code = (
        "import json, sys\n"
        "from payplug import settings as s\n"
        "print(json.dumps({'SECURE_HTTPS': s.SECURE_HTTPS, 'SECURE_HSTS_SECONDS': s.SECURE_HSTS_SECONDS,"
        " 'CELERY_BROKER_URL': s.CELERY_BROKER_URL, 'CELERY_TASK_ALWAYS_EAGER': s.CELERY_TASK_ALWAYS_EAGER,"
        " 'EMAIL_BACKEND': s.EMAIL_BACKEND, 'DATABASE': str(s.DATABASES['default']['NAME']),"
        " 'ENGINE': s.DATABASES['default']['ENGINE'], 'MEDIA_ROOT': str(s.MEDIA_ROOT),"
        " 'CACHE': s.CACHES['default']['BACKEND']}))\n"
    )
    env = {"PATH": os.environ.get("PATH", ""), "ENV_FILE": "/nonexistent", **variables}
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True)
    if result.returncode:
        return {"error": result.stderr}
    return json.loads(result.stdout.strip().splitlines()[-1])


KEY_RING = "1:" + base64.b64encode(bytes(32)).decode()


def test_an_empty_environment_gives_the_documented_embedded_mode():
    production = _settings_in_a_clean_environment(SECRET_KEY="s" * 40, CARD_KEYS=KEY_RING)
    assert production["SECURE_HTTPS"] is True
    assert production["SECURE_HSTS_SECONDS"] == 31536000
    assert production["CELERY_BROKER_URL"] == "" and production["CELERY_TASK_ALWAYS_EAGER"] is True
    assert production["EMAIL_BACKEND"].endswith("smtp.EmailBackend")
    assert production["ENGINE"].endswith("sqlite3") and production["DATABASE"] == str(ROOT / "db.sqlite3")
    assert production["MEDIA_ROOT"] == str(ROOT / "media")
    assert production["CACHE"].endswith("LocMemCache")
    development = _settings_in_a_clean_environment(DEBUG="1")
    assert development["SECURE_HTTPS"] is False and development["SECURE_HSTS_SECONDS"] == 0
    assert development["EMAIL_BACKEND"].endswith("console.EmailBackend")
    with_redis = _settings_in_a_clean_environment(DEBUG="1", REDIS_URL="redis://127.0.0.1:6399/0")
    assert with_redis["CELERY_BROKER_URL"] == "redis://127.0.0.1:6399/0"
    assert with_redis["CELERY_TASK_ALWAYS_EAGER"] is False


def test_without_debug_the_process_refuses_the_default_secret_and_an_empty_key_ring():
    assert "SECRET_KEY" in _settings_in_a_clean_environment(CARD_KEYS=KEY_RING)["error"]
    assert "SECRET_KEY" in _settings_in_a_clean_environment(SECRET_KEY="short", CARD_KEYS=KEY_RING)["error"]
    assert "key ring" in _settings_in_a_clean_environment(SECRET_KEY="s" * 40)["error"]
    quoted("configuration.md", r"refuses to start on the default or a short `SECRET_KEY`, or on an empty card key ring")


def test_the_env_file_written_by_make_run_is_the_one_described(tmp_path):
    target = tmp_path / ".env"
    # payplug.devenv is the Makefile's `.env` recipe.
    subprocess.run(
        [sys.executable, "-c", f"from payplug.devenv import write_dev_env; write_dev_env({str(target)!r})"],
        cwd=ROOT,
        check=True,
    )
    written = dict(line.split("=", 1) for line in target.read_text().splitlines() if line and not line.startswith("#"))
    described = {}
    for cells in table_rows(section(page("getting-started.md"), "Run the platform: `make run`")):
        line = backticked(cells[0])[0]
        name, _, value = line.partition("=")
        described[name] = value
    assert set(described) == set(written)
    for name, value in described.items():
        if value != "<random>" and not value.endswith(":<random>"):
            assert written[name] == value, f"make run writes {name}={written[name]}, the page says {value}"


# --- sandbox cards ---------------------------------------------------------------------------------


def sandbox_rows() -> list[tuple[str, str, str, str]]:
    rows = []
    for cells in table_rows(page("sandbox.md")):
        number = cells[0].replace(" ", "")
        if number.isdigit():
            rows.append((number, cells[1], cells[2], cells[3]))
    return rows


def test_every_sandbox_test_card_is_documented_and_only_those():
    documented = {row[0] for row in sandbox_rows()}
    assert set(sandbox.TEST_CARDS) <= documented, set(sandbox.TEST_CARDS) - documented
    for number in documented - set(sandbox.TEST_CARDS):
        # The only other rows are brands the platform does not accept: refused before any acquirer.
        assert "not accepted" in next(row[2] for row in sandbox_rows() if row[0] == number)


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(("number", "brand", "outcome", "afterwards"), sandbox_rows(), ids=lambda v: str(v)[:19])
def test_each_sandbox_card_does_what_its_row_says(api, merchant_a, number, brand, outcome, afterwards):
    payment = create_payment(api)
    cvc = "1234" if brand.startswith("American Express") else "123"
    if "unless the merchant enabled American Express" in outcome:
        # Both halves of the row: refused while the brand is off, then as said once it is on.
        refused = create_payment(api)
        pay(refused, number, cvc=cvc)
        assert retrieve(api, refused)["failure"]["code"] == re.search(r"failure\.code: (\w+)", afterwards).group(1)
        merchant_a.accepts_american_express = True
        merchant_a.save(update_fields=["accepts_american_express", "updated_at"])
        afterwards = afterwards.split(", or ", 1)[1]
    response = pay(payment, number, cvc=cvc)
    failure = re.search(r"failure\.code: (\w+)", afterwards)

    if outcome.startswith("3-D Secure challenge"):
        assert b'name="outcome"' in response.content
        answer_challenge(response, "approve")
        body = retrieve(api, payment)
        assert body["is_paid"] and body["is_3ds"]
        refused = create_payment(api)
        answer_challenge(pay(refused, number), "fail")
        body = retrieve(api, refused)
        assert body["failure"]["code"] == failure.group(1) and body["is_3ds"]
        return

    body = retrieve(api, payment)
    if afterwards.startswith("pending"):
        assert not body["is_paid"] and body["failure"] is None
        attempts = apps.get_model("payments", "PaymentAttempt").objects.filter(payment__public_id=payment["id"])
        attempts.update(updated_at=timezone.now() - timedelta(minutes=5))
        run_task("payments.reconcile_pending")
        body = retrieve(api, payment)
    if failure:
        assert body["failure"] and body["failure"]["code"] == failure.group(1), body["failure"]
        assert not body["is_paid"]
    if "is_paid: true" in afterwards:
        assert body["is_paid"], body["failure"]
    if "is_3ds: true" in afterwards:
        assert body["is_3ds"]
    if brand in ("Visa", "Mastercard"):
        assert body["card"]["brand"] == brand
    if "the message says why" in afterwards:
        assert outcome.split(": ")[1].split()[0] in body["failure"]["message"]
    if "merchant-initiated" in outcome:
        # The later installments of a plan paid with this card: declined, when the clock reaches them.
        code = re.search(r"declined with `(\w+)`", afterwards).group(1)
        plan = create_plan(api, merchant_a, amounts=(10000, 10000))
        pay(first_payment(plan), number, cvc=cvc)
        assert retrieve(api, {"id": plan["schedule"][0]["payment_ids"][0]})["is_paid"]
        plan = advance(api, plan["id"], 30)
        declined = retrieve(api, {"id": plan["schedule"][1]["payment_ids"][0]})
        assert not declined["is_paid"] and declined["failure"]["code"] == code, declined["failure"]
    if "disputed" in afterwards:
        scheduled = apps.get_model("payments", "ScheduledChargeback").objects.get(payment__public_id=payment["id"])
        delay = scheduled.due_at.timestamp() - body["paid_at"]
        assert abs(delay - settings.SANDBOX_CHARGEBACK_DELAY_SECONDS) < 5
        type(scheduled).objects.filter(pk=scheduled.pk).update(due_at=timezone.now())
        run_task("payments.open_due_chargebacks")
        assert retrieve(api, payment)["dispute"] is not None


@pytest.mark.django_db(transaction=True)
def test_the_other_numbers_behave_as_documented(api):
    unknown, code = quoted(
        "sandbox.md", r"such as (\d{4} \d{4} \d{4} \d{4}), is refused with `failure\.code: (\w+)`"
    ).groups()
    payment = create_payment(api)
    pay(payment, unknown)
    assert retrieve(api, payment)["failure"]["code"] == code

    mistyped = create_payment(api)
    response = pay(mistyped, "4242 4242 4242 4241")
    assert response.status_code == 400
    assert retrieve(api, mistyped)["failure"] is None

    country = quoted("sandbox.md", r"The issuer country of every sandbox card is `([A-Z]{2})`").group(1)
    paid = paid_payment(api)
    assert paid["card"]["country"] == country


def test_sandbox_page_figures():
    assert int(quoted("sandbox.md", r"chargeback is then scheduled (\d+) minutes after the capture").group(1)) * 60 == (
        settings.SANDBOX_CHARGEBACK_DELAY_SECONDS
    )
    minutes = int(quoted("sandbox.md", r"confirms each transfer (\d+) minutes after its file").group(1))
    assert minutes == settings.SANDBOX_PAYOUT_CONFIRM_MINUTES
    every, older = quoted("sandbox.md", r"every (\d+) seconds, asks the acquirer .*? for over (\d+) seconds").groups()
    assert int(every) == settings.CELERY_BEAT_SCHEDULE["reconcile-pending-authorizations"]["schedule"]
    reconcile = constant("payments", "reconcile_pending", kind=types.FunctionType)
    assert int(older) == reconcile.__defaults__[0]
    attempts = int(quoted("sandbox.md", r"up to (\d+) failed attempts in all").group(1))
    assert attempts == constant("payments", "MAX_FAILED_ATTEMPTS")


# --- money -----------------------------------------------------------------------------------------

FEE_DEFAULTS = {
    "fee per paid payment": ("fee_percent_bps", "fee_fixed"),
    "fee per refund": ("refund_fee",),
    "fee per dispute": ("dispute_fee",),
    "settlement delay": ("settlement_delay_days",),
    "payout minimum": ("payout_minimum",),
    "reserve target": ("reserve_amount",),
}


def euros(text: str) -> int:
    return round(float(text.replace(",", "")) * 100)


def test_the_default_fee_schedule_is_the_code_default():
    schedule = apps.get_model("payments", "MerchantAccountSettings")
    default = {field: schedule._meta.get_field(field).default for fields in FEE_DEFAULTS.values() for field in fields}
    rows = {cells[0]: cells[1] for cells in table_rows(section(page("money.md"), "Fees and rounding"))}
    assert set(rows) == set(FEE_DEFAULTS)
    percent, fixed = re.fullmatch(r"([\d.]+) % \+ ([\d.]+) €", rows["fee per paid payment"]).groups()
    assert round(float(percent) * 100) == default["fee_percent_bps"]
    assert euros(fixed) == default["fee_fixed"]
    for label in ("fee per refund", "fee per dispute", "payout minimum", "reserve target"):
        (field,) = FEE_DEFAULTS[label]
        assert euros(rows[label].rstrip(" €")) == default[field], label
    assert rows["settlement delay"] == f"{default['settlement_delay_days']} days"


def report_lines(api) -> list[dict]:
    today = timezone.now().date().isoformat()
    report = api.post("/v1/accounting_reports", {"start_date": today, "end_date": today}).json()
    report = api.get(f"/v1/accounting_reports/{report['id']}").json()
    assert report["status"] == "available", report
    response = Client().get(urlsplit(report["temporary_url"]).path)
    assert response.status_code == 200
    return list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))


@pytest.mark.django_db(transaction=True)
def test_the_worked_fee_examples_are_what_the_ledger_does(api):
    amount, fee, net = quoted(
        "money.md",
        r"Example: a capture\.\*\* ([\d.]+) € at .*? a fee of (\d+) c; "
        r"the merchant's pending balance grows by ([\d.]+) €",
    ).groups()
    refunded, returned, taken = quoted(
        "money.md",
        r"Example: a refund\.\*\* ([\d.]+) € of that payment .*? "
        r"so (\d+) c of the fee is given back and the refund takes ([\d.]+) €",
    ).groups()
    payment = paid_payment(api, amount=euros(amount))
    assert api.post(f"/v1/payments/{payment['id']}/refunds", {"amount": euros(refunded)}).status_code == 201

    lines = {line["operation_type"]: line for line in report_lines(api)}
    assert int(lines["payment"]["gross_amount"]) == euros(amount)
    assert int(lines["payment"]["fee"]) == int(fee)
    assert int(lines["payment"]["net_amount"]) == euros(net)
    assert int(lines["refund"]["gross_amount"]) == -euros(refunded)
    assert int(lines["refund"]["fee"]) == -int(returned)
    assert int(lines["refund"]["net_amount"]) == -euros(taken)
    assert int(lines["refund"]["balance"]) == euros(net) - euros(taken)


def test_dispute_figures():
    size = int(quoted("money.md", r"up to (\d+) MB per file").group(1))
    assert size * 1024 * 1024 == constant("payments", "EVIDENCE_MAX_BYTES")
    days = int(quoted("money.md", r"before the deadline, (\d+) days after the opening").group(1))
    assert timedelta(days=days) == constant("payments", "RESPONSE_WINDOW")
    kinds = quoted("money.md", r"evidence\*\* \((.+?), up to").group(1)
    names = {"PDF": "application/pdf", "PNG": "image/png", "JPEG": "image/jpeg", "text": "text/plain"}
    assert {names[word] for word in re.findall(r"\w+", kinds) if word in names} == set(
        constant("payments", "EVIDENCE_TYPES")
    )


def test_money_schedule_figures():
    beat = settings.CELERY_BEAT_SCHEDULE
    minutes = int(quoted("money.md", r"`payments\.settle_due` \(every (\d+) minutes").group(1))
    assert minutes * 60 == beat["payments-settle-due"]["schedule"]
    quoted("money.md", r"`payments\.run_payouts` \(hourly")
    assert beat["payments-run-payouts"]["schedule"] == HOUR
    minutes = int(quoted("money.md", r"the sandbox bank confirms after (\d+) minutes").group(1))
    assert minutes == settings.SANDBOX_PAYOUT_CONFIRM_MINUTES


# --- periodic tasks ----------------------------------------------------------------------------------

UNITS = {"s": 1, "min": 60, "h": HOUR}


def test_the_periodic_tasks_table_is_the_beat_schedule():
    documented = {}
    for cells in table_rows(section(page("operations.md"), "Periodic tasks")):
        value, unit = cells[1].split()
        documented[backticked(cells[0])[0]] = int(value) * UNITS[unit]
    scheduled = {entry["task"]: entry["schedule"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert documented == scheduled
    assert set(documented) <= set(current_app.tasks)


# --- notifications ---------------------------------------------------------------------------------

DURATION = {"min": 60, "h": HOUR}


def test_the_retry_schedule_is_the_code():
    text = quoted("notifications.md", r"retried after \*\*(.+?)\*\*").group(1)
    waits = [timedelta(seconds=int(n) * DURATION[u]) for n, u in re.findall(r"(\d+) (min|h)\b", text)]
    assert waits == list(constant("notifications", "RETRY_SCHEDULE"))
    jitter = int(quoted("notifications.md", r"±(\d+) % jitter").group(1))
    assert jitter / 100 == constant("notifications", "JITTER")
    attempts, hours = map(int, quoted("notifications.md", r"(\d+) attempts over about (\d+) hours").groups())
    assert attempts == constant("notifications", "MAX_ATTEMPTS")
    assert attempts == apps.get_model("notifications", "Delivery")._meta.get_field("max_attempts").default
    assert hours == int(sum(waits, timedelta()).total_seconds() // HOUR)


def test_delivery_figures():
    within = int(quoted("notifications.md", r"Any `2xx` answer within (\d+) seconds acknowledges").group(1))
    assert within == constant("notifications", "TOTAL_TIMEOUT")
    assert quoted("notifications.md", r"the first (\d+) KB of the answer").group(1) == "1"
    assert quoted("notifications.md", r"at most (\d+) KB of the answer read").group(1) == "1"
    assert constant("notifications", "MAX_RESPONSE_BYTES") == 1024
    days = int(quoted("notifications.md", r"have \*\*all\*\* failed for (\d+) days is disabled").group(1))
    assert timedelta(days=days) == constant("notifications", "DISABLE_AFTER")
    lease = int(quoted("notifications.md", r"a compare-and-set lease of (\d+) seconds").group(1))
    assert timedelta(seconds=lease) == constant("notifications", "HTTP_LEASE")
    hours = int(quoted("notifications.md", r"While a secret is being rolled \((\d+) hours\)").group(1))
    assert timedelta(hours=hours) == constant("notifications", "ROTATION_OVERLAP")
    sweep = int(quoted("notifications.md", r"`notifications\.sweep` every (\d+) seconds").group(1))
    assert sweep == settings.CELERY_BEAT_SCHEDULE["notifications-sweep"]["schedule"]
    assert settings.CELERY_BEAT_SCHEDULE["notifications-daily-summaries"]["schedule"] == HOUR
    headers = {
        backticked(cells[0])[0]: cells[1] for cells in table_rows(section(page("notifications.md"), "Request headers"))
    }
    assert backticked(headers["User-Agent"])[0] == constant("notifications", "USER_AGENT")


def test_the_event_types_are_those_an_endpoint_may_subscribe_to():
    rows = table_rows(section(page("notifications.md"), "Webhooks"))
    documented = [backticked(cells[0])[0] for cells in rows]
    assert documented == [name for name, _label in constant("notifications", "WEBHOOK_EVENT_TYPES")]


def test_the_documented_verify_function_accepts_the_platform_signatures():
    (snippet,) = code_blocks(page("notifications.md"), "python")
    namespace: dict = {}
    exec(compile(snippet, "docs/notifications.md", "exec"), namespace)  # the reader's own code
    verify = namespace["verify"]
    signature_header = constant("notifications", "signature_header")
    body = json.dumps({"id": "pay_x", "object": "payment"}, separators=(",", ":")).encode()
    now = int(time.time())
    old, new = "whsec_" + "o" * 32, "whsec_" + "n" * 32
    header = signature_header([new, old], now, body)
    assert header.startswith(f"t={now},v1=")
    assert verify(new, header, body) and verify(old, header, body)
    assert not verify(new, header, body + b" ")
    assert not verify("whsec_other", header, body)
    tolerance = int(quoted("notifications.md", r"`\|now - t\| <= (\d+)` seconds").group(1))
    late = signature_header([new], now - tolerance - 5, body)
    assert not verify(new, late, body)
    expected = hmac.new(new.encode(), f"{now}.".encode() + body, "sha256").hexdigest()
    assert f"v1={expected}" in header


# --- the API pages ---------------------------------------------------------------------------------


def figures(name: str, pattern: str) -> list[int]:
    return [int(group.replace(",", "")) for group in quoted(name, pattern).groups()]


@pytest.mark.django_db
def test_payment_amount_bounds(api):
    low, high = figures("api/payments.md", r"cents, from (\d+) to (\d+) cents")
    for amount, status in ((low - 1, 400), (low, 201), (high, 201), (high + 1, 400)):
        response = api.post(
            "/v1/payments",
            {"amount": amount, "currency": "EUR", "billing": BILLING, "hosted_payment": {"return_url": "https://a.b/"}},
        )
        assert response.status_code == status, (amount, response.content)


@pytest.mark.django_db(transaction=True)
def test_refund_minimum(api):
    (minimum,) = figures("api/refunds.md", r"a positive integer of at least (\d+) cents")
    payment = paid_payment(api)
    too_small = api.post(f"/v1/payments/{payment['id']}/refunds", {"amount": minimum - 1})
    assert too_small.json()["code"] == "refund_amount_too_small"
    assert api.post(f"/v1/payments/{payment['id']}/refunds", {"amount": minimum}).status_code == 201


@pytest.mark.django_db
def test_pagination_figures(api):
    default, maximum = figures("api/index.md", r"`per_page` \(default `(\d+)`, at most `(\d+)`")
    (refunds,) = figures("api/index.md", r"the refunds of one payment default to `(\d+)`")
    assert api.get("/v1/payments").json()["per_page"] == default
    assert api.get("/v1/customers", {"per_page": maximum}).status_code == 200
    assert api.get("/v1/customers", {"per_page": maximum + 1}).status_code == 400
    assert api.get("/v1/customers", {"per_page": 0}).status_code == 400
    payment = create_payment(api)
    assert api.get(f"/v1/payments/{payment['id']}/refunds").json()["per_page"] == refunds


@pytest.mark.django_db
def test_metadata_limits(api):
    keys, key_length, value_length = figures(
        "api/index.md", r"at most (\d+) keys; keys of 1 to (\d+) characters; values are strings of at most (\d+)"
    )

    def create(metadata):
        return api.post("/v1/customers", {"email": "a@example.org", "metadata": metadata}).status_code

    assert create({f"k{i}": i for i in range(keys)}) == 201
    assert create({f"k{i}": i for i in range(keys + 1)}) == 400
    assert create({"k" * key_length: 1}) == 201
    assert create({"k" * (key_length + 1): 1}) == 400
    assert create({"k": "v" * value_length}) == 201
    assert create({"k": "v" * (value_length + 1)}) == 400
    assert create({"k": {"nested": True}}) == 400


@pytest.mark.django_db
def test_body_limit(api):
    (kib,) = figures("api/index.md", r"a body over (\d+) KiB answers `413 payload_too_large`")
    assert kib * 1024 == settings.API_MAX_BODY_BYTES
    response = api.client.post(
        "/v1/customers",
        "x" * (kib * 1024 + 1),
        content_type="application/json",
        headers={"Authorization": f"Bearer {api.key}"},
    )
    assert response.status_code == 413


@pytest.mark.django_db(transaction=True)
def test_accounting_report_range(api):
    (days,) = figures("api/accounting-reports.md", r"the range covers at most (\d+) days")
    end = timezone.now().date()

    def request(length):
        start = end - timedelta(days=length - 1)  # inclusive days
        body = {"start_date": start.isoformat(), "end_date": end.isoformat()}
        return api.post("/v1/accounting_reports", body).status_code

    assert request(days) == 201
    assert request(days + 1) == 400
    (hours,) = figures("api/accounting-reports.md", r"`file_available_until` \| (\d+) hours after the file was written")
    assert timedelta(hours=hours) == constant("payments", "FILE_LIFETIME")


def test_rate_limit_and_key_figures():
    rate, burst = figures("api/index.md", r"(\d+) requests per second sustained, bursts of (\d+)")
    assert (rate, burst) == (settings.API_RATE_LIMIT_PER_SECOND, settings.API_RATE_LIMIT_BURST)
    (grace,) = figures("api/index.md", r"`API_KEY_ROLL_GRACE_HOURS`, (\d+) hours by default")
    assert grace == settings.API_KEY_ROLL_GRACE_HOURS
    kept, purged = figures("api/index.md", r"Keys are kept at least (\d+) hours and purged after (\d+) hours")
    assert timedelta(hours=purged) == constant("payments", "KEEP_FOR")
    assert kept <= purged


@pytest.mark.django_db
def test_a_key_cannot_be_rolled_with_a_longer_grace_than_documented(merchant_a):
    (longest,) = figures("api/index.md", r"`API_KEY_ROLL_GRACE_HOURS`, \d+ hours by default, at most (\d+)")
    roll, actor = constant("merchants", "roll_api_key"), constant("merchants", "Actor").system("docs")
    key = apps.get_model("merchants", "ApiKey").objects.filter(merchant=merchant_a).first()
    with pytest.raises(constant("merchants", "MerchantError")):
        roll(key, actor, grace_hours=longest + 1)
    roll(key, actor, grace_hours=longest)


def test_payment_lifetime_figures():
    (hours,) = figures("api/payments.md", r"The page is payable for (\d+) hours")
    assert timedelta(hours=hours) == constant("payments", "PAGE_LIFETIME")
    (days,) = figures("api/payments.md", r"authorise now and collect later \(within (\d+) days\)")
    assert timedelta(days=days) == constant("payments", "AUTHORIZATION_LIFETIME")
    (window,) = figures("api/payments.md", r"from `paid_at` to (\d+) days \(13 months\) later")
    assert window == constant("payments", "REFUND_WINDOW_DAYS")
    (refund_window,) = figures("api/refunds.md", r"\((\d+) days from `paid_at`\)")
    assert refund_window == window
    (attempts,) = figures("api/payments.md", r"up to (\d+) failed attempts in all")
    assert attempts == constant("payments", "MAX_FAILED_ATTEMPTS")
    (review,) = figures("api/payments.md", r"rejects, or (\d+) hours pass")
    assert timedelta(hours=review) == constant("payments", "REVIEW_DEADLINE")
    (expiry,) = figures("api/payments.md", r"page expires after (\d+) hours")
    assert expiry == hours


def test_checkout_figures():
    per_payment, per_address, creations = figures(
        "checkout.md",
        r"per payment \((\d+) an hour\) and per client address \((\d+) an hour.*?per client address \((\d+) an hour\)",
    )
    assert per_payment == settings.CHECKOUT_CARD_LIMIT_PER_PAYMENT
    assert per_address == settings.CHECKOUT_CARD_LIMIT_PER_IP
    assert creations == settings.CHECKOUT_CREATE_LIMIT_PER_IP
    (wait,) = figures("checkout.md", r"the page waits up to (\d+) seconds for it first")
    assert wait == constant("payments", "WAIT_FOR_DECISION_SECONDS")
    (quantity,) = figures("checkout.md", r"a \*\*quantity\*\* \(up to (\d+) by default\)")
    assert quantity == apps.get_model("payments", "PaymentLink")._meta.get_field("max_quantity").default
    (hours,) = figures("checkout.md", r"until it expires, (\d+) hours after creation")
    assert timedelta(hours=hours) == constant("payments", "PAGE_LIFETIME")
    languages = backticked(quoted("checkout.md", r"`billing\.language` when it is (.+?), else").group(1))
    assert tuple(languages) == constant("payments", "SHOPPER_LANGUAGES")


def test_operations_figures():
    (seconds_,) = figures("operations.md", r"It answers within (\d+) seconds whatever its dependencies do")
    assert seconds_ == constant("payplug", "READYZ_TIMEOUT_SECONDS")


# --- security and the dashboard ----------------------------------------------------------------------


def test_the_documented_content_security_policy_is_the_settings():
    policy = next(body for body in code_blocks(page("security.md"), "text") if body.startswith("default-src"))
    documented = {line.split()[0]: line.split()[1:] for line in policy.strip().splitlines()}
    assert documented == settings.CONTENT_SECURITY_POLICY["DIRECTIVES"]


def test_account_security_figures():
    (length,) = figures("security.md", r"\*\*Passwords\*\*: at least (\d+) characters")
    validators = {v["NAME"].rsplit(".", 1)[1]: v.get("OPTIONS", {}) for v in settings.AUTH_PASSWORD_VALIDATORS}
    assert validators["MinimumLengthValidator"]["min_length"] == length
    failures, minutes = figures(
        "security.md", r"(\d+) failed logins for one \(email, address\) pair lock that pair for (\d+) minutes"
    )
    assert failures == settings.AXES_FAILURE_LIMIT
    assert minutes == settings.AXES_COOLOFF_TIME * 60
    (codes,) = figures("security.md", r"with (\d+) single-use backup codes")
    assert codes == constant("merchants", "BACKUP_CODE_COUNT")
    (hours,) = figures("security.md", r"\*\*Sessions\*\*: (\d+) hours")
    assert hours * HOUR == settings.SESSION_COOKIE_AGE
    (characters,) = figures("security.md", r"followed by (\d+) random base62 characters")
    assert characters == constant("merchants", "KEY_RANDOM_LENGTH")
    (grace,) = figures("security.md", r"grace period \((\d+) hours by default")
    assert grace == settings.API_KEY_ROLL_GRACE_HOURS


@pytest.mark.django_db
def test_identifier_and_key_lengths_quoted_by_the_pages(api):
    payment = create_payment(api)
    (id_length,) = figures("security.md", r"\(`pay_` plus (\d+) base62 characters\)")
    assert len(payment["id"]) == len("pay_") + id_length
    (token_length,) = figures("security.md", r"a separate (\d+)-character token")
    assert len(hosted_path(payment).strip("/").split("/")[-1]) == token_length
    assert len(api.key) == len("sk_test_") + constant("merchants", "KEY_RANDOM_LENGTH")
    for name in all_pages():
        for sample in re.findall(r"\b(?:pay|re|cus|card|ar|evt)_([A-Za-z0-9]{16,})\b", page(name)):
            assert len(sample) == id_length, f"docs/{name}: the example id ..._{sample} is not {id_length} characters"
    for sample in re.findall(r"\b[sp]k_test_([A-Za-z0-9]{8,})", page("getting-started.md")):
        assert len(sample) == constant("merchants", "KEY_RANDOM_LENGTH")


def test_the_roles_table_is_the_permission_map():
    rows = table_rows(section(page("dashboard.md"), "Team roles"))
    roles = ["owner", "admin", "developer", "support", "accountant"]
    permissions = constant("merchants", "PERMISSIONS")
    documented = {role: set() for role in roles}
    for cells in rows:
        (code,) = backticked(cells[0])
        for role, mark in zip(roles, cells[1:], strict=True):
            if mark == "✓":
                documented[role].add(code)
    assert documented == {str(role): set(allowed) for role, allowed in permissions.items()}
    every = set().union(*permissions.values())
    assert {backticked(cells[0])[0] for cells in rows} == every


def test_dashboard_figures():
    (days,) = figures("dashboard.md", r"Invitations are sent by email and expire after (\d+) days")
    assert days == settings.INVITATION_MAX_AGE_DAYS


# --- examples: every JSON object shown has the real shape, every curl command works ----------------


class World:
    """One of each object, made through the API and the hosted page, to compare and replay examples with."""

    def __init__(self, api):
        self.api = api
        self.customer = self._created("/v1/customers", {"email": "jeanne.martin@example.org", "first_name": "Jeanne"})
        self.paid = paid_payment(api, metadata={"order_id": "42"}, notification_url="https://shop.example.org/ipn")
        self.refund = self._created(f"/v1/payments/{self.paid['id']}/refunds", {"amount": 100, "metadata": {"a": 1}})
        self.unpaid = create_payment(api)
        self.deferred = paid_payment(api, authorized_amount=5000)
        saving = paid_payment(api, save_card=True, customer_id=self.customer["id"])
        self.card = api.get(f"/v1/cards/{saving['card']['id']}").json()
        today = timezone.now().date().isoformat()
        self.report = self._created("/v1/accounting_reports", {"start_date": today, "end_date": today})
        self.report = api.get(f"/v1/accounting_reports/{self.report['id']}").json()
        self.paid = retrieve(api, self.paid)

    def _created(self, path, body):
        response = self.api.post(path, body)
        assert response.status_code == 201, response.content
        return response.json()

    def samples(self) -> dict:
        throwaway = self._created("/v1/customers", {"email": "x@example.org"})
        event = apps.get_model("notifications", "Event").objects.filter(type="payment.paid").latest("created_at")
        return {
            "payment": self.paid,
            "refund": self.refund,
            "customer": self.customer,
            "card": self.card,
            "accounting_report": self.report,
            "installment_plan": self._created(
                "/v1/installment_plans",
                {
                    "currency": "EUR",
                    "schedule": [
                        {"date": "TODAY", "amount": 15000},
                        {"date": (timezone.now().date() + timedelta(days=31)).isoformat(), "amount": 15000},
                    ],
                    "billing": {"first_name": "Jeanne", "last_name": "Martin", "email": "jeanne@example.org"},
                    "hosted_payment": {"return_url": "https://shop.example.org/ok"},
                    "metadata": {"order_id": "42"},
                },
            ),
            "subscription": self._created(
                "/v1/subscriptions",
                {
                    "amount": 1000,
                    "currency": "EUR",
                    "interval": "month",
                    "billing": {"first_name": "Jeanne", "last_name": "Martin", "email": "jeanne@example.org"},
                    "hosted_payment": {"return_url": "https://asso.example.org/merci"},
                    "metadata": {"member": "42"},
                },
            ),
            "account": self.api.get("/v1/account").json(),
            "list": self.api.get("/v1/payments").json(),
            "error": self.api.get("/v1/payments/pay_unknown").json(),
            "deleted": self.api.delete(f"/v1/customers/{throwaway['id']}").json(),
            "event": json.loads(constant("notifications", "webhook_body")(event)),
        }

    def ids(self) -> dict[str, str]:
        """The example ids of the pages -> the id of the object of the same kind and state here."""
        return {
            "pay_9ZPGrKSsnfvH5vqYx5BQGioL": self.paid["id"],  # paid
            "pay_3KGV73hc2WzEHkyqct15qcXi": self.paid["id"],  # paid (getting started, after step 2)
            "pay_...": self.paid["id"],  # README
            "pay_7hTq2Wm9xLc4Rv8NbZ1kYe5D": self.unpaid["id"],  # not paid: the abort example
            "pay_OqfyO2kosfDRBfaVKgVphqNB": self.deferred["id"],  # deferred, authorised
            "re_ExosreyUoZGkaTqZlP6cmGgI": self.refund["id"],
            "cus_cKfhbBoLD4L4slR2XGPzBFLt": self.customer["id"],
            "card_hBp1zCA4EuiMtNBdbNLqS5UA": self.card["id"],
            "ar_hdPv4NVNMqxhI4nFYKICJ3wH": self.report["id"],
        }


def json_examples() -> list[tuple[str, dict]]:
    found = []
    for name in all_pages():
        for block in code_blocks(page(name), "json"):
            found.append((name, json.loads(block)))
    return found


# Objects whose keys are the client's own data, not the API's.
FREE_FORM = {"metadata", "details", "payment_context"}


def assert_same_shape(example, real, where: str):
    assert set(example) == set(real), (
        f"{where}: missing {sorted(set(real) - set(example))}, not in the API {sorted(set(example) - set(real))}"
    )
    for key, value in example.items():
        other = real[key]
        if value is None or other is None:
            continue
        assert isinstance(value, bool) == isinstance(other, bool), f"{where}.{key}: boolean or not"
        assert type(value) is type(other) or {type(value), type(other)} <= {int, float}, f"{where}.{key}: type"
        if isinstance(value, dict) and "object" not in value and key not in FREE_FORM:
            assert_same_shape(value, other, f"{where}.{key}")


def kind_of(example: dict) -> str:
    if example.get("deleted"):
        return "deleted"
    return example["object"]


@pytest.mark.django_db(transaction=True)
def test_every_json_example_has_the_shape_of_the_real_object(api):
    samples = World(api).samples()
    examples = json_examples()
    assert examples
    for name, example in examples:
        where = f"docs/{name}: {example.get('object')}"
        assert isinstance(example, dict) and "object" in example, f"docs/{name}: a JSON example without `object`"
        assert_same_shape(example, samples[kind_of(example)], where)
        if example["object"] == "list":
            for item in example["data"]:
                assert_same_shape(item, samples[kind_of(item)], f"{where} item")
        if example["object"] == "error":
            assert example["code"] in page("api/errors.md")


def curl_commands() -> list[tuple[str, list[str]]]:
    sources = [(f"docs/{name}", page(name)) for name in all_pages()]
    sources.append(("README.md", (ROOT / "README.md").read_text(encoding="utf-8")))
    commands = []
    for where, text in sources:
        for block in code_blocks(text, "sh"):
            pending = ""
            for line in block.replace("\\\n", " ").splitlines():
                pending = f"{pending}\n{line}" if pending else line
                try:
                    words = shlex.split(pending, comments=True)
                except ValueError:  # a quoted body continues on the next line
                    continue
                pending = ""
                if words and words[0] == "curl":
                    commands.append((where, words))
            assert not pending, f"{where}: an unterminated quote in a shell example"
    return commands


def parse_curl(words: list[str]) -> dict:
    request = {"method": None, "headers": {}, "data": None, "url": None}
    rest = iter(words[1:])
    for word in rest:
        if word == "-X":
            request["method"] = next(rest)
        elif word == "-H":
            name, _, value = next(rest).partition(":")
            request["headers"][name.strip()] = value.strip()
        elif word == "-d":
            request["data"] = next(rest)
        elif word == "-o":
            next(rest)
        elif word.startswith("http"):
            request["url"] = word
        else:
            assert word.startswith("-"), f"unexpected curl argument {word!r}"
    request["method"] = request["method"] or ("POST" if request["data"] is not None else "GET")
    return request


def api_commands() -> list[tuple[str, dict]]:
    found = []
    for where, words in curl_commands():
        request = parse_curl(words)
        if urlsplit(request["url"]).path.startswith("/v1/"):
            found.append((where, request))
    return found


def test_every_curl_example_names_an_existing_route_and_method():
    commands = api_commands()
    assert len(commands) > 20
    for where, request in commands:
        path = urlsplit(request["url"]).path
        try:
            match = resolve(path)
        except Resolver404:
            pytest.fail(f"{where}: {path} is not a route")
        view = getattr(match.func, "view_class", None)
        assert view is not None and view.__name__ != "UnknownRoute", f"{where}: {path} is not an API route"
        assert hasattr(view, request["method"].lower()), f"{where}: {request['method']} {path} is not allowed"
        if request["data"] is not None:
            assert isinstance(json.loads(request["data"]), dict), f"{where}: the body is not a JSON object"


def send(api, request: dict, ids: dict[str, str]):
    url = urlsplit(request["url"])
    target = url.path + (f"?{url.query}" if url.query else "")
    data = request["data"] or ""
    for example, real in ids.items():
        target, data = target.replace(example, real), data.replace(example, real)
    headers = {"Authorization": f"Bearer {api.key}"}
    if "Idempotency-Key" in request["headers"]:
        headers["Idempotency-Key"] = request["headers"]["Idempotency-Key"]
    # Without -H Content-Type, curl -d sends a form content type: the API reads JSON whatever it says.
    content_type = request["headers"].get("Content-Type", "application/x-www-form-urlencoded")
    call = getattr(api.client, request["method"].lower())
    if request["method"] == "GET":
        return call(target, headers=headers)
    return call(target, data, content_type=content_type, headers=headers)


@pytest.mark.django_db(transaction=True)
def test_every_curl_example_works_as_written(api):
    world = World(api)
    ids = world.ids()
    commands = api_commands()
    order = {"GET": 0, "POST": 1, "PATCH": 2}
    for where, request in sorted(
        (c for c in commands if c[1]["method"] != "DELETE"), key=lambda c: order[c[1]["method"]]
    ):
        unknown = set(
            re.findall(r"\b(?:pay|re|cus|card|ar)_[A-Za-z0-9.]+", request["url"] + (request["data"] or ""))
        ) - set(ids)
        assert not unknown, f"{where}: map the example ids {unknown} to objects in World.ids()"
        response = send(api, request, ids)
        expected = 201 if request["method"] == "POST" else 200
        assert response.status_code == expected, (
            f"{where}: {request['method']} {request['url']}: {response.content[:300]}"
        )
    for where, request in (c for c in commands if c[1]["method"] == "DELETE"):
        fresh = World.__new__(World)
        fresh.api = api
        customer = fresh._created("/v1/customers", {"email": "y@example.org"})
        saving = paid_payment(api, save_card=True, customer_id=customer["id"])
        ids = {
            **world.ids(),
            "cus_cKfhbBoLD4L4slR2XGPzBFLt": customer["id"],
            "card_hBp1zCA4EuiMtNBdbNLqS5UA": saving["card"]["id"],
        }
        response = send(api, request, ids)
        assert response.status_code == 200, f"{where}: DELETE {request['url']}: {response.content[:300]}"
        assert response.json()["deleted"] is True


# --- the architecture page -------------------------------------------------------------------------


def test_the_wings_named_by_the_architecture_page_exist():
    rows = table_rows(section(page("architecture.md"), "The payments app"))
    for cells in rows:
        wing = backticked(cells[0])
        if wing:
            assert (ROOT / "payments" / wing[0].strip("/")).is_dir(), f"payments/{wing[0]} does not exist"
    for app in ("payplug", "merchants", "payments", "fraud", "notifications"):
        assert apps.is_installed(app) and (ROOT / app).is_dir()
    assert (
        normalized(page("architecture.md")).count("api | checkout | dashboard -> services (state machine) -> money")
        == 1
    )


def test_docs_dir_is_where_the_pages_are():
    assert DOCS.is_dir() and (DOCS / "index.md").is_file()
