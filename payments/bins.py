"""The issuing country of a card, from the first six digits of its number (the BIN), in both modes.

The data is the BIN table of the bin-cc project (MIT licence), as the `creditcard-identifier`
package ships it (`creditcard_identifier/cards-detailed.json`: about 233,000 six-digit BINs of
Visa, Mastercard, Maestro, American Express, Discover, JCB, UnionPay and others, each with its
issuer's country). Upgrading that pinned package upgrades the table.

The acquirer's own answer, when it gives one (`AcquirerResult.card_country`), wins over this table:
the sandbox answers for its test cards, a live acquirer for the cards it knows. A BIN the table
does not list, or lists for several countries, has no country (None), and the fraud features and
rules treat it as unknown.

Reading the package's JSON takes a second or two and a few hundred MB at its peak, too much for
each web process, so the first process on a machine derives a compact index (six bytes a BIN,
about 1.4 MB) into the system's temporary directory, named after the package version, and every
later lookup, in any process, reads that file once. `BIN_TABLE_PATH` names another place.
"""

from __future__ import annotations

import bisect
import json
import logging
import os
import tempfile
from array import array
from functools import cache
from importlib import metadata, resources
from pathlib import Path

logger = logging.getLogger(__name__)

PACKAGE = "creditcard_identifier"
_MAGIC = b"PPBIN1\n"


def index_path() -> Path:
    """Where the compact index lives (BIN_TABLE_PATH, or the temporary directory)."""
    configured = os.environ.get("BIN_TABLE_PATH")
    if configured:
        return Path(configured)
    version = metadata.version("creditcard-identifier")
    return Path(tempfile.gettempdir()) / f"payplatform-bins-{version}.idx"


def read_package_table() -> dict[int, str]:
    """BIN -> ISO country code, for every BIN the package lists with exactly one country."""
    with resources.files(PACKAGE).joinpath("cards-detailed.json").open("rb") as f:
        schemes = json.load(f)
    table: dict[int, str] = {}
    ambiguous: set[int] = set()
    for scheme in schemes:
        for entry in scheme.get("bins") or ():
            number, countries = str(entry.get("bin", "")), entry.get("countries") or []
            if len(number) != 6 or not number.isdigit():
                continue
            codes = {c.upper() for c in countries if isinstance(c, str) and len(c) == 2 and c.isalpha()}
            key = int(number)
            if len(codes) != 1 or (key in table and table[key] not in codes):
                ambiguous.add(key)  # several issuers' countries: none is the card's for sure
                continue
            table[key] = codes.pop()
    for key in ambiguous:
        table.pop(key, None)
    return table


def _encode(table: dict[int, str]) -> bytes:
    keys = array("I", sorted(table))
    countries = "".join(table[k] for k in keys).encode("ascii")
    return _MAGIC + len(keys).to_bytes(4, "little") + keys.tobytes() + countries


def _decode(data: bytes) -> tuple[array, bytes]:
    if not data.startswith(_MAGIC):
        raise ValueError("not a BIN index")
    start = len(_MAGIC)
    count = int.from_bytes(data[start : start + 4], "little")
    keys = array("I")
    keys.frombytes(data[start + 4 : start + 4 + 4 * count])
    countries = data[start + 4 + 4 * count :]
    if len(keys) != count or len(countries) != 2 * count:
        raise ValueError("truncated BIN index")
    return keys, countries


def build_index(path: Path | None = None) -> Path:
    """Derive the compact index from the package's table and write it atomically."""
    path = path or index_path()
    data = _encode(read_package_table())
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.chmod(tmp, 0o644)  # every process of the machine may read it, whichever user built it
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


@cache
def _index() -> tuple[array, bytes]:
    path = index_path()
    try:
        return _decode(path.read_bytes())
    except (OSError, ValueError):
        pass
    try:
        return _decode(build_index(path).read_bytes())
    except OSError:  # a read-only temporary directory: keep this process's copy in memory
        logger.warning("could not write the BIN index to %s; kept in memory", path, exc_info=True)
        return _decode(_encode(read_package_table()))


def country_of(number: str) -> str | None:
    """The issuer's country (ISO 3166-1 alpha-2) of a card number or BIN, or None if unknown."""
    digits = (number or "")[:6]
    if len(digits) != 6 or not digits.isdigit():
        return None
    keys, countries = _index()
    key = int(digits)
    i = bisect.bisect_left(keys, key)
    if i < len(keys) and keys[i] == key:
        return countries[2 * i : 2 * i + 2].decode("ascii")
    return None
