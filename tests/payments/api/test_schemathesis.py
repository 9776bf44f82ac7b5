"""Schemathesis against a live test server, driven by the document it serves at /v1/schema.

Every operation gets a bounded number of generated requests (valid and invalid ones), sent over
real HTTP as merchant A, and each answer is checked: no 5xx, status code, content type, headers
and body as documented, and no success without the secret key. Path ids are sometimes A's real
objects (so success paths run too) and sometimes merchant B's: those must answer 404 and no
answer to A may ever contain one of B's ids. B's objects are compared before and after the run.

Each operation runs the document's request examples, MAX_EXAMPLES valid requests and half as many
invalid ones, derandomized (the same requests every run). The operations are driven with
`APIOperation.as_strategy` inside one test rather than `schemathesis.pytest.from_fixture`, whose
lazy loader (schemathesis 4.32) sets `Node._nodeid`, which pytest 9.2 no longer has.
"""

from __future__ import annotations

import collections
import socket
import time
from dataclasses import dataclass, field

import pytest

schemathesis = pytest.importorskip("schemathesis", reason="schemathesis is a dev dependency (pyproject [dev])")

from hypothesis import HealthCheck, Phase, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from schemathesis import GenerationMode  # noqa: E402
from schemathesis.checks import not_a_server_error  # noqa: E402
from schemathesis.specs.openapi.checks import (  # noqa: E402
    content_type_conformance,
    ignored_auth,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.payments.api.test_openapi import build_world, expected_routes, snapshot  # noqa: E402

MAX_EXAMPLES = 40  # valid requests per operation (and half as many invalid ones), plus the document's examples
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    ignored_auth,
]
BODY_REFERENCES = {  # body fields that name another object: sometimes A's, sometimes B's
    "/v1/payments": [("customer_id", "customers"), ("payment_method", "cards")],
    "/v1/customers/{customer_id}/cards": [("card", "cards")],
}
DELETION_ORDER = {
    ("DELETE", "/v1/customers/{customer_id}/cards/{card_id}"): 1,
    ("DELETE", "/v1/cards/{card_id}"): 2,
    ("DELETE", "/v1/customers/{customer_id}"): 3,
}
PATH_KINDS = {
    "payment_id": "payments",
    "refund_id": "refunds",
    "customer_id": "customers",
    "card_id": "cards",
    "report_id": "reports",
}
LOOPBACK_NAMES = {"localhost", "127.0.0.1", "::1", "testserver"}


@dataclass
class Tenant:
    key: str
    world: dict
    ids: dict[str, list[str]] = field(default_factory=dict)

    def __post_init__(self):
        world = self.world
        self.ids = {
            "payments": [world["payment"]["id"], world["deferred"]["id"], world["unpaid"]["id"]],
            "refunds": [world["refund"]["id"]],
            "customers": [world["customer"]["id"]],
            "cards": [world["card"]["id"], world["loose_card"]["id"], world["spare_card"]["id"]],
            "reports": [world["report"]["id"]] if world["report"] else [],
        }

    def all_ids(self) -> set[str]:
        return {value for values in self.ids.values() for value in values}


@dataclass
class Run:
    a: Tenant
    b: Tenant
    statuses: collections.Counter = field(default_factory=collections.Counter)
    refused_connections: list = field(default_factory=list)


@pytest.fixture
def no_outside_network(monkeypatch):
    """Generated notification URLs must never reach the network: loopback only, no DNS for other names."""
    refused = []
    real_connect, real_getaddrinfo = socket.socket.connect, socket.getaddrinfo

    def connect(sock, address):
        host = address[0] if isinstance(address, tuple) else address
        if sock.family == getattr(socket, "AF_UNIX", None):
            return real_connect(sock, address)
        if isinstance(host, str) and not (host.startswith("127.") or host in LOOPBACK_NAMES):
            refused.append(host)
            raise ConnectionRefusedError(f"test network guard: no connection to {host}")
        return real_connect(sock, address)

    def getaddrinfo(host, *args, **kwargs):
        if isinstance(host, bytes):
            host = host.decode("ascii", "replace")
        if host is not None and not (str(host).startswith("127.") or host in LOOPBACK_NAMES):
            refused.append(host)
            raise socket.gaierror(socket.EAI_NONAME, f"test network guard: no lookup of {host}")
        return real_getaddrinfo(host, *args, **kwargs)

    monkeypatch.setattr(socket.socket, "connect", connect)
    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return refused


