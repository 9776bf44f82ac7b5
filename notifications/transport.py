"""POSTing a notification safely (spec §12 "Safety", issue 5 item 6).

SSRF protection, in order, for every attempt:
1. the URL: http(s) only, no user:password, https unless private networks are allowed (test mode
   with NOTIFICATIONS_ALLOW_PRIVATE_NETWORKS);
2. the host is resolved once, here, and *every* address it resolves to must be public: no
   private, loopback, link-local, multicast, reserved, unspecified or otherwise non-global
   address, IPv4 or IPv6, including IPv4 embedded in IPv6 (mapped, 6to4, NAT64). With
   NOTIFICATIONS_ALLOW_PRIVATE_NETWORKS (test mode only), private ranges (a developer's LAN)
   are allowed, loopback only on the ports of NOTIFICATIONS_ALLOWED_LOOPBACK_PORTS, and
   link-local and cloud metadata addresses never;
3. the connection goes to the vetted address itself (a pinned urllib3 pool, with the original
   name as Host header, TLS SNI and certificate name), so a second DNS answer (rebinding) is
   never used;
4. redirects are not followed, no proxy from the environment is used, the body read is capped
   at 1 KB and the exchange at about 10 s; the body of an answer from a private (LAN) address
   is not kept at all, only its status code (the delivery log would show internal pages).
"""

from __future__ import annotations

import ipaddress
import socket
import time
from collections.abc import Collection
from dataclasses import dataclass
from urllib.parse import urlsplit

import requests
from django.conf import settings
from requests.adapters import HTTPAdapter
from urllib3.util import Timeout

TOTAL_TIMEOUT = 10.0
CONNECT_TIMEOUT = 5.0
MAX_RESPONSE_BYTES = 1024
USER_AGENT = "PayPlatform-Notifications/1.0"

_NAT64 = ipaddress.ip_network("64:ff9b::/96")
# Cloud instance metadata services outside link-local space: never a delivery target, whatever
# the settings (169.254.169.254 and the other AWS, GCP, Azure, OpenStack ones are link-local).
METADATA_ADDRESSES = frozenset(
    ipaddress.ip_address(address)
    for address in (
        "fd00:ec2::254",  # AWS, IPv6
        "100.100.100.200",  # Alibaba Cloud
        "192.0.0.192",  # Oracle Cloud
        "168.63.129.16",  # Azure WireServer
    )
)


class TargetRefused(Exception):
    """The URL may not be delivered to. `permanent`: no later attempt can succeed (bad URL)."""

    def __init__(self, message: str, *, permanent: bool):
        super().__init__(message)
        self.permanent = permanent


@dataclass(frozen=True)
class Target:
    scheme: str
    host: str  # as in the URL (a name, or an address without brackets)
    port: int
    address: str  # the vetted address the connection goes to

    @property
    def host_header(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        default = 443 if self.scheme == "https" else 80
        return host if self.port == default else f"{host}:{self.port}"


@dataclass
class Response:
    status_code: int  # 0 when no HTTP answer came
    body_start: str = ""
    error: str = ""
    latency_ms: int = 0
    permanent: bool = False
    succeeded: bool | None = None  # for non-HTTP deliveries (email); HTTP ones succeed on a 2xx

    @property
    def ok(self) -> bool:
        if self.succeeded is not None:
            return self.succeeded
        return 200 <= self.status_code < 300


def _embedded_ipv4(ip: ipaddress.IPv6Address) -> list[ipaddress.IPv4Address]:
    inner = [ip.ipv4_mapped, ip.sixtofour]
    if ip.teredo:
        inner.extend(ip.teredo)
    if ip in _NAT64:
        inner.append(ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF))
    return [address for address in inner if address is not None]


def address_problem(
    ip: ipaddress.IPv4Address | ipaddress.IPv6Address,
    *,
    allow_private: bool,
    port: int | None = None,
    loopback_ports: Collection[int] = (),
) -> str | None:
    """Why this address may not receive a delivery, or None when it may.

    `allow_private` (NOTIFICATIONS_ALLOW_PRIVATE_NETWORKS, test mode) opens private ranges, and
    loopback on `port` only if it is one of `loopback_ports`; never link-local or metadata.
    """
    if ip.is_multicast or ip.is_unspecified:
        return "multicast or unspecified address"
    if ip in METADATA_ADDRESSES:
        return "cloud metadata address"
    if isinstance(ip, ipaddress.IPv6Address):
        for inner in _embedded_ipv4(ip):
            problem = address_problem(inner, allow_private=allow_private, port=port, loopback_ports=loopback_ports)
            if problem:
                return problem
    if ip.is_link_local:
        return "link-local address"
    if allow_private:
        if ip.is_loopback and port not in loopback_ports:
            return f"loopback address on port {port}, not in NOTIFICATIONS_ALLOWED_LOOPBACK_PORTS"
        return None
    for flag, label in (
        ("is_loopback", "loopback address"),
        ("is_private", "private address"),
        ("is_reserved", "reserved address"),
    ):
        if getattr(ip, flag):
            return label
    if not ip.is_global:
        return "non-public address"
    return None


def allowed_loopback_ports() -> frozenset[int]:
    return frozenset(settings.NOTIFICATIONS_ALLOWED_LOOPBACK_PORTS)


def _parse_address(text: str):
    return ipaddress.ip_address(text.split("%", 1)[0])  # drop an IPv6 zone (fe80::1%eth0)


