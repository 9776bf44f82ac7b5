"""Issue 12, findings 2, 4, 5 and 9: dashboard pages that an optional field cannot break, a
metadata filter whose input is data (never an ORM lookup), CSV cells that a spreadsheet does not
run as formulas, and no dashboard page kept in a shared or browser cache."""

import csv
import io
import json
import re
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import URLPattern, URLResolver, reverse
from django.utils import timezone

from merchants.models import Invitation, Membership, Merchant
from merchants.services.audit import Actor
from merchants.services.team import invite_member
from notifications.models import Delivery, Event
from notifications.services.endpoints import create_endpoint
from payments import links, services
from payments.dashboard import queries
from payments.models import AccountingReport, Customer, Dispute, Payment, Payout
from payments.money import disputes, ledger, payouts, reports
from payments.report_links import temporary_url
from payplug.urls import dashboard_patterns
from tests import factories
from tests.associations.helpers import make_campaign
from tests.merchants.helpers_team import login
from tests.payments.helpers import create_payment, pay
from tests.payments.installments.helpers import create_plan
from tests.payments.subscriptions.helpers import create as create_subscription

ORIGIN = "https://asso.example.org"
IBAN = "FR1420041010050500013M02606"


def make_payment(merchant, **fields) -> Payment:
    """A row straight into the table, with only what the pay button or a link would set."""
    now = timezone.now()
    values = {
        "merchant": merchant,
        "is_live": False,
        "amount": 1500,
        "status": Payment.Status.CREATED,
        "created_at": now,
        "expires_at": now + timedelta(hours=1),
        "billing": {},
        "billing_email": None,
        "metadata": {},
    }
    values.update(fields)
    return Payment.objects.create(**values)


def csv_rows(response) -> list[dict]:
    body = b"".join(response.streaming_content).decode() if response.streaming else response.content.decode()
    return list(csv.DictReader(io.StringIO(body, newline="")))


# --- finding 2: an optional field never breaks a page ---------------------------------------------


def _dashboard_pages_200(client, payment: Payment):
    pages = [
        reverse("dashboard:payments"),
        reverse("dashboard:payment", args=[payment.public_id]),
        reverse("dashboard:customers"),
        reverse("dashboard:payments_export"),
        reverse("dashboard:home"),
    ]
    for url in pages:
        response = client.get(url)
        assert response.status_code == 200, (url, response.status_code)
        if response.streaming:
            b"".join(response.streaming_content)


def test_a_pay_button_payment_without_email_leaves_every_page_working(alice_client, merchant_a):
    Merchant.objects.filter(pk=merchant_a.pk).update(allowed_origins=[ORIGIN])
    key = factories.publishable_key(merchant_a)
    answer = alice_client.post(
        f"/pay/button/{key}/",
        json.dumps({"amount": 1500, "description": "Donation"}),
        content_type="application/json",
        headers={"origin": ORIGIN},
    )
    assert answer.status_code == 201
    payment = Payment.objects.get(merchant=merchant_a, source="button")
    assert not payment.billing_email and "email" not in (payment.billing or {})

    _dashboard_pages_200(alice_client, payment)
    listed = alice_client.get(reverse("dashboard:payments"))
    assert payment.public_id in listed.content.decode()


def test_a_link_payment_without_email_leaves_every_page_working(alice_client, merchant_a):
    link = links.create_link(merchant_a, False, Actor.system("tests"), {"description": "Concert", "amount": 1200})
    payment = services.create_payment(
        merchant_a,
        False,
        services.NewPayment(
            amount=1200, billing={"language": "fr"}, description="Concert", metadata={"payment_link": link.public_id}
        ),
    )

    _dashboard_pages_200(alice_client, payment)


@pytest.mark.parametrize(
    "fields",
    [
        {"billing": {}},
        {"billing": {"first_name": "Jeanne"}, "shipping": None},
        {"billing": {"email": None, "first_name": None}},
        {"billing": {"language": "fr"}, "description": None, "card_brand": None, "card_last4": None},
        {"metadata": {"items": "3", "keys": 1, "values": None, "get": "x"}},
    ],
    ids=["empty-billing", "no-email-no-shipping", "null-email", "nothing-optional", "metadata-named-like-methods"],
)
def test_no_dashboard_page_fails_on_an_optional_field(alice_client, merchant_a, fields):
    payment = make_payment(merchant_a, **fields)

    _dashboard_pages_200(alice_client, payment)


