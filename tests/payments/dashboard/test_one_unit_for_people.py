"""One unit for people (issue 12, finding 16): every amount a person reads is in euros, formatted
for their language; a CSV column holds integer cents only where the API contract says so, and then
the column's name or the documentation says so, next to a decimal euros column."""

import csv
import io
import re
from pathlib import Path

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from payments.dashboard import queries
from payments.money import reports
from tests.payments.helpers import create_payment, pay

NBSP = "\u00a0"


def paid(api, amount=3300):
    payment = create_payment(api, amount=amount)
    pay(payment)
    return payment


def browser(lang):
    return {"accept-language": lang}


def movements_section(page: str) -> str:
    return page.split('id="money-movements"', 1)[1].split("</section>", 1)[0]


@pytest.mark.parametrize(
    ("lang", "gross", "fee", "net"),
    [("en", "€33.00", "€0.71", "€32.29"), ("fr", f"33,00{NBSP}€", f"0,71{NBSP}€", f"32,29{NBSP}€")],
)
def test_money_movements_are_in_euros(api, alice_client, lang, gross, fee, net):
    payment = paid(api)

    page = alice_client.get(reverse("dashboard:payment", args=[payment["id"]]), headers=browser(lang)).content.decode()

    section = movements_section(page)
    assert gross in section and fee in section and net in section
    assert not re.search(r">\s*-?(3300|71|3229)\s*<", section), "raw cents on the page"
    assert "cents" not in section and "centimes" not in section


def export(alice_client, lang="en"):
    response = alice_client.get(reverse("dashboard:payments_export"), headers=browser(lang))
    return list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))


@pytest.mark.parametrize("lang", ["en", "fr"])
def test_the_payments_export_is_in_decimal_euros_with_its_currency(api, alice_client, lang):
    payment = paid(api, amount=123456)
    api.post(f"/v1/payments/{payment['id']}/refunds", {"amount": 1050})

    (row,) = export(alice_client, lang)

    assert row["amount"] == "1234.56"  # a decimal number a spreadsheet reads, whatever the language
    assert row["amount_refunded"] == "10.50"
    assert row["currency"] == "EUR"
    assert not any(name.endswith("_cents") for name in row)  # no contract asks for cents here


def test_the_accounting_report_keeps_the_contract_cents_and_adds_euros(api, alice_client):
    paid(api)
    today = timezone.now().date().isoformat()
    created = api.post("/v1/accounting_reports", {"start_date": today, "end_date": today}).json()
    url = api.get(f"/v1/accounting_reports/{created['id']}").json()["temporary_url"]
    response = Client().get("/" + url.split("://", 1)[1].split("/", 1)[1])
    (row,) = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))

    # The API contract's columns (spec §11): integer cents, as documented.
    assert (row["gross_amount"], row["fee"], row["net_amount"], row["balance"]) == ("3300", "71", "3229", "3229")
    # The same amounts in euros, in columns whose name says so.
    assert (row["gross_amount_eur"], row["fee_eur"], row["net_amount_eur"], row["balance_eur"]) == (
        "33.00",
        "0.71",
        "32.29",
        "32.29",
    )
    assert list(row)[: len(reports.CONTRACT_COLUMNS)] == reports.CONTRACT_COLUMNS


def test_the_docs_name_the_unit_of_every_csv_amount_column():
    docs = (Path(__file__).resolve().parents[3] / "docs").rglob("*.md")
    text = "\n".join(path.read_text() for path in docs)
    for column in ("amount", "amount_refunded"):
        assert re.search(rf"`{column}` \| [^\n]*euros", text), column
    for column in ("gross_amount_eur", "fee_eur", "net_amount_eur", "balance_eur"):
        assert re.search(rf"`{column}` \| [^\n]*euros", text), column
    for column in queries.EXPORT_COLUMNS:
        assert f"`{column}`" in text, column
