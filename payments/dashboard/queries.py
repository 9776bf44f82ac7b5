"""Queries of the dashboard's back office: payment filters, keyset pages, streamed CSV, customers,
charts.

Keyset pagination on (created_at, id), newest first: a page is `WHERE (created_at, id) < cursor
ORDER BY created_at DESC, id DESC LIMIT n`, served by the (merchant, is_live[, filter], -created_at,
-id) indexes, so page 10 000 costs what page 1 costs. No COUNT(*) anywhere.
"""

from __future__ import annotations

import base64
import json
import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, tzinfo

from django.db.models import Case, Count, Exists, F, IntegerField, Max, Min, OuterRef, Q, Sum, When
from django.db.models.fields.json import KeyTransform
from django.db.models.functions import Lower, Trim, TruncDate
from django.utils import timezone, translation
from django.utils.html import escape
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from payments import amounts
from payments.models import Customer, LedgerAccount, LedgerEntry, LedgerTransaction, Payment
from payments.money import ledger
from payplug import dates

PAGE_SIZE = 50
_LAST4 = re.compile(r"^\d{4}$")
_PUBLIC_ID = re.compile(r"^(pay|re|cus|card|dp)_[A-Za-z0-9]{10,40}$")
_METADATA_KEY = re.compile(r"[A-Za-z0-9_.\-]{1,40}")


def plain_metadata_key(key: str) -> bool:
    """A key the metadata filter accepts: up to 40 letters, digits, '_', '-' or '.', and no '__',
    so that it cannot spell an ORM lookup (it is used as a value in any case, see _MetadataKey)."""
    return len(key) <= 40 and "__" not in key and _METADATA_KEY.fullmatch(key) is not None


# --- filters ---------------------------------------------------------------------------------------

# Statuses a person reads on the badge (Payment.status_display) besides the stored ones: a paid
# payment refunded in full or in part. "Paid" then means paid and not refunded, as its badge says.
REFUNDED, PARTIALLY_REFUNDED = "refunded", "partially_refunded"
REFUND_STATUSES = {REFUNDED: gettext_lazy("Refunded"), PARTIALLY_REFUNDED: gettext_lazy("Partially refunded")}


def status_choices() -> list[tuple[str, str]]:
    """The status filter's options, in the order of a payment's life: refunds right after "Paid"."""
    choices = []
    for value, label in Payment.Status.choices:
        choices.append((value, label))
        if value == Payment.Status.PAID:
            choices += list(REFUND_STATUSES.items())
    return choices


@dataclass
class PaymentFilters:
    status: str = ""
    date_from: date | None = None
    date_to: date | None = None
    amount_min: int | None = None
    amount_max: int | None = None
    last4: str = ""
    email: str = ""
    metadata_key: str = ""
    metadata_value: str = ""
    q: str = ""
    errors: dict = field(default_factory=dict)

    def query_items(self) -> list[tuple[str, str]]:
        """The filters as query-string pairs (links to the next page and to the export)."""
        items = []
        if self.status:
            items.append(("status", self.status))
        if self.date_from:
            items.append(("date_from", self.date_from.isoformat()))
        if self.date_to:
            items.append(("date_to", self.date_to.isoformat()))
        if self.amount_min is not None:
            items.append(("amount_min", amounts.amount_for_input(self.amount_min)))
        if self.amount_max is not None:
            items.append(("amount_max", amounts.amount_for_input(self.amount_max)))
        for name in ("last4", "email", "q"):
            if getattr(self, name):
                items.append((name, getattr(self, name)))
        if self.metadata_key:
            items.append(("metadata", f"{self.metadata_key}={self.metadata_value}"))
        return items