def test_the_detail_lists_metadata_whose_keys_look_like_dict_methods(alice_client, merchant_a):
    payment = make_payment(merchant_a, metadata={"items": "three", "order_id": "42"})

    html = alice_client.get(reverse("dashboard:payment", args=[payment.public_id])).content.decode()

    assert "<dt>items</dt><dd>three</dd>" in html and "<dt>order_id</dt><dd>42</dd>" in html


# --- finding 4: the metadata filter takes a key and a value, never a lookup -----------------------


def listed(response) -> set[str]:
    return {p.public_id for p in response.context["page"]}


@pytest.mark.parametrize(
    "raw",
    [
        "key__regex=^(a+)+$",
        "order_id__regex=(.*a){20}",
        "key__isnull=true",
        "key__in=a,b",
        "a__b=1",
        "order_id__contains=4",
        "__=1",
        "k" * 41 + "=1",
        "k" * 10_000 + "=1",
        "key with space=1",
        "clé=1",
        "=1",
        "noequals",
    ],
)
def test_a_metadata_filter_with_a_bad_key_is_reported_next_to_the_field_and_never_queried(
    alice_client, merchant_a, raw
):
    make_payment(merchant_a, metadata={"key": "aaaa", "order_id": "42", "a": {"b": 1}})

    with CaptureQueriesContext(connection) as queries_run:
        response = alice_client.get(reverse("dashboard:payments"), {"metadata": raw})

    assert response.status_code == 200
    assert "metadata" in response.context["filters"].errors
    assert not response.context["filters"].metadata_key
    html = response.content.decode()
    assert re.search(r'id="f-meta"[^>]*>\s*<span class="error">', html), "the message sits next to the field"
    sql = " ".join(q["sql"] for q in queries_run.captured_queries).upper()
    assert "REGEXP" not in sql and "JSON_EXTRACT" not in sql and "JSON_TYPE" not in sql


@pytest.mark.parametrize("key", ["regex", "isnull", "in", "contains", "has_key", "exact", "iregex", "startswith"])
def test_a_key_named_like_an_orm_lookup_is_a_key(alice_client, merchant_a, key):
    wanted = make_payment(merchant_a, metadata={key: "x"})
    make_payment(merchant_a, metadata={key: "y"})
    make_payment(merchant_a, metadata={"other": "x"})

    response = alice_client.get(reverse("dashboard:payments"), {"metadata": f"{key}=x"})

    assert response.status_code == 200 and not response.context["filters"].errors
    assert listed(response) == {wanted.public_id}


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("order_id=42", {"string42", "number42"}),
        ("order_id=.*", {"dotstar"}),
        ("order_id=4%", set()),
        ("order_id=(a+)+$", set()),
        ("flag=true", {"bool"}),
        ("2024=yes", {"digits"}),
        ("shop.ref=A-1", {"dotted"}),
        ("order_id= 42 ", {"string42", "number42"}),
        ("note=a=b", {"equals"}),
        ("rate=12.5", {"float"}),
        ("order_id=null", {"null"}),
    ],
)
def test_metadata_values_are_compared_as_data(alice_client, merchant_a, raw, expected):
    made = {
        "string42": make_payment(merchant_a, metadata={"order_id": "42"}),
        "number42": make_payment(merchant_a, metadata={"order_id": 42}),
        "dotstar": make_payment(merchant_a, metadata={"order_id": ".*"}),
        "other": make_payment(merchant_a, metadata={"order_id": "420"}),
        "bool": make_payment(merchant_a, metadata={"flag": True}),
        "digits": make_payment(merchant_a, metadata={"2024": "yes"}),
        "dotted": make_payment(merchant_a, metadata={"shop.ref": "A-1", "shop": {"ref": "A-1"}}),
        "equals": make_payment(merchant_a, metadata={"note": "a=b"}),
        "float": make_payment(merchant_a, metadata={"rate": 12.5}),
        "null": make_payment(merchant_a, metadata={"order_id": None}),
    }

    response = alice_client.get(reverse("dashboard:payments"), {"metadata": raw})

    assert response.status_code == 200 and not response.context["filters"].errors
    assert {name for name, p in made.items() if p.public_id in listed(response)} == expected


def test_the_parser_keeps_only_plain_keys():
    def parse(raw):
        return queries.parse_filters({"metadata": raw})

    assert (parse("order_id=42").metadata_key, parse("order_id=42").metadata_value) == ("order_id", "42")
    assert parse("a.b-c_d=1").metadata_key == "a.b-c_d"
    assert parse("k" * 40 + "=1").metadata_key == "k" * 40
    for bad in ("a__b=1", "_" * 2 + "=1", "k" * 41 + "=1", "a b=1", "a'=1", 'a"=1', "a$=1", "a[0]=1", "a*=1"):
        assert parse(bad).metadata_key == "" and "metadata" in parse(bad).errors, bad