@pytest.fixture
def run(live_server, settings, tmp_path, no_outside_network, api, api_b, api_key_a, api_key_b):
    settings.API_RATE_LIMIT_PER_SECOND = 100_000  # the run is sequential; keep 429s out of the way
    settings.API_RATE_LIMIT_BURST = 100_000
    settings.MEDIA_ROOT = str(tmp_path)  # accounting report files
    a = Tenant(api_key_a, build_world(api, "alice"))
    b = Tenant(api_key_b, build_world(api_b, "charlie"))
    before = snapshot(api_b, b.world)
    state = Run(a=a, b=b, refused_connections=no_outside_network)
    started = time.monotonic()
    yield state
    elapsed = time.monotonic() - started
    print(f"\nschemathesis: {sum(state.statuses.values())} requests in {elapsed:.1f}s")
    for (operation, status), count in sorted(state.statuses.items()):
        print(f"  {operation:45} {status}: {count}")
    if state.refused_connections:
        print(f"  outside connections refused: {sorted(set(map(str, state.refused_connections)))[:10]}")
    after = snapshot(api_b, b.world)
    changed = [path for path in before if before[path] != after[path]]
    assert not changed, f"merchant B's objects changed during the run: {changed}"


def _with_b_ids(case, data, run: Run) -> bool:
    """Point some path ids (and body references) at A's real objects or at B's; True if B's are used."""
    uses_b = False
    for name in list(case.path_parameters or {}):
        owner = data.draw(st.sampled_from(["a", "b", "generated"]), label=f"owner of {name}")
        tenant = run.a if owner == "a" else run.b
        if owner == "generated" or not tenant.ids.get(PATH_KINDS.get(name), []):
            continue
        case.path_parameters[name] = data.draw(st.sampled_from(tenant.ids[PATH_KINDS[name]]), label=name)
        uses_b = uses_b or owner == "b"
    if isinstance(case.body, dict) and case.method.upper() == "POST":
        for name, kind in BODY_REFERENCES.get(case.path.rstrip("/"), []):
            owner = data.draw(st.sampled_from(["a", "b", "generated"]), label=f"owner of body {name}")
            if owner == "generated":
                continue
            tenant = run.a if owner == "a" else run.b
            case.body[name] = data.draw(st.sampled_from(tenant.ids[kind]), label=f"body {name}")
            if name == "payment_method":
                case.body.setdefault("initiator", "MERCHANT")
            uses_b = uses_b or owner == "b"
    return uses_b


def _exercise(operation, strategy, max_examples: int, run: Run) -> None:
    """One Hypothesis run over one operation: send each generated case as merchant A and check it."""

    @settings(
        max_examples=max_examples,
        deadline=None,
        derandomize=True,
        database=None,
        phases=[Phase.explicit, Phase.generate, Phase.shrink],
        suppress_health_check=list(HealthCheck),
        report_multiple_bugs=False,
    )
    @given(case=strategy, data=st.data())
    def exercise(case, data):
        uses_b = _with_b_ids(case, data, run)

        response = case.call_and_validate(headers={"Authorization": f"Bearer {run.a.key}"}, checks=CHECKS, timeout=30)

        run.statuses[operation.label, response.status_code] += 1
        leaked = [value for value in run.b.all_ids() if value in response.text]
        assert not leaked, f"{operation.label} answered merchant A with merchant B's ids {leaked}"
        if uses_b:  # 404 (or an error that comes earlier: auth, header, idempotency, validation)
            assert response.status_code in (400, 401, 404, 409), (
                f"{operation.label} with one of merchant B's ids answered {response.status_code}"
            )

    exercise()


def test_the_api_keeps_the_promises_of_its_schema(live_server, run):
    schema = schemathesis.openapi.from_url(f"{live_server.url}/v1/schema", timeout=30)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) == len(expected_routes())
    # Deletions last, so that the other operations meet A's objects alive.
    operations.sort(key=lambda op: DELETION_ORDER.get((op.method.upper(), op.path.rstrip("/")), 0))

    failures = []
    started = time.monotonic()
    for operation in operations:
        runs = [
            (operation.as_strategy(GenerationMode.POSITIVE), MAX_EXAMPLES),
            (operation.as_strategy(GenerationMode.NEGATIVE), MAX_EXAMPLES // 2),
        ]
        examples = operation.get_strategies_from_examples()
        if examples:
            runs.insert(0, (st.one_of(examples), 2 * len(examples)))
        for strategy, count in runs:
            try:
                _exercise(operation, strategy, count, run)
            except Exception as exc:  # report every operation's failure, not only the first one
                failures.append(f"--- {operation.label}\n{exc}")
                break
    elapsed = time.monotonic() - started

    assert not failures, f"{len(failures)} operation(s) break the schema:\n" + "\n".join(failures)
    assert elapsed < 300, f"the run took {elapsed:.0f}s: lower MAX_EXAMPLES"
    successes = {label for (label, status), _ in run.statuses.items() if 200 <= status < 300}
    assert len(successes) >= 15, f"too few operations ever succeeded: {sorted(successes)}"