def resolve(
    url: str, *, is_live: bool, allow_private_networks: bool, loopback_ports: Collection[int] | None = None
) -> Target:
    """Check the URL and resolve its host once; raises TargetRefused.

    `allow_private_networks` only counts in test mode: live mode is always strict.
    `loopback_ports` defaults to settings.NOTIFICATIONS_ALLOWED_LOOPBACK_PORTS.
    """
    allow_private = allow_private_networks and not is_live
    if loopback_ports is None:
        loopback_ports = allowed_loopback_ports()
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise TargetRefused(f"invalid URL: {exc}", permanent=True) from exc
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise TargetRefused("only http and https URLs are allowed", permanent=True)
    if scheme != "https" and not allow_private:
        raise TargetRefused("https is required", permanent=True)
    if parts.username is not None or parts.password is not None:
        raise TargetRefused("credentials in the URL are not allowed", permanent=True)
    host = (parts.hostname or "").rstrip(".")
    if not host:
        raise TargetRefused("the URL has no host", permanent=True)
    port = port or (443 if scheme == "https" else 80)

    try:
        literal = _parse_address(host)
    except ValueError:
        literal = None
    if literal is not None:
        problem = address_problem(literal, allow_private=allow_private, port=port, loopback_ports=loopback_ports)
        if problem:
            raise TargetRefused(f"{host}: {problem}", permanent=True)
        return Target(scheme, host, port, str(literal))

    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP)
    except (socket.gaierror, UnicodeError) as exc:
        raise TargetRefused(f"{host}: name resolution failed ({exc})", permanent=False) from exc
    addresses = []
    for info in infos:
        address = _parse_address(info[4][0])
        if address not in addresses:
            addresses.append(address)
    if not addresses:
        raise TargetRefused(f"{host}: no address", permanent=False)
    for address in addresses:
        problem = address_problem(address, allow_private=allow_private, port=port, loopback_ports=loopback_ports)
        if problem:
            # Every address must pass: the name may resolve differently on the next lookup.
            raise TargetRefused(f"{host} resolves to {address}: {problem}", permanent=False)
    return Target(scheme, host, port, str(addresses[0]))


class PinnedAdapter(HTTPAdapter):
    """Connects to the vetted address whatever the URL's host resolves to now; TLS still sends
    the name (SNI) and checks the certificate against it."""

    def __init__(self, target: Target):
        self.target = target
        super().__init__(pool_connections=1, pool_maxsize=1, max_retries=0)

    def get_connection_with_tls_context(self, request, verify, proxies=None, cert=None):
        host_params, pool_kwargs = self.build_connection_pool_key_attributes(request, verify, cert)
        if host_params["scheme"] == "https":
            pool_kwargs["server_hostname"] = self.target.host
            pool_kwargs["assert_hostname"] = self.target.host
        return self.poolmanager.connection_from_host(
            host=self.target.address, port=self.target.port, scheme=host_params["scheme"], pool_kwargs=pool_kwargs
        )


def _read_start(response: requests.Response, deadline: float) -> bytes:
    """At most MAX_RESPONSE_BYTES of the body, within the deadline; the rest is never read."""
    raw = response.raw
    sock = getattr(getattr(raw, "connection", None), "sock", None)
    chunks: list[bytes] = []
    size = 0
    while size < MAX_RESPONSE_BYTES:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            break
        if sock is not None:
            sock.settimeout(remaining)
        data = raw.read1(MAX_RESPONSE_BYTES - size, decode_content=False)
        if not data:
            break
        chunks.append(data)
        size += len(data)
    return b"".join(chunks)[:MAX_RESPONSE_BYTES]


def _body_withheld(target: Target) -> bool:
    """Answers from private (LAN) addresses, reachable only with NOTIFICATIONS_ALLOW_PRIVATE_NETWORKS,
    are not read: the delivery log would otherwise show a merchant the pages of internal services.
    Public addresses and the loopback ports the operator listed (their own receivers) keep it."""
    address = _parse_address(target.address)
    for inner in _embedded_ipv4(address) if isinstance(address, ipaddress.IPv6Address) else []:
        address = inner
    return not address.is_global and not address.is_loopback


def post(url: str, body: bytes, headers: dict[str, str], *, is_live: bool, allow_private_networks: bool) -> Response:
    """POST `body` to `url` once. Never raises for network trouble: the Response says what happened."""
    started = time.monotonic()
    deadline = started + TOTAL_TIMEOUT

    def elapsed_ms() -> int:
        return int((time.monotonic() - started) * 1000)

    try:
        target = resolve(url, is_live=is_live, allow_private_networks=allow_private_networks)
    except TargetRefused as exc:
        return Response(0, error=f"refused: {exc}"[:500], latency_ms=elapsed_ms(), permanent=exc.permanent)

    session = requests.Session()
    session.trust_env = False  # no proxy, netrc or CA bundle from the environment
    adapter = PinnedAdapter(target)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    request_headers = {
        "User-Agent": USER_AGENT,
        "Accept": "*/*",
        "Accept-Encoding": "identity",
        **headers,
        "Host": target.host_header,
    }
    remaining = max(0.1, deadline - time.monotonic())
    timeout = Timeout(connect=min(CONNECT_TIMEOUT, remaining), read=remaining, total=remaining)
    try:
        with session.post(
            url, data=body, headers=request_headers, timeout=timeout, allow_redirects=False, stream=True
        ) as response:
            status = response.status_code
            latency = elapsed_ms()  # time to the answer's headers
            try:
                start = b"" if _body_withheld(target) else _read_start(response, deadline)
            except (requests.RequestException, OSError, ValueError):
                start = b""
        return Response(status, start.decode("utf-8", errors="replace"), latency_ms=latency)
    except requests.Timeout:
        return Response(0, error="timeout", latency_ms=elapsed_ms())
    except requests.RequestException as exc:
        return Response(0, error=f"{type(exc).__name__}: {exc}"[:500], latency_ms=elapsed_ms())
    finally:
        session.close()
