"""Dashboard: webhook endpoints, secrets shown once, delivery log with resend, email preferences."""

import re

import pytest
from django.urls import reverse

from merchants.models import Membership
from notifications import signing
from notifications.models import Delivery, EmailSubscription, IpnSecret, WebhookEndpoint
from notifications.services.delivery import MAX_ATTEMPTS
from notifications.services.emails import update_email_subscription
from notifications.services.endpoints import create_endpoint
from tests import factories
from tests.csp import assert_no_inline_script_or_style

from .helpers import dispatched, login, record_event

pytestmark = pytest.mark.django_db

WEBHOOKS = reverse("dashboard:webhooks")
DELIVERIES = reverse("dashboard:webhook_deliveries")
EMAILS = reverse("dashboard:notification_settings")
SECRET = re.compile(r"whsec_[0-9A-Za-z]{32}")


@pytest.fixture
def owner(client, alice, merchant_a):
    return login(client, alice)


def create(client, url="https://hooks.shop.example/payplatform", types=("payment.paid", "refund.created")):
    return client.post(WEBHOOKS, {"url": url, "description": "Shop", "event_types": list(types)})


def assert_strict_csp_friendly(response):
    html = response.content.decode()
    assert_no_inline_script_or_style(html)


def test_creating_an_endpoint_shows_its_secret_once(owner, merchant_a):
    response = create(owner)

    assert response.status_code == 200
    (secret,) = SECRET.findall(response.content.decode())
    assert "no-store" in response["Cache-Control"]
    endpoint = WebhookEndpoint.objects.get(merchant=merchant_a)
    assert endpoint.event_types == ["payment.paid", "refund.created"]
    assert not endpoint.is_live
    assert signing.valid_secrets(endpoint) == [secret]
    for page in (WEBHOOKS, reverse("dashboard:webhook", args=[endpoint.public_id])):
        listed = owner.get(page)
        assert listed.status_code == 200
        assert secret not in listed.content.decode()
        assert endpoint.url in listed.content.decode()
        assert_strict_csp_friendly(listed)


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("http://hooks.shop.example/x", "https://"),
        ("https://127.0.0.1/x", "not reachable"),
        ("https://[::1]/x", "not reachable"),
        ("https://localhost/x", "public host"),
        ("https://user:pw@hooks.shop.example/x", "user name"),
        ("not a url", "valid URL"),
    ],
)
def test_an_endpoint_url_is_validated(owner, merchant_a, url, message, settings):
    settings.NOTIFICATIONS_ALLOW_PRIVATE_NETWORKS = False
    response = create(owner, url=url)
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not WebhookEndpoint.objects.exists()


def test_event_types_are_chosen_among_the_documented_ones(owner):
    response = create(owner, types=["payment.paid", "payment.secret_internal_thing"])
    assert "not one of the available choices" in response.content.decode()
    response = create(owner, types=[])
    assert "Choose at least one event" in response.content.decode()
    assert not WebhookEndpoint.objects.exists()


def test_live_endpoints_need_https_even_with_the_private_network_setting(client, alice, settings):
    settings.NOTIFICATIONS_ALLOW_PRIVATE_NETWORKS = True
    live = factories.live_merchant("Alice Live", owner=alice)
    login(client, alice, merchant=live, live=True)
    create(client, url="http://127.0.0.1:8080/hook")
    assert not WebhookEndpoint.objects.exists()
    create(client, url="https://hooks.shop.example/live")
    assert WebhookEndpoint.objects.get().is_live


def test_local_endpoints_are_accepted_in_test_mode_with_the_setting(owner, settings):
    settings.NOTIFICATIONS_ALLOW_PRIVATE_NETWORKS = True
    settings.NOTIFICATIONS_ALLOWED_LOOPBACK_PORTS = [8080]
    create(owner, url="http://127.0.0.1:8080/hook")
    assert WebhookEndpoint.objects.get().url == "http://127.0.0.1:8080/hook"


def test_rotating_shows_the_new_secret_once_and_keeps_the_old_one_for_24_hours(owner, merchant_a):
    endpoint, old = create_endpoint(merchant_a, False, url="https://h.shop.example/x", event_types=[])
    response = owner.post(reverse("dashboard:webhook", args=[endpoint.public_id]), {"action": "rotate"})
    (new,) = SECRET.findall(response.content.decode())
    endpoint.refresh_from_db()
    assert signing.valid_secrets(endpoint) == [new, old]
    assert "24 hours" in response.content.decode()


def test_an_endpoint_can_be_disabled_and_enabled(owner, merchant_a):
    endpoint, _ = create_endpoint(merchant_a, False, url="https://h.shop.example/x", event_types=[])
    url = reverse("dashboard:webhook", args=[endpoint.public_id])
    owner.post(url, {"action": "disable"})
    endpoint.refresh_from_db()
    assert not endpoint.is_enabled and endpoint.disabled_reason == "by_user"
    owner.post(url, {"action": "enable"})
    endpoint.refresh_from_db()
    assert endpoint.is_enabled and endpoint.disabled_at is None


