"""Emails to the merchant's team: subscriptions, event emails, the daily summary, admins' alerts.

Every member chooses their own topics per organisation and mode (`update_email_subscription`).
An event email is one Delivery of its event (`send_event_email` makes its attempt); the daily
summary is a beat task (`send_daily_summaries`) read from the outbox.
"""

from __future__ import annotations

import logging
import smtplib
from datetime import UTC, date, datetime, timedelta

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db.models import Q
from django.template.loader import render_to_string
from django.urls import NoReverseMatch, reverse
from django.utils import timezone, translation

from merchants.models import Membership
from notifications import transport
from notifications.models import EMAIL_TOPIC_EVENTS, Delivery, EmailSubscription, Event, WebhookEndpoint

logger = logging.getLogger(__name__)

Topic = EmailSubscription.Topic

ADMIN_ROLES = (Membership.Role.OWNER, Membership.Role.ADMIN)


def _link(name: str, *args) -> str:
    try:
        return settings.PUBLIC_BASE_URL + reverse(name, args=args)
    except NoReverseMatch:
        return settings.PUBLIC_BASE_URL + "/dashboard/"


def _send(template: str, context: dict, to: list[str], language: str = "") -> None:
    with translation.override(language or settings.LANGUAGE_CODE):
        subject = " ".join(render_to_string(f"emails/{template}_subject.txt", context).split())
        text = render_to_string(f"emails/{template}_body.txt", context)
        html = render_to_string(f"emails/{template}_body.html", context)
    message = EmailMultiAlternatives(subject, text, to=to)
    message.attach_alternative(html, "text/html")
    message.send()


def send_event_email(delivery: Delivery) -> transport.Response:
    """One attempt of an email delivery; the outcome is recorded like an HTTP attempt's."""
    event = delivery.event
    topic = EMAIL_TOPIC_EVENTS.get(event.type)
    templates = {
        Topic.PAYMENT_RECEIVED: "notification_payment_received",
        Topic.REVIEW_NEEDED: "notification_review_needed",
        Topic.PAYOUT_SENT: "notification_payout_sent",
    }
    if topic not in templates or delivery.recipient is None:
        return transport.Response(0, error="nothing to send", permanent=True)
    payload = event.payload or {}
    link = _link("dashboard:payment", event.object_id) if event.object_type == "payment" else _link("dashboard:home")
    context = {
        "merchant": delivery.event.merchant,
        "event": event,
        "object": payload,
        "amount": _money(payload.get("amount"), payload.get("currency")),
        "is_live": event.is_live,
        "link": link,
        "settings_link": _link("dashboard:notification_settings"),
    }
    try:
        _send(templates[topic], context, [delivery.target], delivery.recipient.preferred_language)
    except (smtplib.SMTPException, OSError) as exc:
        return transport.Response(0, error=f"email not sent: {exc}"[:500])
    return transport.Response(0, succeeded=True)


def _money(cents, currency) -> str:
    if not isinstance(cents, int):
        return ""
    return f"{cents // 100},{cents % 100:02d} {currency or 'EUR'}"


def _admin_emails(merchant_id: int) -> list[tuple[str, str]]:
    memberships = Membership.objects.filter(
        merchant_id=merchant_id, role__in=ADMIN_ROLES, user__is_active=True
    ).select_related("user")
    return [(m.user.email, m.user.preferred_language) for m in memberships]


# Topics a member receives until they choose their own (no subscription for that organisation and
# mode yet): owners and admins hear of every dispute, since a dispute left unanswered is lost.
DEFAULT_TOPICS = {Membership.Role.OWNER: [Topic.DISPUTES], Membership.Role.ADMIN: [Topic.DISPUTES]}


def default_topics(role: str | None) -> list[str]:
    return [str(topic) for topic in DEFAULT_TOPICS.get(role, [])]


def topic_recipients(merchant_id: int, is_live: bool, topic: str) -> list[tuple[str, str]]:
    """(email, language) of the active members who get `topic` emails about this organisation and
    mode: those who chose it, and those who never chose and whose role has it by default."""
    chosen = dict(
        EmailSubscription.objects.filter(merchant_id=merchant_id, is_live=is_live).values_list("user_id", "topics")
    )
    memberships = Membership.objects.filter(merchant_id=merchant_id, user__is_active=True).select_related("user")
    recipients = []
    for membership in memberships.order_by("created_at", "pk"):
        topics = chosen.get(membership.user_id)
        if topic in (default_topics(membership.role) if topics is None else topics):
            recipients.append((membership.user.email, membership.user.preferred_language))
    return recipients


