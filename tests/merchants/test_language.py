"""The user's language (User.preferred_language): applied at login, chosen on the account page or
with the language switcher, and kept in the cookie LocaleMiddleware reads."""

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import translation

from merchants.models import User
from tests import factories
from tests.merchants.helpers import current_code, login_verified, post_login, totp_device

pytestmark = pytest.mark.django_db

COOKIE = settings.LANGUAGE_COOKIE_NAME
ACCOUNT = reverse("account_security")
ENGLISH_BROWSER = {"accept-language": "en"}


@pytest.fixture(autouse=True)
def _default_language_afterwards():
    """A request leaves its language active in this thread: reset it."""
    yield
    translation.deactivate()


def set_preference(user, code):
    User.objects.filter(pk=user.pk).update(preferred_language=code)


def preference(user):
    return User.objects.get(pk=user.pk).preferred_language


def html_lang(response):
    content = response.content.decode()
    start = content.index('<html lang="') + len('<html lang="')
    return content[start : content.index('"', start)]


# --- at login --------------------------------------------------------------------------------


def test_the_login_sets_the_cookie_of_the_preferred_language(client, alice, merchant_a):
    set_preference(alice, "fr")

    response = post_login(client, alice.email, headers=ENGLISH_BROWSER)

    assert response.status_code == 302
    cookie = response.cookies[COOKIE]
    assert cookie.value == "fr"
    assert cookie["path"] == settings.LANGUAGE_COOKIE_PATH
    # The next pages are in French, whatever the browser says.
    home = client.get(reverse("dashboard:home"), headers=ENGLISH_BROWSER)
    assert html_lang(home) == "fr"
    assert "Mode test" in home.content.decode()


def test_with_two_factor_the_language_comes_after_the_code(client, alice, merchant_a):
    set_preference(alice, "it")
    device = totp_device(alice)

    password_step = post_login(client, alice.email, headers=ENGLISH_BROWSER)
    assert password_step.url == reverse("login_otp")
    assert COOKIE not in password_step.cookies  # nobody is logged in yet

    response = client.post(reverse("login_otp"), {"code": current_code(device)}, headers=ENGLISH_BROWSER)

    assert response.status_code == 302
    assert response.cookies[COOKIE].value == "it"
    assert html_lang(client.get(reverse("dashboard:home"), headers=ENGLISH_BROWSER)) == "it"


def test_a_wrong_code_sets_no_language(client, alice, merchant_a):
    set_preference(alice, "it")
    totp_device(alice)
    post_login(client, alice.email)

    response = client.post(reverse("login_otp"), {"code": "000000"})

    assert response.status_code == 200
    assert COOKIE not in response.cookies


def test_without_a_preference_the_login_leaves_the_language_alone(client, alice, merchant_a):
    set_preference(alice, "")

    response = post_login(client, alice.email, headers={"accept-language": "es"})

    assert COOKIE not in response.cookies
    assert html_lang(client.get(reverse("dashboard:home"), headers={"accept-language": "es"})) == "es"


@pytest.mark.parametrize("stored", ["de", "xx", "<script>"])
def test_an_unsupported_preference_is_ignored(client, alice, merchant_a, stored):
    set_preference(alice, stored)

    response = post_login(client, alice.email)

    assert response.status_code == 302
    assert COOKIE not in response.cookies


def test_a_regional_preference_uses_its_language(client, alice, merchant_a):
    set_preference(alice, "fr-CA")

    response = post_login(client, alice.email)

    assert response.cookies[COOKIE].value == "fr"


def test_sign_up_keeps_the_language_it_was_made_in(client):
    data = {"email": "dana@example.org", "full_name": "Dana Doe", "password": "plum-kettle-sonata-42"}

    response = client.post(reverse("signup"), data, headers={"accept-language": "es"})

    assert User.objects.get(email="dana@example.org").preferred_language == "es"
    assert response.cookies[COOKIE].value == "es"


# --- the language switcher ----------------------------------------------------------------------


