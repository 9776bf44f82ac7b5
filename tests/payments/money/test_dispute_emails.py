"""The team hears of a dispute: an email when it opens, a reminder before the deadline (issue 12, finding 13).

Who: the members who get dispute emails (owners and admins until they choose, anyone who chose
them). Each email is sent once per dispute, whatever the number of task deliveries or beat runs;
no reminder once the evidence is submitted.
"""

import smtplib
from datetime import timedelta

import pytest
from django.core import mail
from django.core.mail.backends.locmem import EmailBackend
from django.urls import reverse

from merchants.models import Membership
from notifications.services.emails import update_email_subscription
from payments.models import Dispute, Payment
from payments.money import disputes
from tests import factories
from tests.payments.helpers import create_payment, pay
from tests.payments.money.test_ledger_tripwire import ledger_tripwire  # noqa: F401  autouse: check_ledger after each test

DISPUTE_CARD = "4000 0000 0000 0259"


def team_emails(*addresses) -> list:
    return [m for m in mail.outbox if set(m.to) & set(addresses)]


def open_dispute(api) -> Dispute:
    payment = create_payment(api)
    pay(payment, number=DISPUTE_CARD)
    return disputes.open_scheduled(Payment.objects.get(public_id=payment["id"]).pk, force=True)


@pytest.fixture
def team(merchant_a):
    return {
        "support": factories.member(merchant_a, "support@example.org", Membership.Role.SUPPORT),
        "books": factories.member(merchant_a, "books@example.org", Membership.Role.ACCOUNTANT),
    }


def test_the_owner_is_told_a_dispute_opened_with_amount_reason_deadline_and_link(api, alice, team):
    dispute = open_dispute(api)

    (email,) = team_emails(alice.email)
    assert email.subject.startswith("[Test]") and "€33.00" in email.subject
    assert "Fraudulent" in email.body and dispute.payment.public_id in email.body
    assert reverse("dashboard:dispute", args=[dispute.public_id]) in email.body
    (html, mimetype), *_ = email.alternatives
    assert mimetype == "text/html" and "<strong>€33.00</strong>" in html
    # Members whose role does not get them by default and who did not choose them: nothing.
    assert team_emails(team["support"].email, team["books"].email) == []
    dispute.refresh_from_db()
    assert dispute.opened_email_sent_at is not None


def test_the_dispute_opened_email_is_sent_once_whatever_the_redeliveries(api, alice):
    dispute = open_dispute(api)

    assert disputes.send_opened_email(dispute.pk) is False  # a redelivered task
    assert disputes.send_due_emails()["opened"] == 0  # the beat's safety net

    assert len(team_emails(alice.email)) == 1


def test_members_who_chose_dispute_emails_get_them_and_those_who_turned_them_off_do_not(api, alice, team, merchant_a):
    update_email_subscription(team["books"], merchant_a, False, ["disputes"])
    update_email_subscription(alice, merchant_a, False, ["payment_received"])

    open_dispute(api)

    assert len(team_emails(team["books"].email)) == 1
    assert [m for m in team_emails(alice.email) if "disputed" in m.subject] == []


def test_the_email_speaks_the_members_language(api, alice):
    alice.preferred_language = "fr"
    alice.save(update_fields=["preferred_language"])

    open_dispute(api)

    (email,) = team_emails(alice.email)
    assert "33,00 €" in email.subject  # the amount as French readers write it
    assert "33,00\u00a0€" in email.body


def test_a_lost_opened_email_is_sent_by_the_beat_task(api, alice):
    dispute = open_dispute(api)
    Dispute.objects.filter(pk=dispute.pk).update(opened_email_sent_at=None)  # as if its task was lost
    mail.outbox.clear()

    assert disputes.send_due_emails()["opened"] == 1
    assert disputes.send_due_emails()["opened"] == 0
    assert len(team_emails(alice.email)) == 1


def test_a_reminder_is_sent_once_three_days_before_the_deadline(api, alice):
    dispute = open_dispute(api)
    mail.outbox.clear()

    assert disputes.send_due_emails(dispute.evidence_due_by - timedelta(days=4))["reminders"] == 0
    assert team_emails(alice.email) == []

    soon = dispute.evidence_due_by - timedelta(days=2, hours=23)
    assert disputes.send_due_emails(soon)["reminders"] == 1
    assert disputes.send_due_emails(soon + timedelta(hours=1))["reminders"] == 0
    assert disputes.send_reminder(dispute.pk, soon + timedelta(hours=2)) is False  # a redelivered task

    (email,) = team_emails(alice.email)
    assert email.subject.startswith("[Test] Reminder") and "€33.00" in email.subject
    assert reverse("dashboard:dispute", args=[dispute.public_id]) in email.body
    dispute.refresh_from_db()
    assert dispute.reminder_sent_at == soon


def test_no_reminder_once_the_evidence_is_submitted(api, alice):
    dispute = open_dispute(api)
    disputes.submit_evidence(dispute, "Delivered, signed for.")
    mail.outbox.clear()

    assert disputes.send_due_emails(dispute.evidence_due_by - timedelta(days=1))["reminders"] == 0
    assert disputes.send_reminder(dispute.pk, dispute.evidence_due_by - timedelta(days=1)) is False
    assert team_emails(alice.email) == []


def test_no_reminder_after_the_deadline(api, alice):
    dispute = open_dispute(api)
    mail.outbox.clear()

    assert disputes.send_reminder(dispute.pk, dispute.evidence_due_by + timedelta(minutes=1)) is False
    assert team_emails(alice.email) == []


def test_a_reminder_that_could_not_be_sent_is_tried_again(api, alice, monkeypatch):
    dispute = open_dispute(api)
    mail.outbox.clear()
    soon = dispute.evidence_due_by - timedelta(days=1)

    def refuse(self, messages):
        raise smtplib.SMTPServerDisconnected("down")

    with monkeypatch.context() as patched:
        patched.setattr(EmailBackend, "send_messages", refuse)
        assert disputes.send_due_emails(soon)["reminders"] == 0
    dispute.refresh_from_db()
    assert dispute.reminder_sent_at is None

    assert disputes.send_due_emails(soon + timedelta(minutes=15))["reminders"] == 1
    assert len(team_emails(alice.email)) == 1


def test_dispute_emails_are_offered_on_the_notification_page_and_on_for_owners(alice_client):
    page = alice_client.get(reverse("dashboard:notification_settings")).content.decode()

    assert 'value="disputes"' in page
    checkbox = page[page.index('value="disputes"') - 200 : page.index('value="disputes"') + 100]
    assert "checked" in checkbox
