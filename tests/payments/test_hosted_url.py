"""hosted_payment.payment_url is what reverse() gives, without calling it for every payment."""

import pytest
from django.conf import settings
from django.urls import reverse, set_script_prefix
from django.urls.base import get_script_prefix

from payments.representations import hosted_payment_url
from payplug.ids import random_base62


class Token:
    def __init__(self, token):
        self.hosted_token = token


@pytest.fixture
def script_prefix():
    before = get_script_prefix()
    yield set_script_prefix
    set_script_prefix(before)


@pytest.mark.parametrize("prefix", ["/", "/psp/"])
def test_it_is_reverses_url(prefix, script_prefix):
    script_prefix(prefix)
    for _ in range(20):
        token = random_base62(24)
        assert hosted_payment_url(Token(token)) == settings.PUBLIC_BASE_URL + reverse("checkout:pay", args=[token])


@pytest.mark.parametrize("token", ["with space", "é", "0token0"])
def test_unusual_tokens_go_through_reverse(token):
    assert hosted_payment_url(Token(token)) == settings.PUBLIC_BASE_URL + reverse("checkout:pay", args=[token])


def test_no_token_no_url():
    assert hosted_payment_url(Token(None)) is None