def test_the_switcher_saves_the_choice_of_a_logged_in_user(alice_client, alice):
    response = alice_client.post(reverse("set_language"), {"language": "it", "next": "/dashboard/"})

    assert response.status_code == 302
    assert response.url == "/dashboard/"
    assert response.cookies[COOKIE].value == "it"
    assert preference(alice) == "it"


def test_the_switchers_choice_is_used_at_the_next_login(client, alice, merchant_a):
    client.force_login(alice)
    client.post(reverse("set_language"), {"language": "es", "next": "/dashboard/"})
    client.post(reverse("logout"))
    client.cookies.pop(COOKIE, None)  # another browser

    response = post_login(client, alice.email, headers=ENGLISH_BROWSER)

    assert response.cookies[COOKIE].value == "es"


def test_the_switcher_works_for_visitors_and_saves_nothing(client):
    response = client.post(reverse("set_language"), {"language": "fr", "next": "/login/"})

    assert response.status_code == 302
    assert response.cookies[COOKIE].value == "fr"
    assert not User.objects.exclude(preferred_language="").exists()


def test_the_switcher_ignores_an_unsupported_language(alice_client, alice):
    set_preference(alice, "fr")

    alice_client.post(reverse("set_language"), {"language": "de", "next": "/dashboard/"})

    assert preference(alice) == "fr"


def test_the_switcher_does_not_save_for_a_session_still_waiting_for_its_code(client, alice, merchant_a):
    set_preference(alice, "fr")
    totp_device(alice)
    client.force_login(alice)  # logged in before two-factor was turned on elsewhere: not verified

    response = client.post(reverse("set_language"), {"language": "it", "next": "/login/"})

    assert response.cookies[COOKIE].value == "it"  # this browser switches, the account does not
    assert preference(alice) == "fr"


def test_the_switcher_changes_nothing_on_get(alice_client, alice):
    response = alice_client.get(reverse("set_language"), {"language": "it", "next": "/dashboard/"})

    assert response.status_code == 302
    assert COOKIE not in response.cookies
    assert preference(alice) == ""


# --- the account page ---------------------------------------------------------------------------


def test_the_account_page_shows_the_saved_language(alice_client, alice):
    set_preference(alice, "it")

    content = alice_client.get(ACCOUNT, headers=ENGLISH_BROWSER).content.decode()

    assert 'name="action" value="language"' in content
    assert '<option value="it" selected>Italiano</option>' in content
    assert '<option value="fr">Français</option>' in content


def test_the_account_page_changes_the_language(alice_client, alice):
    response = alice_client.post(ACCOUNT, {"action": "language", "language": "es"}, headers=ENGLISH_BROWSER)

    assert response.status_code == 302
    assert response.url == ACCOUNT
    assert response.cookies[COOKIE].value == "es"
    assert preference(alice) == "es"
    page = alice_client.get(ACCOUNT, headers=ENGLISH_BROWSER)
    assert html_lang(page) == "es"
    assert "Se ha guardado su idioma." in page.content.decode()
    assert '<option value="es" selected>Español</option>' in page.content.decode()


def test_the_account_page_refuses_an_unknown_language(alice_client, alice):
    set_preference(alice, "fr")

    response = alice_client.post(ACCOUNT, {"action": "language", "language": "de"})

    assert response.status_code == 200
    assert COOKIE not in response.cookies
    assert preference(alice) == "fr"


def test_the_account_page_needs_the_second_factor_of_a_user_who_has_one(client, alice, merchant_a):
    totp_device(alice)
    client.force_login(alice)

    response = client.post(ACCOUNT, {"action": "language", "language": "es"})

    assert response.status_code == 302
    assert preference(alice) != "es"


def test_a_verified_user_with_two_factor_changes_it(client, alice, merchant_a):
    login_verified(client, alice)

    client.post(ACCOUNT, {"action": "language", "language": "fr"})

    assert preference(alice) == "fr"


def test_the_factories_user_starts_without_preference():
    # The tests above rely on users made by the factories having the default (English) preference.
    assert factories.user("eve@example.org").preferred_language == ""
