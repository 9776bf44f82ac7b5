"""The fan-out: one delivery per target, created once, whatever the number of dispatches."""

import json

import pytest
from django.db import transaction

from merchants.models import Membership
from notifications.models import Delivery, EmailSubscription, Event
from notifications.services.delivery import dispatch
from notifications.services.emails import update_email_subscription
from notifications.services.endpoints import create_endpoint, disable_endpoint
from tests import factories

from .helpers import dispatched, record_event

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("allow_private")]


def endpoint(merchant, url, types, is_live=False, enabled=True):
    created, _ = create_endpoint(merchant, is_live, url=url, event_types=types)
    if not enabled:
        disable_endpoint(created)
    return created


def test_dispatch_creates_one_delivery_per_target(merchant_a, merchant_b, alice, receiver):
    # given: an IPN URL, two subscribed endpoints and noise that must not receive anything
    paid_hook = endpoint(merchant_a, receiver.url("/paid"), ["payment.paid"])
    all_hook = endpoint(merchant_a, receiver.url("/all"), ["payment.paid", "payment.failed", "refund.created"])
    endpoint(merchant_a, receiver.url("/failed-only"), ["payment.failed"])
    endpoint(merchant_a, receiver.url("/disabled"), ["payment.paid"], enabled=False)
    endpoint(merchant_a, receiver.url("/live"), ["payment.paid"], is_live=True)
    endpoint(merchant_b, receiver.url("/other-merchant"), ["payment.paid"])
    update_email_subscription(alice, merchant_a, False, ["payment_received"])
    event = record_event(merchant_a, ipn_url=receiver.url("/ipn"))

    # when
    dispatched(event)

    # then
    deliveries = Delivery.objects.filter(event=event)
    assert sorted(d.target_key for d in deliveries) == sorted(
        ["ipn", f"webhook:{paid_hook.pk}", f"webhook:{all_hook.pk}", f"email:{alice.pk}"]
    )
    assert sorted(r.path for r in receiver.received) == ["/all", "/ipn", "/paid"]
    assert {d.status for d in deliveries} == {Delivery.Status.SUCCEEDED}
    assert event.dispatched_at is not None


def test_a_repeated_dispatch_creates_no_duplicate_and_resends_nothing(merchant_a, receiver):
    endpoint(merchant_a, receiver.url("/hook"), ["payment.paid"])
    event = record_event(merchant_a, ipn_url=receiver.url("/ipn"))
    dispatched(event)
    assert Delivery.objects.filter(event=event).count() == 2

    # a redelivered dispatch task, then the sweeper's copy of it
    dispatch(event.pk)
    dispatch(event.pk)

    assert Delivery.objects.filter(event=event).count() == 2
    assert len(receiver.received) == 2


def test_an_endpoint_added_after_the_fan_out_does_not_get_older_events(merchant_a, receiver):
    event = dispatched(record_event(merchant_a, ipn_url=receiver.url("/ipn")))
    endpoint(merchant_a, receiver.url("/late"), ["payment.paid"])

    dispatch(event.pk)

    assert [d.target_key for d in Delivery.objects.filter(event=event)] == ["ipn"]


def test_an_event_without_ipn_url_nor_subscriber_has_no_delivery(merchant_a):
    event = dispatched(record_event(merchant_a, ipn_url=None))
    assert not Delivery.objects.filter(event=event).exists()
    assert event.dispatched_at is not None


def test_the_ipn_body_is_the_recorded_resource_exactly(merchant_a, receiver):
    event = dispatched(record_event(merchant_a, ipn_url=receiver.url()))
    (request,) = receiver.received
    assert json.loads(request.body) == event.payload
    assert request.body == json.dumps(event.payload, separators=(",", ":"), ensure_ascii=False).encode()
    assert request.header("Content-Type") == "application/json"


def test_the_webhook_body_is_the_event_envelope(merchant_a, receiver):
    endpoint(merchant_a, receiver.url("/hook"), ["payment.paid"])
    event = dispatched(record_event(merchant_a))
    (request,) = receiver.received
    assert json.loads(request.body) == {
        "id": event.public_id,
        "object": "event",
        "type": "payment.paid",
        "created_at": int(event.created_at.timestamp()),
        "is_live": False,
        "data": event.payload,
    }
    assert request.header("X-Event-Id") == event.public_id
    assert request.header("X-Delivery-Attempt") == "1"
    assert request.header("User-Agent").startswith("PayPlatform-Notifications/")


def test_emails_go_to_subscribed_members_only(merchant_a, alice, mailoutbox):
    bob = factories.member(merchant_a, "bob@example.org", Membership.Role.SUPPORT)
    carol = factories.member(merchant_a, "carol@example.org", Membership.Role.ACCOUNTANT)
    update_email_subscription(bob, merchant_a, False, ["review_needed"])
    update_email_subscription(carol, merchant_a, True, ["review_needed"])  # live mode only
    update_email_subscription(alice, merchant_a, False, ["payment_received"])
    event = record_event(merchant_a, type="payment.review_required")

    dispatched(event)

    assert [d.target for d in Delivery.objects.filter(event=event)] == ["bob@example.org"]
    (mail,) = mailoutbox
    assert mail.to == ["bob@example.org"]
    assert "review" in mail.subject
    assert event.object_id in mail.body


def test_a_member_who_left_gets_no_more_email(merchant_a, mailoutbox):
    bob = factories.member(merchant_a, "bob@example.org", Membership.Role.SUPPORT)
    update_email_subscription(bob, merchant_a, False, ["payment_received"])
    Membership.objects.filter(user=bob).delete()

    dispatched(record_event(merchant_a))

    assert mailoutbox == []
    assert EmailSubscription.objects.filter(user=bob).exists()


@pytest.mark.django_db(transaction=True)
def test_nothing_is_published_when_the_transaction_rolls_back(merchant_a, receiver):
    class Boom(Exception):
        pass

    with pytest.raises(Boom), transaction.atomic():
        record_event(merchant_a, ipn_url=receiver.url())
        raise Boom

    assert not Event.objects.exists()
    assert receiver.received == []


@pytest.mark.django_db(transaction=True)
def test_a_committed_event_is_dispatched_and_delivered_after_the_commit(merchant_a, receiver):
    with transaction.atomic():
        event = record_event(merchant_a, ipn_url=receiver.url())
        assert not Delivery.objects.exists()  # nothing leaves before the commit

    assert receiver.wait_for(1)
    event.refresh_from_db()
    assert event.dispatched_at is not None
    assert Delivery.objects.get(event=event).status == Delivery.Status.SUCCEEDED
