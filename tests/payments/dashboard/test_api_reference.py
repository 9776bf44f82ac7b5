"""The API reference inside the dashboard (issue 12, finding 24): the OpenAPI schema rendered by
Swagger UI served from our own static files, under the strict CSP (no inline script), with curl
examples for the merchant's own keys and base URL."""

import re
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.staticfiles import finders
from django.urls import reverse

from merchants.models import ApiKey
from tests import factories

pytestmark = pytest.mark.django_db


def html_of(response) -> str:
    return response.content.decode()


def test_the_reference_is_rendered_from_static_files_without_inline_script(alice_client):
    response = alice_client.get(reverse("dashboard:api_reference"))

    assert response.status_code == 200
    html = html_of(response)
    scripts = re.findall(r"<script[^>]*>", html)
    assert all(re.search(r'\bsrc="/static/', tag) for tag in scripts), scripts
    assert not re.search(r"<script[^>]*>\s*[^<\s]", html), "inline script"
    assert " style=" not in html and "<style" not in html
    assert re.search(r'<script src="/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle\.js"', html)
    assert '<script src="/static/js/api_reference.js"' in html
    assert 'href="/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui.css"' in html
    assert f'data-schema-url="{reverse("api_schema")}"' in html
    for path in ("drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js", "js/api_reference.js"):
        assert finders.find(path), path
    policy = response["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "unsafe-inline" not in policy and "unsafe-eval" not in policy


def test_the_init_script_reads_the_schema_url_from_the_page_and_disables_try_it_out():
    script = Path(finders.find("js/api_reference.js")).read_text()

    assert "SwaggerUIBundle" in script and "schemaUrl" in script
    assert "supportedSubmitMethods: []" in script  # no secret key typed into a web page


def test_curl_examples_carry_the_base_url_and_a_key_placeholder_never_a_secret(alice_client, merchant_a, api_key_a):
    response = alice_client.get(reverse("dashboard:api_reference"))

    html = html_of(response)
    base = settings.PUBLIC_BASE_URL + "/v1"
    assert f"curl {base}/payments \\" in html  # create
    assert f"curl {base}/payments/pay_" in html  # retrieve
    assert re.search(rf"curl {re.escape(base)}/payments/pay_\w+/refunds \\", html)  # refund
    assert html.count("Authorization: Bearer $PAYPLUG_SECRET_KEY") >= 3
    assert api_key_a not in html, "a secret key is shown once, at creation, never again"
    prefix = ApiKey.objects.get(key_hash=ApiKey.hash_key(api_key_a)).prefix
    assert prefix in html, "says which of the merchant's keys to use"
    assert f'href="{reverse("dashboard:developers")}"' in html
    assert factories.publishable_key(merchant_a) in html
    assert "no-store" in response["Cache-Control"]


def test_only_the_merchants_own_keys_of_the_current_mode_are_shown(alice_client, merchant_a, merchant_b):
    other = factories.publishable_key(merchant_b)
    live = ApiKey.objects.create(
        merchant=merchant_a,
        is_live=True,
        kind=ApiKey.Kind.PUBLISHABLE,
        prefix="pk_live_x",
        key_hash="f" * 64,
        publishable_value="pk_live_shouldnotshow",
    )

    html = html_of(alice_client.get(reverse("dashboard:api_reference")))

    assert other not in html
    assert live.publishable_value not in html


def test_the_developers_page_links_to_the_reference(alice_client):
    html = html_of(alice_client.get(reverse("dashboard:developers")))

    assert f'href="{reverse("dashboard:api_reference")}"' in html