def test_an_endpoint_subscriptions_can_be_changed(owner, merchant_a):
    endpoint, _ = create_endpoint(merchant_a, False, url="https://h.shop.example/x", event_types=[])
    url = reverse("dashboard:webhook", args=[endpoint.public_id])
    owner.post(url, {"action": "update", "event_types": ["payment.failed"], "description": "ops"})
    endpoint.refresh_from_db()
    assert endpoint.event_types == ["payment.failed"] and endpoint.description == "ops"


def test_the_ipn_secret_is_created_or_rolled_and_shown_once(owner, merchant_a):
    response = owner.post(reverse("dashboard:webhook_ipn_secret_rotate"))
    (first,) = SECRET.findall(response.content.decode())
    assert signing.valid_secrets(IpnSecret.objects.get(merchant=merchant_a, is_live=False))[0] == first
    assert first not in owner.get(WEBHOOKS).content.decode()

    response = owner.post(reverse("dashboard:webhook_ipn_secret_rotate"))
    (second,) = SECRET.findall(response.content.decode())
    assert signing.valid_secrets(IpnSecret.objects.get(merchant=merchant_a, is_live=False)) == [second, first]


def test_the_delivery_log_shows_attempts_and_resends(owner, merchant_a, receiver, allow_private):
    receiver.answer(500, b'{"error": "database down"}')
    event = dispatched(record_event(merchant_a, ipn_url=receiver.url()))
    delivery = Delivery.objects.get(event=event)

    log = owner.get(DELIVERIES)
    assert delivery.public_id in log.content.decode()
    assert_strict_csp_friendly(log)
    filtered = owner.get(DELIVERIES, {"status": "succeeded"})
    assert delivery.public_id not in filtered.content.decode()
    detail = owner.get(reverse("dashboard:webhook_delivery", args=[delivery.public_id]))
    html = detail.content.decode()
    assert "HTTP 500" in html and "database down" in html and " ms" in html
    assert_strict_csp_friendly(detail)

    response = owner.post(reverse("dashboard:webhook_delivery", args=[delivery.public_id]), {"action": "resend"})

    assert response.status_code == 302
    delivery.refresh_from_db()
    assert delivery.next_attempt_at is not None
    assert delivery.max_attempts == MAX_ATTEMPTS + 1


@pytest.mark.parametrize("role", [Membership.Role.SUPPORT, Membership.Role.ACCOUNTANT])
def test_members_without_the_webhooks_permission_are_refused(client, merchant_a, role):
    member = factories.member(merchant_a, "member@example.org", role)
    endpoint, _ = create_endpoint(merchant_a, False, url="https://h.shop.example/x", event_types=[])
    login(client, member)
    for url in (WEBHOOKS, DELIVERIES, reverse("dashboard:webhook", args=[endpoint.public_id])):
        assert client.get(url).status_code == 403
    assert (
        client.post(reverse("dashboard:webhook", args=[endpoint.public_id]), {"action": "disable"}).status_code == 403
    )
    assert create(client).status_code == 403
    endpoint.refresh_from_db()
    assert endpoint.is_enabled
    assert WebhookEndpoint.objects.count() == 1


def test_developers_manage_webhooks(client, merchant_a):
    developer = factories.member(merchant_a, "dev@example.org", Membership.Role.DEVELOPER)
    login(client, developer)
    create(client)
    assert WebhookEndpoint.objects.filter(merchant=merchant_a).count() == 1


def test_another_merchants_objects_answer_404(owner, merchant_b, receiver, allow_private):
    endpoint, _ = create_endpoint(merchant_b, False, url="https://h.shop.example/x", event_types=[])
    delivery = Delivery.objects.get(event=dispatched(record_event(merchant_b, ipn_url=receiver.url())))
    assert owner.get(reverse("dashboard:webhook", args=[endpoint.public_id])).status_code == 404
    assert owner.get(reverse("dashboard:webhook_delivery", args=[delivery.public_id])).status_code == 404
    assert owner.post(reverse("dashboard:webhook", args=[endpoint.public_id]), {"action": "disable"}).status_code == 404
    assert delivery.public_id not in owner.get(DELIVERIES).content.decode()


def test_the_other_mode_objects_are_not_listed(owner, merchant_a):
    live_endpoint, _ = create_endpoint(merchant_a, True, url="https://h.shop.example/live", event_types=[])
    assert live_endpoint.url not in owner.get(WEBHOOKS).content.decode()
    assert owner.get(reverse("dashboard:webhook", args=[live_endpoint.public_id])).status_code == 404


def test_every_member_chooses_their_own_emails(client, merchant_a, alice):
    support = factories.member(merchant_a, "support@example.org", Membership.Role.SUPPORT)
    update_email_subscription(alice, merchant_a, False, ["daily_summary"])
    login(client, support)

    page = client.get(EMAILS)
    assert page.status_code == 200
    assert_strict_csp_friendly(page)
    response = client.post(EMAILS, {"topics": ["review_needed", "payout_sent"]})

    assert response.status_code == 302
    mine = EmailSubscription.objects.get(user=support, merchant=merchant_a, is_live=False)
    assert mine.topics == ["payout_sent", "review_needed"]
    assert EmailSubscription.objects.get(user=alice).topics == ["daily_summary"]
    html = client.get(EMAILS).content.decode()
    assert re.search(r'value="review_needed"[^>]*checked', html)
    assert not re.search(r'value="daily_summary"[^>]*checked', html)