# --- finding 5: CSV cells a spreadsheet will not run -------------------------------------------------

FORMULAS = ['=HYPERLINK("http://x","y")', "+1", "-2+3", "@SUM(A1)", "\t=1", "\r=1", " =1+2", "=cmd|' /C calc'!A0"]


@pytest.mark.parametrize("text", FORMULAS)
def test_the_payments_export_escapes_formulas_from_shoppers(alice_client, merchant_a, text):
    make_payment(
        merchant_a,
        status=Payment.Status.PAID,
        amount=8900,
        description=text,
        billing={"email": "=1+2@example.org"},
        billing_email="=1+2@example.org",
        metadata={text: text},
    )

    (row,) = csv_rows(alice_client.get(reverse("dashboard:payments_export")))

    assert row["description"] == "'" + text
    assert row["email"] == "'=1+2@example.org"
    assert row["metadata"].startswith("{")
    assert row["amount"] == "89.00"  # numbers we write stay numbers (decimal euros, finding 16)


def test_the_payments_export_leaves_ordinary_text_alone(alice_client, merchant_a):
    make_payment(merchant_a, description="Tickets, 2 x concert", billing_email="jeanne@example.org")

    (row,) = csv_rows(alice_client.get(reverse("dashboard:payments_export")))

    assert row["description"] == "Tickets, 2 x concert" and row["email"] == "jeanne@example.org"


def test_the_accounting_report_escapes_text_cells_and_keeps_negative_amounts_as_numbers(api, merchant_a, monkeypatch):
    paid = create_payment(api, amount=8900, description="-2+3", metadata={"note": '=HYPERLINK("http://x","y")'})
    pay(paid)
    services.refund(Payment.objects.get(public_id=paid["id"]), 1250)
    real_rows = reports.rows

    def rows_with_a_formula(*args):
        yield from real_rows(*args)
        # A text cell as a shopper could write one, beside a negative amount we computed.
        yield [
            "2024-01-01T00:00:00Z",
            '=HYPERLINK("http://x","y")',
            "@SUM(A1)",
            "+1",
            -1250,
            0,
            -1250,
            0,
            "EUR",
            "\t=1",
        ]

    monkeypatch.setattr(reports, "rows", rows_with_a_formula)
    today = timezone.now().date()
    report = reports.create_report(merchant_a, False, today, today, None)
    report = reports.generate(report.pk) if report.status == AccountingReport.Status.PENDING else report
    report.refresh_from_db()
    assert report.status == AccountingReport.Status.AVAILABLE

    with report.file.open("rb") as handle:
        table = list(csv.reader(io.StringIO(handle.read().decode(), newline="")))
    header, lines = table[0], table[1:]
    column = {name: i for i, name in enumerate(header)}
    refund = next(line for line in lines if line[column["operation_type"]] == "refund")
    assert refund[column["gross_amount"]] == "-1250"
    assert re.fullmatch(r"-\d+", refund[column["net_amount"]])
    payment_line = next(line for line in lines if line[column["operation_type"]] == "payment")
    assert json.loads(payment_line[column["metadata"]])["note"] == '=HYPERLINK("http://x","y")'
    injected = lines[-1]
    assert injected[1:4] == ['\'=HYPERLINK("http://x","y")', "'@SUM(A1)", "'+1"]
    assert injected[4] == "-1250" and injected[6] == "-1250" and injected[-1] == "'\t=1"
    for line in lines:
        for i, cell in enumerate(line):
            if header[i] in ("gross_amount", "fee", "net_amount", "balance"):
                assert re.fullmatch(r"-?\d+", cell), (header[i], cell)
            elif header[i] in reports.EURO_COLUMNS:  # decimal euros (finding 16): numbers too
                assert re.fullmatch(r"-?\d+\.\d\d", cell), (header[i], cell)
            else:
                assert cell[:1] not in ("=", "+", "-", "@", "\t", "\r"), (header[i], cell)


# --- finding 9: no dashboard page is cached ----------------------------------------------------------