def parse_filters(params) -> PaymentFilters:
    """Read the filters from a QueryDict; bad values are reported in `errors` and ignored."""
    f = PaymentFilters()
    status = params.get("status", "")
    if status in Payment.Status.values or status in REFUND_STATUSES:
        f.status = status
    for name in ("date_from", "date_to"):
        raw = params.get(name, "").strip()
        if raw:
            try:
                setattr(f, name, date.fromisoformat(raw))
            except ValueError:
                f.errors[name] = "Enter a date as YYYY-MM-DD."
    for name in ("amount_min", "amount_max"):
        raw = params.get(name, "").strip()
        if raw:
            cents = amounts.parse_amount(raw)
            if cents is None:
                f.errors[name] = "Enter an amount in euros, e.g. 12.50."
            else:
                setattr(f, name, cents)
    last4 = params.get("last4", "").strip()
    if last4:
        if _LAST4.match(last4):
            f.last4 = last4
        else:
            f.errors["last4"] = "Enter the last 4 digits of the card."
    f.email = params.get("email", "").strip()[:255]
    metadata = params.get("metadata", "").strip()
    if metadata:
        key, sep, value = metadata.partition("=")
        key = key.strip()
        if not sep or not key:
            f.errors["metadata"] = _("Enter metadata as key=value.")
        elif not plain_metadata_key(key):
            f.errors["metadata"] = _(
                "A metadata key is up to 40 letters, digits and _ - . characters, without a double underscore."
            )
        else:
            f.metadata_key, f.metadata_value = key, value.strip()[:500]  # spec §6.2: values ≤ 500
    f.q = params.get("q", "").strip()[:255]
    return f


class _MetadataKey(KeyTransform):
    """One key of the metadata object, built as an expression: the key is a value passed to the
    JSON path, never parsed as ORM syntax (`key__regex` or a key named `isnull` stay keys), and an
    all-digit key stays a key (Django's path reads '2024' as an array index)."""

    def _path(self) -> str:
        return "$." + json.dumps(self.key_name)

    def as_sqlite(self, compiler, connection):
        lhs, params = compiler.compile(self.lhs)
        types = ",".join(repr(datatype) for datatype in connection.ops.jsonfield_datatype_values)
        json_type, json_extract = f"JSON_TYPE({lhs}, %s)", f"JSON_EXTRACT({lhs}, %s)"
        # As KeyTransform.as_sqlite: null, true and false by their JSON type, other values as SQL values.
        sql = f"(CASE WHEN {json_type} IN ({types}) THEN {json_type} ELSE {json_extract} END)"
        return sql, (*params, self._path(), *params, self._path(), *params, self._path())

    def as_mysql(self, compiler, connection):
        lhs, params = compiler.compile(self.lhs)
        return f"JSON_EXTRACT({lhs}, %s)", (*params, self._path())


def _metadata_values(value: str) -> list:
    """What a typed value matches, as data (spec §6.2: values keep their JSON type): the string
    itself, and the number, boolean or null it spells ("42" matches "42" and 42, "true" true).
    Each is compared for equality as a JSON value: no pattern, no wildcard."""
    values: list = [value]
    if re.fullmatch(r"-?\d{1,15}", value):
        values.append(int(value))
    elif re.fullmatch(r"-?\d{1,15}\.\d{1,15}", value):
        values.append(float(value))
    elif value in ("true", "false"):
        values.append(value == "true")
    elif value == "null":
        values.append(None)  # JSON null (an exact lookup with None compares with JSON null)
    return values


def _filter_metadata(queryset, key: str, value: str):
    if not plain_metadata_key(key):  # parse_filters already refused it: it never reaches the ORM
        return queryset.none()
    condition = Q()
    for candidate in _metadata_values(value):
        condition |= Q(metadata_filter_value=candidate)  # an exact comparison on the expression
    return queryset.alias(metadata_filter_value=_MetadataKey(key, "metadata")).filter(condition)


