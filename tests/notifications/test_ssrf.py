"""No delivery to private, loopback or link-local targets, through names or redirects (spec §12)."""

import ipaddress

import pytest
import responses

from notifications import transport
from notifications.forms import endpoint_url_problem
from notifications.models import Delivery

from .helpers import dispatched, record_event
from .receiver import Receiver

pytestmark = pytest.mark.django_db

FORBIDDEN_LITERALS = [
    "127.0.0.1",
    "127.1.2.3",
    "10.0.0.5",
    "172.16.3.4",
    "192.168.1.10",
    "169.254.169.254",  # cloud metadata
    "100.64.0.1",  # carrier-grade NAT
    "0.0.0.0",
    "224.0.0.1",
    "255.255.255.255",
    "[::1]",
    "[::]",
    "[fe80::1]",
    "[fc00::1]",
    "[ff02::1]",
    "[::ffff:127.0.0.1]",  # IPv4-mapped loopback
    "[::ffff:10.0.0.1]",
    "[2002:7f00:1::]",  # 6to4 of 127.0.0.1
    "[64:ff9b::a00:1]",  # NAT64 of 10.0.0.1
]
MODES = [pytest.param(True, id="live"), pytest.param(False, id="test")]


@pytest.mark.parametrize("is_live", MODES)
@pytest.mark.parametrize("host", FORBIDDEN_LITERALS)
def test_literal_private_addresses_are_refused(host, is_live):
    with pytest.raises(transport.TargetRefused) as refused:
        transport.resolve(f"https://{host}/ipn", is_live=is_live, allow_private_networks=False)
    assert refused.value.permanent


@pytest.mark.parametrize("host", FORBIDDEN_LITERALS)
def test_the_setting_does_not_open_private_addresses_in_live_mode(host):
    with pytest.raises(transport.TargetRefused):
        transport.resolve(f"https://{host}/ipn", is_live=True, allow_private_networks=True)


@pytest.mark.parametrize("is_live", MODES)
def test_a_loopback_receiver_gets_nothing_and_the_attempt_is_recorded(merchant_a, receiver, is_live, settings):
    settings.NOTIFICATIONS_ALLOW_PRIVATE_NETWORKS = False
    event = dispatched(record_event(merchant_a, is_live=is_live, ipn_url=f"https://127.0.0.1:{receiver.port}/ipn"))

    delivery = Delivery.objects.get(event=event)
    (attempt,) = delivery.attempt_log.all()
    assert receiver.received == []
    assert attempt.status_code == 0
    assert "refused" in attempt.error and "loopback" in attempt.error
    # an address cannot change: no retry
    assert delivery.status == Delivery.Status.FAILED


@pytest.mark.parametrize("is_live", MODES)
@pytest.mark.parametrize(
    ("answers", "problem"),
    [
        (["127.0.0.1"], "loopback"),
        (["::1"], "loopback"),
        (["10.1.2.3"], "private"),
        (["169.254.169.254"], "link-local"),
        (["93.184.216.34", "192.168.0.1"], "private"),  # every address must be public
        (["2606:2800:220:1::1", "::1"], "loopback"),
    ],
)
def test_a_name_resolving_to_a_forbidden_address_is_refused(fake_dns, answers, problem, is_live):
    fake_dns.add("hooks.shop.example", answers)
    with pytest.raises(transport.TargetRefused) as refused:
        transport.resolve("https://hooks.shop.example/ipn", is_live=is_live, allow_private_networks=False)
    assert problem in str(refused.value)
    assert not refused.value.permanent  # the name may resolve elsewhere later: retried


@pytest.mark.parametrize("is_live", MODES)
def test_a_name_resolving_to_loopback_is_never_posted_to(merchant_a, receiver, fake_dns, is_live, settings):
    settings.NOTIFICATIONS_ALLOW_PRIVATE_NETWORKS = False
    fake_dns.add("hooks.shop.example", "127.0.0.1")
    event = dispatched(
        record_event(merchant_a, is_live=is_live, ipn_url=f"https://hooks.shop.example:{receiver.port}/ipn")
    )

    delivery = Delivery.objects.get(event=event)
    assert receiver.received == []
    assert delivery.attempt_log.get().error.startswith("refused: hooks.shop.example resolves to 127.0.0.1")
    assert delivery.status == Delivery.Status.PENDING  # retried on the schedule
    assert delivery.next_attempt_at is not None


@pytest.mark.parametrize(
    ("url", "is_live", "allow"),
    [
        ("http://hooks.shop.example/ipn", True, False),
        ("http://hooks.shop.example/ipn", True, True),  # live always needs https
        ("http://hooks.shop.example/ipn", False, False),
        ("https://user:pw@hooks.shop.example/ipn", False, True),
        ("ftp://hooks.shop.example/ipn", False, True),
        ("https:///ipn", False, True),
        ("https://hooks.shop.example:99999/ipn", False, True),
    ],
)
def test_bad_urls_are_refused_for_good(url, is_live, allow):
    with pytest.raises(transport.TargetRefused) as refused:
        transport.resolve(url, is_live=is_live, allow_private_networks=allow)
    assert refused.value.permanent