def email_members(merchant_id: int, is_live: bool, topic: str, template: str, context: dict) -> tuple[int, int]:
    """Send `template` to every member who gets `topic` emails, each in their own language (a caller
    in a higher app passes plain data: notifications imports none of it). Returns (sent, recipients):
    a failed send is logged and does not stop the others."""
    context = {"is_live": is_live, "settings_link": _link("dashboard:notification_settings"), **context}
    recipients = topic_recipients(merchant_id, is_live, topic)
    sent = 0
    for email, language in recipients:
        try:
            _send(template, context, [email], language)
        except (smtplib.SMTPException, OSError):
            logger.exception("%s email of merchant %s not sent to a member", template, merchant_id)
            continue
        sent += 1
    return sent, len(recipients)


def email_endpoint_disabled(endpoint: WebhookEndpoint) -> None:
    """Tell the merchant's owners and admins that a failing endpoint was disabled."""
    context = {
        "merchant": endpoint.merchant,
        "endpoint": endpoint,
        "failing_since": endpoint.failing_since,
        "is_live": endpoint.is_live,
        "link": _link("dashboard:webhook", endpoint.public_id),
    }
    for email, language in _admin_emails(endpoint.merchant_id):
        try:
            _send("webhook_disabled", context, [email], language)
        except (smtplib.SMTPException, OSError):
            logger.exception("endpoint %s disabled: the email to an admin could not be sent", endpoint.public_id)


def update_email_subscription(user, merchant, is_live: bool, topics: list[str]) -> EmailSubscription:
    wanted = sorted({topic for topic in topics if topic in Topic.values})
    subscription, _ = EmailSubscription.objects.update_or_create(
        user=user, merchant=merchant, is_live=is_live, defaults={"topics": wanted}
    )
    return subscription


def daily_summary(merchant_id: int, is_live: bool, day: date) -> dict:
    """Yesterday in numbers, read from the outbox (each event carries its resource)."""
    start = datetime.combine(day, datetime.min.time(), tzinfo=UTC)
    events = Event.objects.filter(
        merchant_id=merchant_id, is_live=is_live, created_at__gte=start, created_at__lt=start + timedelta(days=1)
    ).values_list("type", "object_id", "payload")
    paid, refunds, failed, reviews = {}, {}, set(), set()
    for event_type, object_id, payload in events:
        amount = (payload or {}).get("amount") or 0
        if event_type == "payment.paid":
            paid[object_id] = amount
        elif event_type == "refund.created":
            refunds[object_id] = amount
        elif event_type == "payment.failed":
            failed.add(object_id)
        elif event_type == "payment.review_required":
            reviews.add(object_id)
    return {
        "day": day,
        "paid_count": len(paid),
        "paid_amount": _money(sum(paid.values()), "EUR"),
        "refund_count": len(refunds),
        "refund_amount": _money(sum(refunds.values()), "EUR"),
        "failed_count": len(failed - set(paid)),
        "review_count": len(reviews),
    }


def send_daily_summaries(day: date | None = None) -> int:
    """Beat task body: one summary per subscribed member, at most once per day (compare-and-set)."""
    day = day or (timezone.now() - timedelta(days=1)).date()
    sent = 0
    subscriptions = EmailSubscription.objects.filter(
        Q(last_summary_date__isnull=True) | Q(last_summary_date__lt=day), user__is_active=True
    ).select_related("user", "merchant")
    for subscription in subscriptions:
        if Topic.DAILY_SUMMARY not in subscription.topics:
            continue
        if not Membership.objects.filter(user_id=subscription.user_id, merchant_id=subscription.merchant_id).exists():
            continue
        claimed = (
            EmailSubscription.objects.filter(pk=subscription.pk)
            .filter(Q(last_summary_date__isnull=True) | Q(last_summary_date__lt=day))
            .update(last_summary_date=day)
        )
        if not claimed:
            continue
        context = {
            "merchant": subscription.merchant,
            "is_live": subscription.is_live,
            "summary": daily_summary(subscription.merchant_id, subscription.is_live, day),
            "link": _link("dashboard:home"),
            "settings_link": _link("dashboard:notification_settings"),
        }
        try:
            _send(
                "notification_daily_summary", context, [subscription.user.email], subscription.user.preferred_language
            )
        except (smtplib.SMTPException, OSError):
            logger.exception("daily summary for subscription %s not sent", subscription.pk)
            EmailSubscription.objects.filter(pk=subscription.pk, last_summary_date=day).update(
                last_summary_date=subscription.last_summary_date
            )
            continue
        sent += 1
    return sent