def _filter_status(queryset, status: str):
    if status == Payment.Status.PAID:
        return queryset.filter(status=status, amount_refunded=0)
    if status == REFUNDED:
        return queryset.filter(status=Payment.Status.PAID, amount_refunded__gte=F("amount"), amount_refunded__gt=0)
    if status == PARTIALLY_REFUNDED:
        return queryset.filter(status=Payment.Status.PAID, amount_refunded__gt=0, amount_refunded__lt=F("amount"))
    return queryset.filter(status=status)


def _day_start(day: date, zone: tzinfo) -> datetime:
    """Midnight of `day` in `zone` (a day of the organisation, as its dates are shown)."""
    return datetime.combine(day, time.min).replace(tzinfo=zone)


def filter_payments(queryset, f: PaymentFilters, zone: tzinfo | None = None):
    """The filters on a tenant's payments; dates are days of `zone` (default: the active time zone,
    the organisation's on dashboard pages)."""
    zone = zone or timezone.get_current_timezone()
    if f.status:
        queryset = _filter_status(queryset, f.status)
    if f.date_from:
        queryset = queryset.filter(created_at__gte=_day_start(f.date_from, zone))
    if f.date_to:
        queryset = queryset.filter(created_at__lt=_day_start(f.date_to + timedelta(days=1), zone))
    if f.amount_min is not None:
        queryset = queryset.filter(amount__gte=f.amount_min)
    if f.amount_max is not None:
        queryset = queryset.filter(amount__lte=f.amount_max)
    if f.last4:
        queryset = queryset.filter(card_last4=f.last4)
    if f.email:
        queryset = queryset.filter(billing_email=f.email)
    if f.metadata_key:
        queryset = _filter_metadata(queryset, f.metadata_key, f.metadata_value)
    if f.q:
        q = f.q
        if _PUBLIC_ID.match(q):
            if q.startswith("pay_"):
                queryset = queryset.filter(public_id=q)
            elif q.startswith("re_"):
                queryset = queryset.filter(refunds__public_id=q)
            elif q.startswith("cus_"):
                queryset = queryset.filter(customer_public_id=q)
            elif q.startswith("card_"):
                queryset = queryset.filter(card_public_id=q)
            else:
                queryset = queryset.filter(chargeback__public_id=q)
        elif "@" in q:
            queryset = queryset.filter(billing_email=q)
        elif _LAST4.match(q):
            queryset = queryset.filter(card_last4=q)
        else:
            # Free text: the description (a scan bounded by the other filters and the page size).
            # Lower() on both sides: the database may use a binary (case-sensitive) collation.
            queryset = queryset.annotate(description_lower=Lower("description")).filter(
                description_lower__contains=q.lower()
            )
    return queryset


def metadata_items(metadata) -> list[tuple[str, str]]:
    """A payment's metadata as (key, text) pairs for a page, whatever it holds: a key named like a
    dict method ('items') stays a key, and a number, a boolean or a nested value is shown as JSON."""
    if not isinstance(metadata, dict):
        return []
    return [
        (str(key), value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, sort_keys=True))
        for key, value in sorted(metadata.items(), key=lambda item: str(item[0]))
    ]


# --- keyset pages ----------------------------------------------------------------------------------


def encode_cursor(created_at: datetime, pk: int) -> str:
    raw = f"{int(created_at.timestamp() * 1_000_000)}.{pk}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, int] | None:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        micros, pk = raw.split(".")
        return datetime.fromtimestamp(int(micros) / 1_000_000, tz=UTC), int(pk)
    except (ValueError, UnicodeDecodeError):
        return None


def after_cursor(queryset, cursor: str | None):
    position = decode_cursor(cursor) if cursor else None
    if position is None:
        return queryset
    created_at, pk = position
    # (created_at, id) < cursor, written so that MySQL/MariaDB range-scan the index from the cursor
    # (`a < x OR (a = x AND b < y)` makes them read from the top of the index and filter).
    return queryset.filter(created_at__lte=created_at).exclude(created_at=created_at, pk__gte=pk)


