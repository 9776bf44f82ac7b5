"""The logo field of the branding form (issue 12, finding 21): a preview of the current logo, a file
input that states what it accepts, and a labelled "Remove the logo" checkbox instead of Django's raw
"Currently: logos/x.png Clear [] Change:"."""

import io
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from merchants.models import Merchant
from tests.csp import assert_no_inline_script_or_style

pytestmark = pytest.mark.django_db

URL = "/dashboard/settings/"


def png(name="logo.png"):
    buffer = io.BytesIO()
    Image.new("RGB", (32, 32), "#aa3300").save(buffer, format="PNG")
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/png")


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)
    return tmp_path


def logo_field(page: str) -> str:
    match = re.search(r'<div class="logo-input">.*?</div>\s*</div>', page, re.S)
    assert match, "no logo widget"
    return match.group(0)


def test_without_a_logo_the_widget_offers_an_upload_that_says_what_it_accepts(alice_client):
    page = alice_client.get(URL).content.decode()

    widget = logo_field(page)
    assert re.search(r'<input type="file" name="logo"[^>]*accept="image/png,image/jpeg"', widget)
    assert "<img" not in widget and 'type="checkbox"' not in widget
    assert "PNG or JPEG" in page and "512 KB" in page
    assert "Currently" not in page and "Change:" not in page


def test_a_current_logo_is_previewed_with_a_labelled_remove_checkbox(alice_client, merchant_a, media):
    alice_client.post(URL, {"action": "branding", "brand_color": "#1f5fbf", "logo": png()})
    merchant_a.refresh_from_db()

    page = alice_client.get(URL).content.decode()
    widget = logo_field(page)

    assert f'<img class="logo-preview" src="{merchant_a.logo.url}"' in widget
    checkbox = re.search(r'<input type="checkbox" name="logo-clear" id="([^"]+)"', widget)
    assert checkbox
    assert re.search(rf'<label for="{checkbox.group(1)}">Remove the logo</label>', widget)
    assert "Currently" not in page and "Change:" not in page
    assert page.count(merchant_a.logo.url) == 1  # the preview, once
    assert_no_inline_script_or_style(page)


def test_the_remove_checkbox_removes_the_logo(alice_client, merchant_a, media):
    alice_client.post(URL, {"action": "branding", "brand_color": "#1f5fbf", "logo": png()})

    response = alice_client.post(URL, {"action": "branding", "brand_color": "#1f5fbf", "logo-clear": "on"})

    assert response.status_code == 302
    assert Merchant.objects.get(pk=merchant_a.pk).logo.name == ""
