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
        settings.NOTIFICATIONS_ALLOWED_LOOPBACK_PORTS = [v6.port]
        allowed = dispatched(record_event(merchant_a, ipn_url=v6.url()))
    finally:
        v6.stop()
    assert Delivery.objects.get(event=refused).status == Delivery.Status.FAILED
    assert Delivery.objects.get(event=allowed).status == Delivery.Status.SUCCEEDED
    assert len(v6.received) == 1


def test_redirects_are_not_followed(merchant_a, receiver, allow_private, settings):
    elsewhere = Receiver().start()
    settings.NOTIFICATIONS_ALLOWED_LOOPBACK_PORTS = [receiver.port, elsewhere.port]
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
    settings.NOTIFICATIONS_ALLOWED_LOOPBACK_PORTS = [8080]
    assert endpoint_url_problem("http://127.0.0.1:8080/x", is_live=False) is None
    assert endpoint_url_problem("http://127.0.0.1:8080/x", is_live=True)


# --- NOTIFICATIONS_ALLOW_PRIVATE_NETWORKS is no open door (issue 12, finding 10) ----------------

ALWAYS_REFUSED = [
    "169.254.169.254",  # cloud metadata (AWS, GCP, Azure, OpenStack)
    "169.254.170.2",  # AWS ECS task credentials
    "169.254.0.1",  # any link-local address
    "100.100.100.200",  # Alibaba Cloud metadata
    "192.0.0.192",  # Oracle Cloud metadata
    "[fe80::1]",
    "[fe80::a9fe:a9fe]",
    "[fd00:ec2::254]",  # AWS metadata over IPv6
    "[::ffff:169.254.169.254]",  # IPv4-mapped
    "[::ffff:a9fe:a9fe]",
    "[2002:a9fe:a9fe::]",  # 6to4 of 169.254.169.254
    "[64:ff9b::a9fe:a9fe]",  # NAT64 of 169.254.169.254
    "2852039166",  # 169.254.169.254 in decimal
    "0xa9fea9fe",  # in hexadecimal
    "0xa9.0xfe.0xa9.0xfe",
    "0251.0376.0251.0376",  # in octal
    "169.254.43518",  # the short forms inet_aton accepts
    "0x64.0x64.0x64.0xc8",  # 100.100.100.200 in hexadecimal
]


@pytest.mark.parametrize("host", ALWAYS_REFUSED)
def test_link_local_and_metadata_addresses_are_refused_even_with_the_setting(host):
    for port in ("", ":80", ":8000"):
        with pytest.raises(transport.TargetRefused):
            transport.resolve(
                f"http://{host}{port}/latest/meta-data/",
                is_live=False,
                allow_private_networks=True,
                loopback_ports=[80, 8000],
            )


@pytest.mark.parametrize(
    "answers", [["169.254.169.254"], ["fe80::1"], ["10.0.0.1", "169.254.169.254"], ["fd00:ec2::254"]]
)
def test_a_name_resolving_to_link_local_or_metadata_is_refused_even_with_the_setting(fake_dns, answers):
    fake_dns.add("metadata.shop.example", answers)
    with pytest.raises(transport.TargetRefused) as refused:
        transport.resolve("http://metadata.shop.example/", is_live=False, allow_private_networks=True)
    assert "resolves to" in str(refused.value)


@pytest.mark.parametrize("host", ["127.0.0.1", "127.0.0.53", "[::1]", "[::ffff:127.0.0.1]", "2130706433", "0x7f.1"])
def test_loopback_is_refused_on_a_port_the_operator_did_not_list(host):
    with pytest.raises(transport.TargetRefused) as refused:
        transport.resolve(f"http://{host}:6379/", is_live=False, allow_private_networks=True, loopback_ports=[8000])
    assert "loopback" in str(refused.value)
    with pytest.raises(transport.TargetRefused):  # the default port is not listed either
        transport.resolve(f"http://{host}/", is_live=False, allow_private_networks=True, loopback_ports=[8000])


@pytest.mark.parametrize("host", ["127.0.0.1", "[::1]", "[::ffff:127.0.0.1]", "localhost"])
def test_loopback_is_allowed_on_a_listed_port(host):
    target = transport.resolve(
        f"http://{host}:8000/ipn", is_live=False, allow_private_networks=True, loopback_ports=[8000]
    )
    assert target.port == 8000


def test_the_loopback_ports_come_from_the_setting(settings):
    settings.NOTIFICATIONS_ALLOWED_LOOPBACK_PORTS = [9000]
    assert transport.resolve("http://127.0.0.1:9000/", is_live=False, allow_private_networks=True).port == 9000
    with pytest.raises(transport.TargetRefused):
        transport.resolve("http://127.0.0.1:8000/", is_live=False, allow_private_networks=True)
    settings.NOTIFICATIONS_ALLOWED_LOOPBACK_PORTS = []
    with pytest.raises(transport.TargetRefused):
        transport.resolve("http://127.0.0.1:9000/", is_live=False, allow_private_networks=True)


@pytest.mark.parametrize("host", ["10.0.0.5", "172.16.3.4", "192.168.1.10", "[fc00::1]"])
def test_a_developer_lan_stays_reachable_with_the_setting_only(host):
    assert transport.resolve(f"http://{host}:8080/ipn", is_live=False, allow_private_networks=True)
    with pytest.raises(transport.TargetRefused):
        transport.resolve(f"https://{host}:8080/ipn", is_live=False, allow_private_networks=False)


def test_a_loopback_receiver_on_an_unlisted_port_gets_nothing(merchant_a, receiver, allow_private, settings):
    settings.NOTIFICATIONS_ALLOWED_LOOPBACK_PORTS = [8000]
    event = dispatched(record_event(merchant_a, ipn_url=receiver.url()))

    attempt = Delivery.objects.get(event=event).attempt_log.get()
    assert receiver.received == []
    assert "loopback" in attempt.error


def test_the_dashboard_form_refuses_link_local_and_unlisted_loopback_with_the_setting(settings):
    settings.NOTIFICATIONS_ALLOW_PRIVATE_NETWORKS = True
    settings.NOTIFICATIONS_ALLOWED_LOOPBACK_PORTS = [8000]
    for url in (
        "http://169.254.169.254/latest/meta-data/",
        "http://[fe80::1]/",
        "http://[::ffff:169.254.169.254]/",
        "http://100.100.100.200/",
        "http://127.0.0.1:6379/",
        "http://127.0.0.1/",
        "http://[::1]:22/",
    ):
        assert endpoint_url_problem(url, is_live=False), url
    assert endpoint_url_problem("http://127.0.0.1:8000/ipn", is_live=False) is None
    assert endpoint_url_problem("http://192.168.1.10:8080/ipn", is_live=False) is None


def test_the_body_of_an_answer_from_a_private_network_is_not_kept(merchant_a, fake_dns, allow_private, monkeypatch):
    # A LAN address (reachable only with the setting) answers: its status is logged, not its body.
    fake_dns.add("nas.lan.example", "10.20.30.40")

    class Raw:
        chunks = [b"secret internal page"]

        def read1(self, size, decode_content=False):
            return self.chunks.pop() if self.chunks else b""

    class Answer:
        status_code = 200
        raw = Raw()

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return False

    def fake_post(session, url, **kwargs):
        return Answer()

    monkeypatch.setattr(transport.requests.Session, "post", fake_post)
    event = dispatched(record_event(merchant_a, ipn_url="http://nas.lan.example:8080/ipn"))

    attempt = Delivery.objects.get(event=event).attempt_log.get()
    assert attempt.status_code == 200
    assert "secret" not in attempt.response_body