def keyset_ids(queryset, cursor: str | None, size: int) -> list[int]:
    """The page's ids alone: a covering index scan. (Asking MariaDB for whole rows here makes it
    pick a `ref` plan that reads the index from the newest row down to the cursor: seconds deep
    in a million rows, instead of a millisecond.)"""
    return list(after_cursor(queryset, cursor).order_by("-created_at", "-pk").values_list("pk", flat=True)[:size])


def keyset_page(queryset, cursor: str | None, size: int = PAGE_SIZE) -> tuple[list, str | None]:
    ids = keyset_ids(queryset, cursor, size + 1)
    by_id = queryset.model._base_manager.in_bulk(ids[:size])
    rows = [by_id[pk] for pk in ids[:size] if pk in by_id]
    next_cursor = encode_cursor(rows[-1].created_at, rows[-1].pk) if len(ids) > size and rows else None
    return rows, next_cursor


# --- CSV export ------------------------------------------------------------------------------------

# Amounts in euros as decimal numbers ('12.34', with `currency`): no contract asks for cents here.
# Dates in the organisation's time zone, in the dashboard's format of the language ('3 Dec 2026,
# 14:05'), and in ISO 8601 UTC in the `..._utc` columns for scripts. Documented in docs/dashboard.md.
EXPORT_COLUMNS = [
    "id",
    "created_at",
    "status",
    "amount",
    "amount_refunded",
    "currency",
    "paid_at",
    "card_brand",
    "card_last4",
    "email",
    "description",
    "disputed",
    "metadata",
    "created_at_utc",
    "paid_at_utc",
]
_EXPORT_FIELDS = [
    "pk",
    "public_id",
    "created_at",
    "status",
    "amount",
    "amount_refunded",
    "currency",
    "paid_at",
    "card_brand",
    "card_last4",
    "billing_email",
    "description",
    "dispute",
    "metadata",
]


def export_rows(queryset, chunk: int = 2000, *, zone_name: str | None = None, language: str | None = None):
    """CSV rows for a filtered payment queryset, newest first, in constant memory: keyset chunks
    (each one short indexed query, so neither the database nor we hold a million-row cursor).

    The rows are written while the response streams, after the request's time zone and language
    are gone: the view passes them (`zone_name`, `language`)."""
    language = language or translation.get_language()
    zone_name = zone_name or timezone.get_current_timezone_name()
    yield EXPORT_COLUMNS
    cursor = None
    model = queryset.model
    while True:
        ids = keyset_ids(queryset, cursor, chunk)
        by_id = {row[0]: row for row in model._base_manager.filter(pk__in=ids).values_list(*_EXPORT_FIELDS)}
        rows = [by_id[pk] for pk in ids if pk in by_id]
        for row in rows:
            (
                _pk,
                public_id,
                created_at,
                status,
                amount,
                refunded,
                currency,
                paid_at,
                brand,
                last4,
                email,
                description,
                dispute,
                metadata,
            ) = row
            with translation.override(language):
                created_text = dates.format_datetime(created_at, zone_name)
                paid_text = dates.format_datetime(paid_at, zone_name)
            yield [
                public_id,
                created_text,
                status,
                amounts.decimal_amount(amount),
                amounts.decimal_amount(refunded),
                currency,
                paid_text,
                brand or "",
                last4 or "",
                email or "",
                description or "",
                "yes" if dispute else "",
                json.dumps(metadata or {}, separators=(",", ":"), ensure_ascii=False, sort_keys=True),
                dates.iso_utc(created_at),
                dates.iso_utc(paid_at),
            ]
        if len(ids) < chunk or not rows:
            return
        cursor = encode_cursor(rows[-1][2], rows[-1][0])


# --- customers -------------------------------------------------------------------------------------
#
# A customer is a shopper email (case and surrounding spaces ignored): the payments made with it,
# and the customer objects of the API with it; a customer object whose email has no payment is a
# customer too. One list, newest activity first, by keyset on (last activity, id) over two grouped
# queries merged in Python: a page costs two aggregate queries and two lookups, whatever its size.
# A customer's id in the dashboard is its `cus_` id, or else the public id of its first payment.