def test_the_setting_allows_private_networks_in_test_mode(merchant_a, receiver, allow_private):
    event = dispatched(record_event(merchant_a, is_live=False, ipn_url=receiver.url()))

    assert len(receiver.received) == 1
    assert Delivery.objects.get(event=event).status == Delivery.Status.SUCCEEDED


def test_the_setting_is_ignored_in_live_mode(merchant_a, receiver, allow_private):
    event = dispatched(record_event(merchant_a, is_live=True, ipn_url=receiver.url()))

    assert receiver.received == []
    assert Delivery.objects.get(event=event).status == Delivery.Status.FAILED


def test_the_connection_goes_to_the_vetted_address_not_a_second_lookup(merchant_a, receiver, fake_dns, allow_private):
    # given: DNS rebinding, a first answer that passes the check, then an address elsewhere
    fake_dns.add("rebind.shop.example", "127.0.0.1", "10.255.255.1")
    url = f"http://rebind.shop.example:{receiver.port}/ipn"

    dispatched(record_event(merchant_a, ipn_url=url))

    (request,) = receiver.received
    assert fake_dns.lookups == ["rebind.shop.example"]
    assert request.header("Host") == f"rebind.shop.example:{receiver.port}"


def test_ipv6_loopback_is_reachable_only_with_the_setting(merchant_a, settings):
    v6 = Receiver(host="::1").start()
    try:
        settings.NOTIFICATIONS_ALLOW_PRIVATE_NETWORKS = False
        refused = dispatched(record_event(merchant_a, ipn_url=v6.url()))
        settings.NOTIFICATIONS_ALLOW_PRIVATE_NETWORKS = True
        allowed = dispatched(record_event(merchant_a, ipn_url=v6.url()))
    finally:
        v6.stop()
    assert Delivery.objects.get(event=refused).status == Delivery.Status.FAILED
    assert Delivery.objects.get(event=allowed).status == Delivery.Status.SUCCEEDED
    assert len(v6.received) == 1


def test_redirects_are_not_followed(merchant_a, receiver, allow_private):
    elsewhere = Receiver().start()
    try:
        receiver.answer(302, Location=elsewhere.url("/internal"))
        event = dispatched(record_event(merchant_a, ipn_url=receiver.url()))
    finally:
        elsewhere.stop()

    delivery = Delivery.objects.get(event=event)
    assert len(receiver.received) == 1
    assert elsewhere.received == []
    assert delivery.attempt_log.get().status_code == 302
    assert delivery.status == Delivery.Status.PENDING  # a 3xx is a failure, retried


@responses.activate
def test_redirects_are_not_followed_in_live_mode(merchant_a, fake_dns):
    fake_dns.add("shop.example.net", "93.184.216.34")
    responses.add(
        responses.POST, "https://shop.example.net/ipn", status=301, headers={"Location": "http://127.0.0.1/admin"}
    )

    event = dispatched(record_event(merchant_a, is_live=True, ipn_url="https://shop.example.net/ipn"))

    assert len(responses.calls) == 1
    assert responses.calls[0].request.headers["Host"] == "shop.example.net"
    assert Delivery.objects.get(event=event).last_status_code == 301


def test_the_response_body_is_truncated_to_1_kb(merchant_a, receiver, allow_private):
    receiver.answer(500, b"x" * 5000)
    event = dispatched(record_event(merchant_a, ipn_url=receiver.url()))
    attempt = Delivery.objects.get(event=event).attempt_log.get()
    assert attempt.response_body == "x" * 1024
    assert attempt.status_code == 500


def test_a_slow_receiver_times_out(merchant_a, receiver, allow_private, monkeypatch):
    monkeypatch.setattr(transport, "TOTAL_TIMEOUT", 0.5)
    receiver.hold.set()
    event = dispatched(record_event(merchant_a, ipn_url=receiver.url()))
    receiver.released.set()

    attempt = Delivery.objects.get(event=event).attempt_log.get()
    assert attempt.status_code == 0
    assert attempt.error == "timeout"
    assert 400 <= attempt.latency_ms < 3000


def test_address_checks_cover_every_flag():
    assert transport.address_problem(ipaddress.ip_address("93.184.216.34"), allow_private=False) is None
    assert transport.address_problem(ipaddress.ip_address("2606:2800:220:1::1"), allow_private=False) is None
    assert transport.address_problem(ipaddress.ip_address("240.0.0.1"), allow_private=False)  # reserved
    assert transport.address_problem(ipaddress.ip_address("10.0.0.1"), allow_private=True) is None
    assert transport.address_problem(ipaddress.ip_address("224.0.0.1"), allow_private=True)  # never multicast


def test_the_dashboard_form_refuses_what_delivery_would_refuse(settings):
    settings.NOTIFICATIONS_ALLOW_PRIVATE_NETWORKS = False
    assert endpoint_url_problem("https://hooks.shop.example/x", is_live=True) is None
    for url in ("http://hooks.shop.example/x", "https://127.0.0.1/x", "https://localhost/x", "https://[::1]/x"):
        assert endpoint_url_problem(url, is_live=True), url
        assert endpoint_url_problem(url, is_live=False), url
    settings.NOTIFICATIONS_ALLOW_PRIVATE_NETWORKS = True
    assert endpoint_url_problem("http://127.0.0.1:8080/x", is_live=False) is None
    assert endpoint_url_problem("http://127.0.0.1:8080/x", is_live=True)
