"""Helpers for the account tests: second factors, login steps and links from emails."""

import re
from urllib.parse import urlsplit

from django.core import mail
from django.urls import reverse
from django_otp.oath import totp
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from tests import factories


def totp_device(user, confirmed=True) -> TOTPDevice:
    return TOTPDevice.objects.create(user=user, name="phone", confirmed=confirmed)


def current_code(device: TOTPDevice) -> str:
    """The code the user's app shows right now."""
    return f"{totp(device.bin_key, device.step, device.t0, device.digits, device.drift):06d}"


def backup_codes(user, codes=("aaaabbbb", "ccccdddd")) -> list[str]:
    device = StaticDevice.objects.create(user=user, name="backup codes", confirmed=True)
    for code in codes:
        StaticToken.objects.create(device=device, token=code)
    return list(codes)


def post_login(client, email, password=factories.PASSWORD, headers=None, **fields):
    return client.post(reverse("login"), {"username": email, "password": password, **fields}, headers=headers)


def link_path(message, pattern=r"https?://\S+") -> str:
    """The path of the first link in a sent email's text body."""
    match = re.search(pattern, message.body)
    assert match, f"no link in: {message.body}"
    return urlsplit(match.group(0)).path


def html_body(message) -> str:
    (content, mimetype), *_ = message.alternatives
    assert mimetype == "text/html"
    return content


def last_email():
    assert mail.outbox, "no email was sent"
    return mail.outbox[-1]