@dataclass
class CustomerRow:
    email: str
    payment_count: int
    total_paid: int  # cents: paid payments, net of their refunds
    last_payment_at: datetime | None
    key: str  # what the customer's page is called by: cus_... or the first payment's pay_...
    customer_public_id: str | None = None
    sort_at: datetime | None = None
    sort_id: int = 0  # payment groups: their first payment's pk; customer objects: minus their pk

    @property
    def total_paid_display(self) -> str:
        return amounts.format_money(self.total_paid, "EUR")


def email_key(value: str | None) -> str:
    """The email as customers are grouped by it: trimmed and lower-cased."""
    return (value or "").strip().lower()


def _email_expression(field: str):
    return Lower(Trim(field))


def _with_email_key(payments):
    return (
        payments.exclude(billing_email__isnull=True)
        .exclude(billing_email="")
        .annotate(email_key=_email_expression("billing_email"))
        .exclude(email_key="")
    )


def customer_totals(payments):
    """Per email key: payment count, total paid net of refunds, last and first payment."""
    return (
        _with_email_key(payments)
        .values("email_key")
        .annotate(
            payment_count=Count("pk"),
            total_paid=Sum(
                Case(
                    When(status=Payment.Status.PAID, then=F("amount") - F("amount_refunded")),
                    default=0,
                    output_field=IntegerField(),
                )
            ),
            last_at=Max("created_at"),
            first_pk=Min("pk"),
        )
        .order_by()
    )


def _encode_customer_cursor(at: datetime, sort_id: int) -> str:
    raw = f"{at.astimezone(UTC).isoformat()}|{sort_id}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode_customer_cursor(cursor: str | None) -> tuple[datetime, int] | None:
    if not cursor:
        return None
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        at, sort_id = raw.split("|")
        moment = datetime.fromisoformat(at)
        return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)), int(sort_id)
    except (ValueError, UnicodeDecodeError):
        return None


def customer_page(
    payments, customers, q: str = "", cursor: str | None = None, size: int = PAGE_SIZE
) -> tuple[list[CustomerRow], str | None]:
    """One page of customers from a tenant's payments and customer objects (both querysets already
    scoped by merchant and mode); `q` is an email or a cus_ id."""
    customers = customers.annotate(email_key=_email_expression("email"))
    q = (q or "").strip()
    if q:
        if q.startswith("cus_"):
            found = customers.filter(public_id=q).first()
            wanted = found.email_key if found else None
        else:
            wanted = email_key(q)
        if not wanted:
            return [], None
        payments = payments.annotate(email_key=_email_expression("billing_email")).filter(email_key=wanted)
        customers = customers.filter(email_key=wanted)
    groups = customer_totals(payments)
    # Customer objects with no payment under their email (the others are rows of `groups`).
    with_payments = _with_email_key(payments).filter(email_key=OuterRef("email_key"))
    lonely = customers.exclude(email_key="").filter(~Exists(with_payments))
    position = _decode_customer_cursor(cursor)
    if position is not None:
        at, sort_id = position
        groups = groups.filter(Q(last_at__lt=at) | Q(last_at=at, first_pk__lt=sort_id))
        lonely = lonely.filter(Q(created_at__lt=at) | Q(created_at=at, pk__gt=-sort_id))
    rows = [
        CustomerRow(
            email=group["email_key"],
            payment_count=group["payment_count"],
            total_paid=group["total_paid"] or 0,
            last_payment_at=group["last_at"],
            key="",
            sort_at=group["last_at"],
            sort_id=group["first_pk"],
        )
        for group in groups.order_by("-last_at", "-first_pk")[: size + 1]
    ]
    rows += [
        CustomerRow(
            email=customer.email_key,
            payment_count=0,
            total_paid=0,
            last_payment_at=None,
            key=customer.public_id,
            customer_public_id=customer.public_id,
            sort_at=customer.created_at,
            sort_id=-customer.pk,
        )
        for customer in lonely.order_by("-created_at", "-pk")[: size + 1]
    ]
    rows.sort(key=lambda row: (row.sort_at, row.sort_id), reverse=True)
    page, more = rows[:size], len(rows) > size
    _name_payment_groups(page, customers)
    next_cursor = _encode_customer_cursor(page[-1].sort_at, page[-1].sort_id) if more and page else None
    return page, next_cursor


