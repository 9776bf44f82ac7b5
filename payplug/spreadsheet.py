"""CSV that spreadsheets open as data: the one writer for every CSV file the platform produces.

A cell that starts with `=`, `+`, `-`, `@`, a tab or a carriage return is run as a formula by
Excel, LibreOffice or Google Sheets (`=HYPERLINK(...)`, DDE payloads). Following OWASP's advice on
CSV injection, such a text cell is written with a leading single quote, which makes spreadsheets
show it as text; the csv module already quotes the cells that hold quotes, commas or line breaks.
We also look past leading whitespace (some spreadsheets trim it on import) and at the full-width
forms of those signs.

Only text is escaped: numbers we compute (integer cents, a refund's -1250) are written as they are
and stay numbers in the sheet.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from typing import Any

FORMULA_STARTS = frozenset("=+-@\t\r\uff1d\uff0b\uff0d\uff20")


def safe_cell(value: Any) -> Any:
    """`value` as a cell: text a spreadsheet would evaluate gets a leading quote; anything that is
    not a str (int, Decimal, None...) is returned unchanged."""
    if not isinstance(value, str) or not value:
        return value
    if value[0] in FORMULA_STARTS or value.lstrip()[:1] in FORMULA_STARTS:
        return "'" + value
    return value


def safe_row(row: Iterable[Any]) -> list[Any]:
    return [safe_cell(value) for value in row]


class SafeWriter:
    """csv.writer's interface (writerow / writerows / dialect), each cell through `safe_cell`.
    writerow returns what the stream's write returned, so it also feeds a streaming response."""

    def __init__(self, stream, dialect="excel", **fmtparams):
        self._writer = csv.writer(stream, dialect, **fmtparams)

    @property
    def dialect(self):
        return self._writer.dialect

    def writerow(self, row: Iterable[Any]):
        return self._writer.writerow(safe_row(row))

    def writerows(self, rows: Iterable[Iterable[Any]]) -> None:
        for row in rows:
            self.writerow(row)


def writer(stream, dialect="excel", **fmtparams) -> SafeWriter:
    """Use instead of csv.writer for any CSV a person may open."""
    return SafeWriter(stream, dialect, **fmtparams)
