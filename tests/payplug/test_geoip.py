from payplug.geoip import country_of


def test_public_addresses_have_a_country_from_the_shipped_database():
    assert country_of("8.8.8.8") == "US"


def test_private_loopback_and_garbage_have_none():
    for ip in ("127.0.0.1", "10.1.2.3", "192.168.0.1", "::1", "fe80::1", "not an ip", "", None):
        assert country_of(ip) is None