def _name_payment_groups(page: list[CustomerRow], customers) -> None:
    """The page's payment groups get their customer object's id, or their first payment's (two queries)."""
    groups = [row for row in page if not row.key]
    if not groups:
        return
    known = {}
    for public_id, key in (
        customers.filter(email_key__in=[row.email for row in groups])
        .order_by("created_at", "pk")
        .values_list("public_id", "email_key")
    ):
        known.setdefault(key, public_id)
    first = dict(Payment.objects.filter(pk__in=[row.sort_id for row in groups]).values_list("pk", "public_id"))
    for row in groups:
        row.customer_public_id = known.get(row.email)
        row.key = row.customer_public_id or first.get(row.sort_id, "")


@dataclass
class CustomerView:
    """A customer's page: who, their payments (a queryset), and their totals."""

    email: str
    customer: Customer | None
    payments: object
    payment_count: int = 0
    total_paid: int = 0
    last_payment_at: datetime | None = None

    @property
    def total_paid_display(self) -> str:
        return amounts.format_money(self.total_paid, "EUR")


def customer_view(payments, customers, customer_id: str) -> CustomerView | None:
    """The customer a dashboard id names among a tenant's rows (querysets scoped by merchant and
    mode), or None: a `cus_` id of a live customer object, or the id of one of its payments."""
    customer = None
    if customer_id.startswith("cus_"):
        customer = customers.filter(public_id=customer_id).first()
        if customer is None:
            return None
        wanted = email_key(customer.email)
    elif customer_id.startswith("pay_"):
        payment = payments.filter(public_id=customer_id).only("billing_email").first()
        wanted = email_key(payment.billing_email) if payment else ""
        if not wanted:
            return None
        customer = (
            customers.annotate(email_key=_email_expression("email"))
            .filter(email_key=wanted)
            .order_by("created_at", "pk")
            .first()
        )
    else:
        return None
    mine = Q(email_key=wanted) if wanted else Q(pk__in=[])
    if customer is not None:
        mine |= Q(customer_public_id=customer.public_id)
    theirs = payments.annotate(email_key=_email_expression("billing_email")).filter(mine)
    totals = theirs.aggregate(
        payment_count=Count("pk"),
        total_paid=Sum(
            Case(
                When(status=Payment.Status.PAID, then=F("amount") - F("amount_refunded")),
                default=0,
                output_field=IntegerField(),
            )
        ),
        last_at=Max("created_at"),
    )
    return CustomerView(
        email=wanted or email_key(customer.email if customer else ""),
        customer=customer,
        payments=theirs,
        payment_count=totals["payment_count"] or 0,
        total_paid=totals["total_paid"] or 0,
        last_payment_at=totals["last_at"],
    )


# --- balance chart ---------------------------------------------------------------------------------