def dashboard_routes(patterns=dashboard_patterns, prefix=""):
    """Every route under /dashboard/, whichever app's urls module declares it."""
    for entry in patterns:
        if isinstance(entry, URLResolver):
            yield from dashboard_routes(entry.url_patterns, prefix)
        elif isinstance(entry, URLPattern) and entry.name:
            yield entry


ROUTES = {route.name: route for route in dashboard_routes()}


@pytest.fixture
def everything(api, alice, merchant_a):
    """One of each object a dashboard URL can name, for merchant A in test mode."""
    Merchant.objects.filter(pk=merchant_a.pk).update(iban=IBAN)
    paid = create_payment(api, amount=4200)
    pay(paid)
    payment = Payment.objects.get(public_id=paid["id"])
    disputed = create_payment(api, amount=3100)
    pay(disputed)
    dispute = disputes.open_dispute(Payment.objects.get(public_id=disputed["id"]), Dispute.Reason.FRAUDULENT)
    pdf = SimpleUploadedFile(
        "receipt.pdf", b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n%%EOF\n", "application/pdf"
    )
    evidence = disputes.add_evidence(dispute, pdf)
    ledger.settle(merchant_a.pk, False, timezone.now() + timedelta(days=8))
    payouts.run_payouts(now=timezone.now() + timedelta(days=8, minutes=5))
    payout = Payout.objects.filter(merchant=merchant_a).first() or Payout.objects.create(
        merchant=merchant_a, is_live=False, amount=100, payout_date=timezone.now().date(), iban=IBAN, holder_name="A"
    )
    today = timezone.now().date()
    report = reports.create_report(merchant_a, False, today - timedelta(days=1), today, None)
    reports.generate(report.pk)
    report.refresh_from_db()
    customer = Customer.objects.create(merchant=merchant_a, is_live=False, email="jeanne@example.org")
    link = links.create_link(merchant_a, False, Actor.system("tests"), {"description": "Concert", "amount": 1200})
    # Every page below also lists a payment with nothing optional filled in (finding 2).
    make_payment(merchant_a, status=Payment.Status.PAID, link=link, description=None, metadata={"items": "1"})
    endpoint, _ = create_endpoint(merchant_a, False, url="https://h.shop.example/x", event_types=[])
    event = Event.objects.filter(merchant=merchant_a).first()
    delivery = Delivery.objects.filter(merchant=merchant_a).first() or Delivery.objects.create(
        event=event, merchant=merchant_a, is_live=False, kind=Delivery.Kind.IPN, target_key="ipn", target="https://x"
    )
    target = factories.member(merchant_a, "target@example.org", Membership.Role.SUPPORT)
    invitation, _ = invite_member(merchant_a, "invited@example.org", Membership.Role.SUPPORT, Actor())
    key = merchant_a.api_keys.first()
    return {
        "membership_id": Membership.objects.get(user=target).pk,
        "invitation_id": Invitation.objects.get(pk=invitation.pk).pk,
        "key_id": key.pk,
        "payment_id": payment.public_id,
        "customer_id": customer.public_id,
        "payout_id": payout.public_id,
        "report_id": report.public_id,
        "token": temporary_url(report).rstrip("/").rsplit("/", 1)[-1],
        "dispute_id": dispute.public_id,
        "evidence_id": evidence.pk,
        "link_id": link.public_id,
        "kind": "svg",
        "delivery_id": delivery.public_id,
        "endpoint_id": endpoint.public_id,
        "plan_id": create_plan(api, merchant_a)["id"],
        "sub_id": create_subscription(merchant_a).public_id,
        "campaign_id": make_campaign(merchant_a).public_id,
    }


def test_every_dashboard_page_answers_private_no_store(client, alice, merchant_a, everything):
    login(client, alice, merchant_a)
    assert {"home", "payments", "payment", "customer", "team", "audit", "dispute", "accounting_download"} <= set(ROUTES)
    checked = []
    for name, route in ROUTES.items():
        # A KeyError here means a new route takes an id this test does not know yet: add it above.
        kwargs = {arg: everything[arg] for arg in route.pattern.converters}
        response = client.get(reverse(f"dashboard:{name}", kwargs=kwargs))
        if response.streaming:
            b"".join(response.streaming_content)
        if response.status_code == 405:  # POST-only: answered before any data is read
            continue
        assert response.status_code in (200, 302), (name, response.status_code)
        directives = {d.strip().split("=")[0] for d in response.get("Cache-Control", "").split(",")}
        assert {"private", "no-store"} <= directives, (name, response.get("Cache-Control"))
        assert "public" not in directives, name
        checked.append(name)
    assert len(checked) >= 30, checked
