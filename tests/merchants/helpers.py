"""Helpers for the account tests: second factors, login steps and links from emails."""

import re
from urllib.parse import urlsplit

from django.core import mail
from django.urls import reverse
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.oath import totp
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from tests import factories


def totp_device(user, confirmed=True) -> TOTPDevice:
    return TOTPDevice.objects.create(user=user, name="phone", confirmed=confirmed)


def login_verified(client, user, device=None):
    """Log `user` in with a session that passed the second factor, as /login/ then /login/otp/ do
    (django_otp.login stores the device in the session). Returns the device (a new TOTP one if none)."""
    device = device or totp_device(user)
    client.force_login(user)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()
    return device


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