def daily_series(
    merchant_id: int, is_live: bool, days: int = 30, today: date | None = None, zone: tzinfo | None = None
) -> list[dict]:
    """Per day of `zone` (default: the active time zone, the organisation's on dashboard pages):
    closing balance (pending + available + reserve) and paid volume (captures)."""
    zone = zone or timezone.get_current_timezone()
    today = today or timezone.localdate(timezone=zone)
    first = today - timedelta(days=days - 1)
    start = _day_start(first, zone)
    accounts = ledger.merchant_accounts(merchant_id, is_live)
    ids = [
        accounts[k].pk for k in (LedgerAccount.Kind.PENDING, LedgerAccount.Kind.AVAILABLE, LedgerAccount.Kind.RESERVE)
    ]
    entries = LedgerEntry.objects.filter(account_id__in=ids)
    opening = entries.filter(created_at__lt=start).aggregate(s=Sum("amount"))["s"] or 0
    moves = {
        row["day"]: row["s"]
        for row in entries.filter(created_at__gte=start)
        .annotate(day=TruncDate("created_at", tzinfo=zone))
        .values("day")
        .annotate(s=Sum("amount"))
        .order_by()
    }
    volume = {
        row["day"]: row["s"]
        for row in LedgerTransaction.objects.filter(
            merchant_id=merchant_id, is_live=is_live, kind=LedgerTransaction.Kind.CAPTURE, created_at__gte=start
        )
        .annotate(day=TruncDate("created_at", tzinfo=zone))
        .values("day")
        .annotate(s=Sum("gross"))
        .order_by()
    }
    series, running = [], opening
    for offset in range(days):
        day = first + timedelta(days=offset)
        running += moves.get(day, 0) or 0
        series.append({"day": day, "balance": running, "volume": volume.get(day, 0) or 0})
    return series


def chart_svg(series: list[dict], width: int = 640, height: int = 220) -> str:
    """A server-side SVG: daily volume as bars, the closing balance as a line. No script, no
    external origin; colours are presentation attributes (the CSP allows no inline style).
    Amounts are written like every other amount of the dashboard (amounts.format_money)."""
    if not series:
        return ""
    pad_left, pad_bottom, pad_top = 80, 24, 12  # room for the top label, e.g. '€12,345.67'
    inner_w, inner_h = width - pad_left - 8, height - pad_bottom - pad_top
    top = max([1, *[abs(s["balance"]) for s in series], *[s["volume"] for s in series]])
    step = inner_w / len(series)

    def y(value):
        return pad_top + inner_h - (max(value, 0) / top) * inner_h

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" role="img" class="money-chart" '
        f'aria-labelledby="chart-title">'
        f'<title id="chart-title">Balance and daily volume, last {len(series)} days</title>',
        f'<line x1="{pad_left}" y1="{pad_top + inner_h}" x2="{width - 8}" y2="{pad_top + inner_h}" stroke="#d0d7de"/>',
        f'<text x="{pad_left - 6}" y="{pad_top + 10}" text-anchor="end" font-size="11" fill="#57606a">'
        f"{escape(amounts.format_money(top, 'EUR'))}</text>",
        f'<text x="{pad_left - 6}" y="{pad_top + inner_h}" text-anchor="end" font-size="11" fill="#57606a">0</text>',
    ]
    for i, s in enumerate(series):
        if s["volume"]:
            x = pad_left + i * step + step * 0.15
            volume = escape(amounts.format_money(s["volume"], "EUR"))
            parts.append(
                f'<rect x="{x:.1f}" y="{y(s["volume"]):.1f}" width="{step * 0.7:.1f}" '
                f'height="{pad_top + inner_h - y(s["volume"]):.1f}" fill="#9ec5fe">'
                f"<title>{escape(dates.format_date(s['day']))}: volume {volume}</title></rect>"
            )
    points = " ".join(f"{pad_left + i * step + step / 2:.1f},{y(s['balance']):.1f}" for i, s in enumerate(series))
    parts.append(f'<polyline points="{points}" fill="none" stroke="#1f5fbf" stroke-width="2"/>')
    for i in (0, len(series) - 1):
        parts.append(
            f'<text x="{pad_left + i * step + step / 2:.1f}" y="{height - 6}" text-anchor="middle" font-size="11" '
            f'fill="#57606a">{escape(dates.format_month_day(series[i]["day"]))}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)
