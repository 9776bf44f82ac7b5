"""/metrics: Prometheus text with the request metrics, readable only by scrapers."""

import json
import os
import subprocess
import sys
import textwrap

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.test import override_settings
from prometheus_client.parser import text_string_to_metric_families

pytestmark = pytest.mark.django_db


def samples(response, name):
    """{labels as a sorted tuple: value} of one metric in a /metrics response."""
    found = {}
    for family in text_string_to_metric_families(response.content.decode()):
        for sample in family.samples:
            if sample.name == name:
                found[tuple(sorted(sample.labels.items()))] = sample.value
    return found


def test_metrics_serves_prometheus_text_with_request_counts_by_route(client):
    before = samples(client.get("/metrics"), "http_requests_total")
    client.get("/healthz")
    client.get("/no-such-page/")
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain")
    text = response.content.decode()
    assert "# TYPE http_requests_total counter" in text
    assert "# TYPE http_request_duration_seconds histogram" in text
    after = samples(response, "http_requests_total")
    healthz = (("method", "GET"), ("route", "healthz"), ("status", "200"))
    unmatched = (("method", "GET"), ("route", "unmatched"), ("status", "404"))
    assert after[healthz] == before.get(healthz, 0) + 1
    assert after[unmatched] == before.get(unmatched, 0) + 1
    latency = samples(response, "http_request_duration_seconds_count")
    assert latency[(("method", "GET"), ("route", "healthz"))] >= 1


def test_unknown_methods_do_not_create_new_label_values(client):
    client.generic("BREW", "/healthz")
    response = client.get("/metrics")
    methods = {dict(labels)["method"] for labels in samples(response, "http_requests_total")}
    assert "BREW" not in methods
    assert "other" in methods


# --- who may read /metrics ---------------------------------------------------------------


def scrape(client, remote_addr="127.0.0.1", **headers):
    return client.get("/metrics", REMOTE_ADDR=remote_addr, headers=headers)


@pytest.mark.parametrize("address", ["127.0.0.1", "::1", "10.1.2.3", "172.20.0.5", "192.168.1.10", "::ffff:10.0.0.5"])
def test_loopback_and_private_networks_may_scrape_by_default(client, address):
    assert scrape(client, address).status_code == 200


@pytest.mark.parametrize("address", ["203.0.113.7", "8.8.8.8", "2001:db8::1", "not-an-address", ""])
def test_the_internet_may_not(client, address):
    response = scrape(client, address)
    assert response.status_code == 403
    assert b"http_requests_total" not in response.content


@override_settings(METRICS_ALLOW_PRIVATE=False)
def test_private_networks_can_be_switched_off(client):
    assert scrape(client, "10.1.2.3").status_code == 403
    assert scrape(client, "127.0.0.1").status_code == 200


@override_settings(METRICS_ALLOW_PRIVATE=False, METRICS_ALLOWED_IPS=["203.0.113.0/24", "2001:db8::5"])
def test_allowed_addresses_and_networks(client):
    assert scrape(client, "203.0.113.7").status_code == 200
    assert scrape(client, "2001:db8::5").status_code == 200
    assert scrape(client, "203.0.114.7").status_code == 403
    assert scrape(client, "127.0.0.1").status_code == 403


@override_settings(METRICS_ALLOWED_IPS=["nonsense"])
def test_a_bad_allowed_entry_is_a_configuration_error(client):
    with pytest.raises(ImproperlyConfigured, match="METRICS_ALLOWED_IPS"):
        scrape(client)


@pytest.mark.parametrize(
    "headers",
    [
        {"X-Forwarded-For": "203.0.113.9"},
        {"X-Forwarded-For": "127.0.0.1, 203.0.113.9"},  # a spoofed entry cannot hide the real client
        {"X-Forwarded-For": "unknown"},
        {"X-Real-IP": "203.0.113.9"},
        {"Forwarded": 'for=203.0.113.9;proto=https, for="[2001:db8::1]:4711"'},
    ],
)
def test_requests_relayed_for_the_internet_by_a_private_proxy_are_refused(client, headers):
    assert scrape(client, "10.0.0.2", **headers).status_code == 403


@pytest.mark.parametrize(
    "headers",
    [
        {"X-Forwarded-For": "10.0.0.7"},
        {"X-Forwarded-For": "10.0.0.7:5123, 192.168.0.3"},
        {"Forwarded": 'for="[fd00::7]:80"'},
    ],
)
def test_requests_relayed_for_private_addresses_are_allowed(client, headers):
    assert scrape(client, "10.0.0.2", **headers).status_code == 200


@override_settings(METRICS_TOKEN="s3cret-metrics-token")
def test_with_a_token_it_is_required_from_everywhere(client):
    missing = scrape(client, "127.0.0.1")
    assert missing.status_code == 401
    assert missing["WWW-Authenticate"].startswith("Bearer")
    assert b"http_requests_total" not in missing.content
    assert scrape(client, "127.0.0.1", Authorization="Bearer wrong").status_code == 401
    assert scrape(client, "127.0.0.1", Authorization="Basic czNjcmV0LW1ldHJpY3MtdG9rZW4=").status_code == 401
    assert scrape(client, "203.0.113.7", Authorization="Bearer s3cret-metrics-token").status_code == 200
    assert scrape(client, "10.0.0.2", Authorization="bearer s3cret-metrics-token").status_code == 200


# --- several gunicorn workers: PROMETHEUS_MULTIPROC_DIR --------------------------------------

MULTIPROCESS_SCRIPT = textwrap.dedent(
    """
    import json, sys, django
    django.setup()
    from django.test import Client
    from payplug.metrics import PAYMENTS_BY_STATUS
    client = Client()
    client.get("/healthz")
    client.get("/healthz")
    PAYMENTS_BY_STATUS.labels("paid", "False").set(float(sys.argv[1]))
    response = client.get("/metrics")
    print(json.dumps({"status": response.status_code, "body": response.content.decode()}))
    """
)


def test_multiprocess_mode_aggregates_the_processes_of_the_shared_directory(tmp_path):
    """Two processes (two gunicorn workers) write to one directory; either one's scrape sees both."""
    metrics_dir = tmp_path / "prometheus"
    metrics_dir.mkdir()
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "payplug.test_settings",
        "PROMETHEUS_MULTIPROC_DIR": str(metrics_dir),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
    }
    env.pop("REDIS_URL", None)
    env.pop("CELERY_BROKER_URL", None)

    def worker(gauge_value):
        result = subprocess.run(
            [sys.executable, "-c", MULTIPROCESS_SCRIPT, gauge_value],
            env=env,
            cwd=os.path.dirname(os.path.dirname(os.path.dirname(__file__))),
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert result.returncode == 0, result.stderr
        output = json.loads(result.stdout.strip().splitlines()[-1])
        assert output["status"] == 200
        values = {}
        for family in text_string_to_metric_families(output["body"]):
            for sample in family.samples:
                values[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
        return values

    worker("7")
    values = worker("3")
    assert len(list(metrics_dir.iterdir())) >= 2, "no per-process files were written"
    assert values[("http_requests_total", (("method", "GET"), ("route", "healthz"), ("status", "200")))] == 4
    # A gauge sampled at scrape time reports the latest sample, not the highest one a process ever saw.
    assert values[("payments_by_status", (("is_live", "False"), ("status", "paid")))] == 3
