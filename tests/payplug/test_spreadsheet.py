"""payplug.spreadsheet: CSV cells a spreadsheet shows as text, never runs as a formula (OWASP's
CSV injection advice), and the one writer every CSV of the project goes through (issue 12, finding 5)."""

import csv
import io
import re
from decimal import Decimal
from pathlib import Path

import pytest

from payplug import spreadsheet

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("payments", "merchants", "fraud", "notifications", "payplug")


@pytest.mark.parametrize(
    "text",
    [
        '=HYPERLINK("http://x","y")',
        "=1+2",
        "+1",
        "-2+3",
        "-",
        "@SUM(A1)",
        "\t=1",
        "\r=1",
        "\n=1",
        " =1+2",
        "\u00a0=1",
        "=cmd|' /C calc'!A0",
        "\uff1d1+1",  # a full-width equals sign, read as '=' by some spreadsheets
    ],
)
def test_text_that_a_spreadsheet_would_evaluate_is_prefixed_with_a_quote(text):
    assert spreadsheet.safe_cell(text) == "'" + text


@pytest.mark.parametrize(
    "text", ["", "order 42", "jeanne@example.org", "2024-01-01T00:00:00Z", "pay_abc", '{"a":"=1"}', "a=b", "'=1", "1-2"]
)
def test_ordinary_text_is_left_alone(text):
    assert spreadsheet.safe_cell(text) == text


@pytest.mark.parametrize("value", [-1250, 0, 3300, Decimal("-12.50"), -0.5, None, True])
def test_values_we_compute_stay_as_they_are(value):
    assert spreadsheet.safe_cell(value) is value


def test_a_row_keeps_negative_amounts_as_numbers_and_escapes_shopper_text():
    stream = io.StringIO(newline="")
    out = spreadsheet.writer(stream)

    out.writerow(["re_1", -1250, "-2+3", '=HYPERLINK("http://x","y")', "\r=1"])
    out.writerows([["@x", 5], ["plain", -7]])

    text = stream.getvalue()
    assert text.splitlines()[0].startswith("re_1,-1250,'-2+3,")
    rows = list(csv.reader(io.StringIO(text, newline="")))
    assert rows == [
        ["re_1", "-1250", "'-2+3", '\'=HYPERLINK("http://x","y")', "'\r=1"],
        ["'@x", "5"],
        ["plain", "-7"],
    ]
    assert spreadsheet.safe_row(("=1", 2)) == ["'=1", 2]


def test_the_writer_returns_what_csv_writes_for_streaming():
    class Echo:
        def write(self, value):
            return value

    assert spreadsheet.writer(Echo()).writerow(["=1", -1]) == "'=1,-1\r\n"


def test_every_csv_the_project_writes_goes_through_the_safe_writer():
    offenders = []
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            if path == ROOT / "payplug" / "spreadsheet.py" or "migrations" in path.parts:
                continue
            for number, line in enumerate(path.read_text().splitlines(), 1):
                # A file read back by the program only (never opened by a person) says so on the line.
                if re.search(r"\bcsv\.(writer|DictWriter)\(", line) and "not a spreadsheet:" not in line:
                    offenders.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    assert offenders == [], "use payplug.spreadsheet.writer:\n" + "\n".join(offenders)
