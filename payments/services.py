"""Every state change of payments, refunds, customers and cards.

Shape of a transition (STYLE.md §2): open a transaction, re-read the payment with
`select_for_update`, check the state it starts from, return quietly when the change already
happened, write, publish the event in the same transaction.

Authorisation is the one slow acquirer call that must not hold the payment's row lock (a
3-D Secure challenge can take minutes): the payment is first moved to `pending` under the
lock, which refuses any concurrent attempt, abort or capture, then the acquirer is called,
then the answer is applied under the lock again. Capture, void and refund calls are quick,
idempotent by key, and are made while holding the lock so that they are serialized with
everything else that touches the payment (spec §7.5).
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from datetime import timedelta

from django.core.mail import send_mail
from django.db import transaction
from django.db.models import Q
from django.template.loader import render_to_string
from django.utils import timezone

from merchants.models import Merchant
from notifications.services.outbox import publish
from payments import bins, cards, events, representations, vault
from payments.acquirers import get_acquirer
from payments.acquirers.base import AcquirerResult, AcquirerUnavailable, CardData, Outcome
from payments.errors import MerchantUnavailable, PaymentError
from payments.models import (
    AUTHORIZATION_LIFETIME,
    MAX_FAILED_ATTEMPTS,
    PAGE_LIFETIME,
    REVIEW_DEADLINE,
    Card,
    Customer,
    Payment,
    PaymentAttempt,
    Refund,
)
from payments.money import ledger
from payplug import prepared
from payplug.ids import random_base62

logger = logging.getLogger(__name__)
Status = Payment.Status
AttemptStatus = PaymentAttempt.Status

MIN_REFUND = 10
# A 3-D Secure challenge unanswered this long is abandoned (the shopper closed the tab): the
# payment must not stay `pending` for ever (card schemes let an ACS session last about 10 minutes).
CHALLENGE_LIFETIME = timedelta(minutes=15)
# A card number a checkout form kept in the vault while the shopper corrected another field
# (payments.checkout.page) is usable this long, and deleted an hour later if it was never used.
KEPT_CARD_LIFETIME = timedelta(hours=1)
RETRYABLE_FAILURES = {"card_declined", "processing_error", "3ds_declined", "incorrect_number", "method_unsupported"}
FAILURE_MESSAGES = {
    "aborted": "The payment was aborted by the merchant.",
    "timeout": "The payment was not completed in time.",
    "fraud_suspected": "The payment was refused by fraud checks.",
    "method_unsupported": "This card brand is not accepted.",
}


def _lock(payment_id: int) -> Payment:
    return Payment.objects.select_for_update().get(pk=payment_id)


_publish = events.publish_payment


def _set_failure(p: Payment, code: str, message: str | None = None) -> None:
    p.failure_code = code
    p.failure_message = (message or FAILURE_MESSAGES.get(code, ""))[:255]


# --- may this merchant take the payment? ------------------------------------------------------


def merchant_refusal(merchant: Merchant, is_live: bool) -> MerchantUnavailable | None:
    """Why `merchant` may not take a payment in this mode now, or None when it may.

    * Suspended (merchants.services.organisations.suspend_merchant): no payment at all, test mode
      included. Suspension closes the whole account, as authentication does (merchants.authentication
      and the pay button refuse its test keys as well as its live ones), so a test page of a
      suspended account must not go on charging sandbox cards either: `account_suspended`.
    * Live mode switched off (Merchant.live_enabled false: approval withdrawn, profile no longer
      complete, an owner or admin without a second factor): no live payment, `account_not_live`;
      test payments go on, as test keys keep working.

    Reads the merchant as given (no query): the charging functions below pass the row they have
    just loaded for the charge; creation passes the caller's (the API's authenticated merchant,
    the link page's or the pay button's).
    """
    if merchant.status == Merchant.Status.SUSPENDED:
        return MerchantUnavailable("account_suspended", "This account is suspended: it cannot take payments.")
    if is_live and not merchant.live_enabled:
        return MerchantUnavailable(
            "account_not_live", "Live mode is not enabled for this account: it cannot take live payments."
        )
    return None


def _check_merchant_may_charge(p: Payment) -> None:
    """Refuse (MerchantUnavailable, nothing written) a charge for a merchant that may not take it.

    Every path that authorises a card calls this before the acquirer is asked: submit_card (the
    hosted page), pay_with_saved_card (one-click, on the page or through the API, merchant-initiated
    included) and complete_3ds; create_payment refuses too, before any row is written, with the
    merchant it is given (an API request, a link visit or a pay-button session). The callers pass
    a payment they have just read (locked) from the database, never the page's or the request's
    instance, so `p.merchant` is the row as it is now: a suspension made after the page was
    shown, or after an API request was authenticated, is seen. A suspension committed while an
    acquirer call is already under way does not stop that call.

    *Decision* — the gate is the authorisation, the moment a card is charged for the merchant.
    What was authorised while the merchant could take it is still captured (fraud accept, review
    approval, deferred capture) and an unknown outcome is still reconciled: the shopper agreed to
    it, the funds would otherwise stay blocked on their card, and the money stays on the
    platform, since a suspended merchant gets no payout (payments.money.payouts) and refunds stay
    possible. Refunds are never refused for the merchant's status.
    """
    refusal = merchant_refusal(p.merchant, p.is_live)
    if refusal is not None:
        raise refusal


# --- creation ------------------------------------------------------------------------------


@dataclass
class NewPayment:
    """Validated creation input (the API serializer, a payment link or the pay button builds it)."""

    amount: int
    is_deferred: bool = False
    auto_capture: bool = False
    billing: dict | None = None
    shipping: dict | None = None
    return_url: str | None = None
    cancel_url: str | None = None
    sent_by: str | None = None
    notification_url: str | None = None
    metadata: dict | None = None
    description: str | None = None
    save_card: bool = False
    allow_save_card: bool = False
    force_3ds: bool = False
    saved_card: Card | None = None
    initiator: str | None = None
    customer: Customer | None = None
    payment_context: dict | None = None
    source: str = "api"
    shopper_ip: str | None = None
    shopper_language: str | None = None
    # An installment of a plan (payments.installments), which charges a merchant-initiated one
    # itself once the row is committed (`charge_saved_card=False`).
    installment_plan: object | None = None
    installment_index: int | None = None
    # A period of a subscription (payments.subscriptions); a null period with a subscription is
    # the card check of a subscriber's new card.
    subscription: object | None = None
    subscription_period: int | None = None
    charge_saved_card: bool = True


def create_payment(merchant, is_live: bool, data: NewPayment) -> Payment:
    refusal = merchant_refusal(merchant, is_live)
    if refusal is not None:  # no page, link payment or button session for a merchant that may not charge
        raise refusal
    now = timezone.now()
    merchant_initiated = data.saved_card is not None and data.initiator == "MERCHANT"
    # One INSERT, atomic on its own: no transaction around it (three statements fewer on the
    # busiest write of the API). An emailed payment request goes out once the row is committed:
    # at once in autocommit, or at the commit of a caller's transaction.
    p = Payment(
        merchant=merchant,
        is_live=is_live,
        amount=data.amount,
        is_deferred=data.is_deferred,
        auto_capture=data.auto_capture,
        created_at=now,
        expires_at=now + PAGE_LIFETIME,
        billing=data.billing or {},
        shipping=data.shipping,
        return_url=data.return_url,
        cancel_url=data.cancel_url,
        sent_by=data.sent_by,
        hosted_token=None if merchant_initiated else random_base62(32),
        notification_url=data.notification_url,
        metadata=data.metadata or {},
        description=data.description,
        save_card=data.save_card,
        allow_save_card=data.allow_save_card,
        force_3ds=data.force_3ds,
        initiator=data.initiator,
        payment_method=data.saved_card.public_id if data.saved_card else None,
        customer_public_id=data.customer.public_id if data.customer else None,
        payment_context=data.payment_context,
        source=data.source,
        shopper_ip=data.shopper_ip,
        shopper_language=data.shopper_language or (data.billing or {}).get("language"),
        billing_email=((data.billing or {}).get("email") or None),
        installment_plan=data.installment_plan,
        installment_index=data.installment_index,
        subscription=data.subscription,
        subscription_period=data.subscription_period,
    )
    prepared.insert(p)
    if data.sent_by == "EMAIL":
        transaction.on_commit(lambda: _email_payment_request(p.pk))
    if data.saved_card is not None and data.charge_saved_card:
        pay_with_saved_card(p, data.saved_card, shopper_present=not merchant_initiated)
        p.refresh_from_db()
    return p


def _email_payment_request(payment_id: int) -> None:
    p = Payment.objects.select_related("merchant").get(pk=payment_id)
    email = (p.billing or {}).get("email")
    if not email or not p.hosted_token:
        return
    context = {
        "payment": p,
        "merchant": p.merchant,
        "url": representations.hosted_payment_url(p),
        "amount": f"{p.amount / 100:.2f} {p.currency}",
    }
    send_mail(
        render_to_string("emails/payment_request_subject.txt", context).strip(),
        render_to_string("emails/payment_request_body.txt", context),
        None,
        [email],
        html_message=render_to_string("emails/payment_request_body.html", context),
        fail_silently=True,
    )


# --- attempts ------------------------------------------------------------------------------


class NotPayable(PaymentError):
    def __init__(self, message="This payment can no longer be paid."):
        super().__init__("payment_not_payable", message)


def _check_payable(p: Payment) -> None:
    if p.status != Status.CREATED:
        raise NotPayable()
    if p.expires_at <= timezone.now():
        raise NotPayable("This payment page has expired.")


def submit_card(
    payment_id: int, card: CardData, *, save_card: bool = False, shopper_ip: str | None = None, force_3ds: bool = False
) -> PaymentAttempt:
    """A shopper's card on the hosted page: one attempt, authorised through the acquirer.

    The card must already pass the form checks (Luhn, expiry, CVC format). Raises NotPayable
    when the payment is not (or no longer) payable, e.g. a second tab submitting at once.
    """
    brand = cards.detect_brand(card.number)
    with transaction.atomic():
        p = _lock(payment_id)
        _check_payable(p)
        _check_merchant_may_charge(p)
        if not cards.is_accepted(brand, p.merchant):
            # Not a failure of the card itself: no vault, no acquirer; `card` stays empty (spec §7.1).
            attempt = PaymentAttempt.objects.create(
                payment=p,
                status=AttemptStatus.FAILED,
                card_last4=card.number[-4:],
                card_bin=card.number[:6],
                card_brand=brand or "",
                card_exp_month=card.exp_month,
                card_exp_year=card.exp_year,
                card_fingerprint=vault.fingerprint(card.number),
                acquirer="none",
                failure_code="method_unsupported",
                failure_message=FAILURE_MESSAGES["method_unsupported"],
                shopper_ip=shopper_ip,
            )
            _record_failed_attempt(p, attempt, show_card=False)
            return attempt
        entry = vault.store(p.merchant, card.number)
        acquirer = get_acquirer(p.is_live)
        attempt = PaymentAttempt.objects.create(
            payment=p,
            status=AttemptStatus.PROCESSING,
            vault_entry=entry,
            card_last4=card.number[-4:],
            card_bin=card.number[:6],
            card_brand=brand,
            card_country=bins.country_of(card.number),
            card_exp_month=card.exp_month,
            card_exp_year=card.exp_year,
            card_fingerprint=entry.fingerprint,
            save_card=p.save_card or (p.allow_save_card and save_card),
            acquirer=acquirer.name,
            shopper_ip=shopper_ip,
        )
        p.status = Status.PENDING
        p.save(update_fields=["status", "updated_at"])
    result = acquirer.authorize(
        card=card,
        amount=p.amount,
        currency=p.currency,
        idempotency_key=attempt.idempotency_key,
        force_3ds=p.force_3ds or force_3ds,
        shopper_present=True,
        statement_descriptor=p.merchant.statement_descriptor,
    )
    return apply_authorization(attempt.pk, result)


def pay_with_saved_card(p: Payment, saved: Card, *, shopper_present: bool) -> PaymentAttempt:
    """One-click (spec §7.6): authorise a saved card synchronously at creation."""
    with transaction.atomic():
        p = _lock(p.pk)
        _check_payable(p)
        _check_merchant_may_charge(p)
        if not cards.is_accepted(saved.brand, p.merchant):
            # Saved while the merchant took the brand (American Express), which it has since turned off.
            attempt = PaymentAttempt.objects.create(
                payment=p,
                status=AttemptStatus.FAILED,
                saved_card=saved,
                card_last4=saved.last4,
                card_bin=saved.bin,
                card_brand=saved.brand,
                card_exp_month=saved.exp_month,
                card_exp_year=saved.exp_year,
                card_fingerprint=saved.fingerprint,
                acquirer="none",
                failure_code="method_unsupported",
                failure_message=FAILURE_MESSAGES["method_unsupported"],
            )
            _record_failed_attempt(p, attempt, show_card=False)
            return attempt
        acquirer = get_acquirer(p.is_live)
        attempt = PaymentAttempt.objects.create(
            payment=p,
            status=AttemptStatus.PROCESSING,
            vault_entry=saved.vault_entry,
            saved_card=saved,
            card_last4=saved.last4,
            card_bin=saved.bin,
            card_brand=saved.brand,
            card_country=saved.country,
            card_exp_month=saved.exp_month,
            card_exp_year=saved.exp_year,
            card_fingerprint=saved.fingerprint,
            acquirer=acquirer.name,
        )
        p.status = Status.PENDING
        p.save(update_fields=["status", "updated_at"])
    card = CardData(number=vault.reveal(saved.vault_entry), exp_month=saved.exp_month, exp_year=saved.exp_year)
    result = acquirer.authorize(
        card=card,
        amount=p.amount,
        currency=p.currency,
        idempotency_key=attempt.idempotency_key,
        force_3ds=p.force_3ds and shopper_present,
        shopper_present=shopper_present,
        statement_descriptor=p.merchant.statement_descriptor,
    )
    return apply_authorization(attempt.pk, result)


def _snapshot_card(p: Payment, attempt: PaymentAttempt) -> None:
    p.card_last4 = attempt.card_last4
    p.card_bin = attempt.card_bin
    p.card_brand = attempt.card_brand
    p.card_country = attempt.card_country
    p.card_exp_month = attempt.card_exp_month
    p.card_exp_year = attempt.card_exp_year
    p.card_fingerprint = attempt.card_fingerprint
    if attempt.saved_card_id:
        p.card = attempt.saved_card
        p.card_public_id = attempt.saved_card.public_id
    else:
        p.card = None
        p.card_public_id = None


def _record_failed_attempt(p: Payment, attempt: PaymentAttempt, *, show_card: bool = True) -> None:
    p.failed_attempts += 1
    if show_card:
        _snapshot_card(p, attempt)
        p.is_3ds = attempt.is_3ds
    _set_failure(p, attempt.failure_code, attempt.failure_message)
    final = (
        p.failed_attempts >= MAX_FAILED_ATTEMPTS
        or p.payment_method is not None  # one-click fails for good at its first failure
        or p.expires_at <= timezone.now()
        or attempt.failure_code not in RETRYABLE_FAILURES
    )
    p.status = Status.FAILED if final else Status.CREATED
    p.save()
    _publish(p, "payment.failed", ipn=True)


def apply_authorization(attempt_id: int, result: AcquirerResult) -> PaymentAttempt:
    """Apply the acquirer's answer to an attempt; a second application changes nothing."""
    with transaction.atomic():
        attempt = PaymentAttempt.objects.select_related("payment").get(pk=attempt_id)
        p = _lock(attempt.payment_id)
        attempt = PaymentAttempt.objects.select_for_update().get(pk=attempt_id)
        if attempt.status not in (AttemptStatus.PROCESSING, AttemptStatus.UNKNOWN, AttemptStatus.AWAITING_3DS):
            return attempt
        if result.reference:
            attempt.acquirer_reference = result.reference
        if result.card_country:  # the acquirer knows the issuer better than our BIN table
            attempt.card_country = result.card_country
        attempt.is_3ds = attempt.is_3ds or result.is_3ds
        if result.outcome == Outcome.AUTHORIZED:
            attempt.status = AttemptStatus.AUTHORIZED
            attempt.save()
            _snapshot_card(p, attempt)
            p.is_3ds = attempt.is_3ds
            p.status = Status.AUTHORIZED
            p.authorized_at = timezone.now()
            p.save()
            _publish(p, "payment.authorized", ipn=False)
        elif result.outcome == Outcome.REQUIRES_3DS:
            attempt.status = AttemptStatus.AWAITING_3DS
            attempt.save()
        elif result.outcome == Outcome.UNKNOWN:
            attempt.status = AttemptStatus.UNKNOWN
            attempt.save()
        else:  # DECLINED or ERROR: nothing was authorised
            attempt.status = AttemptStatus.FAILED
            attempt.failure_code = result.failure_code or "processing_error"
            attempt.failure_message = (result.failure_message or "")[:255]
            attempt.save()
            _record_failed_attempt(p, attempt)
    return attempt


def complete_3ds(attempt_id: int, authenticated: bool) -> PaymentAttempt:
    """The shopper answered the 3-D Secure challenge (approve, fail or abandon).

    Refused (MerchantUnavailable) when the merchant may no longer charge, for whatever answer: the
    attempt stays awaiting its challenge and nothing is asked of the acquirer, as when a shopper
    leaves a challenge unanswered; should the merchant be reinstated, the shopper can still answer.
    """
    _check_merchant_may_charge(Payment.objects.select_related("merchant").get(attempts__pk=attempt_id))
    # Compare-and-set: only one request may take the challenge's answer to the acquirer.
    claimed = PaymentAttempt.objects.filter(pk=attempt_id, status=AttemptStatus.AWAITING_3DS).update(
        status=AttemptStatus.PROCESSING, updated_at=timezone.now()
    )
    attempt = PaymentAttempt.objects.select_related("payment").get(pk=attempt_id)
    if not claimed:
        return attempt
    acquirer = get_acquirer(attempt.payment.is_live)
    result = acquirer.complete_3ds(
        reference=attempt.acquirer_reference,
        authenticated=authenticated,
        idempotency_key=attempt.idempotency_key + "-3ds",
    )
    result.is_3ds = True
    return apply_authorization(attempt.pk, result)


def abandon_challenge(attempt_id: int) -> PaymentAttempt:
    """A 3-D Secure challenge left unanswered past CHALLENGE_LIFETIME counts as abandoned: the
    acquirer is told the shopper did not authenticate, nothing is charged and the payment leaves
    `pending` (back to the page for another try while it lives, as after a failed challenge).
    The same compare-and-set as `complete_3ds`: a shopper's late answer and this job never both
    reach the acquirer. Allowed whatever the merchant's status: it can only refuse money."""
    claimed = PaymentAttempt.objects.filter(pk=attempt_id, status=AttemptStatus.AWAITING_3DS).update(
        status=AttemptStatus.PROCESSING, updated_at=timezone.now()
    )
    attempt = PaymentAttempt.objects.select_related("payment").get(pk=attempt_id)
    if not claimed:
        return attempt
    try:
        result = get_acquirer(attempt.payment.is_live).complete_3ds(
            reference=attempt.acquirer_reference,
            authenticated=False,
            idempotency_key=attempt.idempotency_key + "-3ds",
        )
    except AcquirerUnavailable:
        # Left in `processing`: `reconcile_pending` asks the acquirer later, which hands the
        # challenge back (awaiting) or its outcome, and this job tries again after that.
        logger.warning("abandoning the challenge of %s postponed: acquirer unavailable", attempt.public_id)
        return attempt
    result.is_3ds = True
    if result.outcome in (Outcome.DECLINED, Outcome.ERROR):
        result.failure_code = "3ds_declined"
        result.failure_message = "The 3-D Secure authentication was not completed in time."
    return apply_authorization(attempt.pk, result)


def abandon_stale_challenges(now=None) -> int:
    """Beat body (with `expire_due`): challenges nobody answered within CHALLENGE_LIFETIME."""
    cutoff = (now or timezone.now()) - CHALLENGE_LIFETIME
    ids = list(
        PaymentAttempt.objects.filter(status=AttemptStatus.AWAITING_3DS, updated_at__lte=cutoff).values_list(
            "pk", flat=True
        )[:500]
    )
    for attempt_id in ids:
        abandon_challenge(attempt_id)
    return len(ids)


def reconcile_attempt(attempt_id: int) -> PaymentAttempt:
    """Ask the acquirer what became of an authorisation whose answer never came."""
    attempt = PaymentAttempt.objects.select_related("payment").get(pk=attempt_id)
    if attempt.status not in (AttemptStatus.UNKNOWN, AttemptStatus.PROCESSING):
        return attempt
    try:
        result = get_acquirer(attempt.payment.is_live).inquire(idempotency_key=attempt.idempotency_key)
    except AcquirerUnavailable:
        logger.warning("reconciliation of %s postponed: acquirer unavailable", attempt.public_id)
        return attempt
    if result.outcome == Outcome.UNKNOWN:
        return attempt
    if result.outcome not in (Outcome.AUTHORIZED, Outcome.REQUIRES_3DS):
        result.failure_code = "processing_error"
        result.outcome = Outcome.ERROR
        result.failure_message = result.failure_message or "The authorisation could not be confirmed."
    return apply_authorization(attempt.pk, result)


def reconcile_pending(older_than_seconds: int = 30) -> int:
    """Beat task body: resolve every attempt left unknown (or stuck in processing) for a while."""
    cutoff = timezone.now() - timedelta(seconds=older_than_seconds)
    ids = list(
        PaymentAttempt.objects.filter(
            Q(status=AttemptStatus.UNKNOWN) | Q(status=AttemptStatus.PROCESSING), updated_at__lt=cutoff
        ).values_list("pk", flat=True)[:500]
    )
    for attempt_id in ids:
        reconcile_attempt(attempt_id)
    return len(ids)


def current_attempt(p: Payment) -> PaymentAttempt | None:
    return p.attempts.order_by("-created_at", "-pk").first()


# --- fraud decisions (called by the fraud app) ---------------------------------------------------


def _authorized_attempt(p: Payment) -> PaymentAttempt:
    return p.attempts.filter(status__in=[AttemptStatus.AUTHORIZED, AttemptStatus.CAPTURED]).latest("created_at")


def accept(payment_id: int) -> Payment:
    """Fraud checks accepted the authorisation: capture now, or wait for the merchant's capture."""
    with transaction.atomic():
        p = _lock(payment_id)
        if p.status not in (Status.AUTHORIZED, Status.IN_REVIEW):
            return p
        if p.is_deferred and not p.auto_capture:
            p.status = Status.CAPTURABLE
            p.authorization_expires_at = p.authorized_at + AUTHORIZATION_LIFETIME
            p.hosted_paid_at = p.authorized_at if p.hosted_token else None
            p.failure_code = p.failure_message = None
            p.review_deadline = None
            _save_card_if_asked(p)
            p.save()
            _publish(p, "payment.capturable", ipn=True)
            return p
        if p.is_deferred:
            p.authorization_expires_at = p.authorized_at + AUTHORIZATION_LIFETIME
            p.hosted_paid_at = p.authorized_at if p.hosted_token else None
        _capture_locked(p)
    return p


def hold_for_review(payment_id: int, deadline=None) -> Payment:
    with transaction.atomic():
        p = _lock(payment_id)
        if p.status != Status.AUTHORIZED:
            return p
        latest = p.authorized_at + AUTHORIZATION_LIFETIME - timedelta(hours=1)
        p.review_deadline = min(deadline or (timezone.now() + REVIEW_DEADLINE), latest)
        p.status = Status.IN_REVIEW
        p.save()
        _publish(p, "payment.review_required", ipn=False)
    return p


def refuse(payment_id: int, code: str = "fraud_suspected", message: str | None = None) -> Payment:
    """Fraud checks refused (or a review was rejected / ran out of time): void and fail for good."""
    with transaction.atomic():
        p = _lock(payment_id)
        if p.status not in (Status.AUTHORIZED, Status.IN_REVIEW, Status.CAPTURABLE):
            return p
        _void_locked(p)
        _set_failure(p, code, message)
        p.status = Status.FAILED
        p.review_deadline = None
        p.save()
        _publish(p, "payment.failed", ipn=True)
    return p


# --- capture, void, abort ----------------------------------------------------------------------


def _capture_locked(p: Payment) -> None:
    attempt = _authorized_attempt(p)
    result = get_acquirer(p.is_live).capture(
        reference=attempt.acquirer_reference, amount=p.amount, idempotency_key=attempt.idempotency_key + "-capture"
    )
    if result.outcome in (Outcome.DECLINED, Outcome.ERROR):
        # A definitive refusal (e.g. the acquirer let the authorisation lapse): the money will not
        # come; the payment fails for good instead of pretending a retry could help.
        attempt.status = AttemptStatus.FAILED
        attempt.save(update_fields=["status", "updated_at"])
        _set_failure(p, "processing_error", result.failure_message or "The acquirer refused the capture.")
        p.status = Status.FAILED
        p.review_deadline = None
        p.save()
        _publish(p, "payment.failed", ipn=True)
        return
    if not result.ok:
        raise AcquirerUnavailable(f"capture of {p.public_id} not confirmed")
    now = timezone.now()
    attempt.status = AttemptStatus.CAPTURED
    attempt.save(update_fields=["status", "updated_at"])
    p.status = Status.PAID
    p.paid_at = now
    if p.hosted_token and not p.hosted_paid_at:
        p.hosted_paid_at = now
    p.failure_code = p.failure_message = None
    p.review_deadline = None
    _save_card_if_asked(p)
    p.save()
    ledger.post_capture(p, now)  # gross, fee and net: same transaction as the state change
    _publish(p, "payment.paid", ipn=True)


def _void_locked(p: Payment) -> None:
    attempt = p.attempts.filter(status=AttemptStatus.AUTHORIZED).order_by("-created_at").first()
    if attempt is None:
        return
    result = get_acquirer(p.is_live).void(
        reference=attempt.acquirer_reference, idempotency_key=attempt.idempotency_key + "-void"
    )
    if not result.ok:
        raise AcquirerUnavailable(f"void of {p.public_id} not confirmed")
    attempt.status = AttemptStatus.VOIDED
    attempt.save(update_fields=["status", "updated_at"])


def _save_card_if_asked(p: Payment) -> None:
    attempt = _authorized_attempt(p)
    if not attempt.save_card or attempt.saved_card_id or p.card_public_id:
        return
    customer = None
    if p.customer_public_id:
        customer = (
            Customer.objects.for_tenant(p.merchant, p.is_live).alive().filter(public_id=p.customer_public_id).first()
        )
    card = Card.objects.create(
        merchant=p.merchant,
        is_live=p.is_live,
        customer=customer,
        vault_entry=attempt.vault_entry,
        fingerprint=attempt.card_fingerprint,
        brand=attempt.card_brand,
        last4=attempt.card_last4,
        bin=attempt.card_bin,
        exp_month=attempt.card_exp_month,
        exp_year=attempt.card_exp_year,
        country=attempt.card_country,
    )
    attempt.saved_card = card
    attempt.save(update_fields=["saved_card", "updated_at"])
    p.card = card
    p.card_public_id = card.public_id


def capture(p: Payment) -> Payment:
    """`PATCH {"captured": true}` on a deferred payment (spec §7.5)."""
    with transaction.atomic():
        p = _lock(p.pk)
        if not p.is_deferred:
            raise PaymentError("payment_not_deferred", "This payment is not a deferred-capture payment.")
        if p.status == Status.PAID:
            return p
        if p.status != Status.CAPTURABLE:
            raise PaymentError("payment_not_authorized", "This payment has no authorization to capture.")
        if p.authorization_expires_at and p.authorization_expires_at <= timezone.now():
            raise PaymentError("authorization_expired", "The authorization of this payment has expired.")
        _capture_locked(p)
    return p


def abort(p: Payment) -> Payment:
    """`PATCH {"abort": true}` (spec §7.5)."""
    with transaction.atomic():
        p = _lock(p.pk)
        if p.status == Status.FAILED and p.failure_code == "aborted":
            return p
        if p.status == Status.PAID:
            raise PaymentError("payment_already_paid", "A paid payment cannot be aborted; refund it instead.")
        if p.status == Status.FAILED:
            raise PaymentError("payment_already_failed", "This payment has already failed.")
        if p.status == Status.PENDING:
            raise PaymentError("payment_pending", "An attempt on this payment is in progress; retry later.")
        if p.status in (Status.AUTHORIZED, Status.IN_REVIEW, Status.CAPTURABLE):
            _void_locked(p)
        _set_failure(p, "aborted")
        p.status = Status.FAILED
        p.review_deadline = None
        p.save()
        _publish(p, "payment.failed", ipn=True)
    return p


# --- refunds ---------------------------------------------------------------------------------


def check_refundable(p: Payment, amount: int | None, *, now=None) -> int:
    """The amount a refund of `p` would move now (`None`: all that remains), or the PaymentError
    `refund` would raise, in its order. Writes nothing: `refund` calls it on the locked row, the
    dashboard on a read to refuse an impossible amount before anything is confirmed. Inside a
    transaction (the ledger's balance check takes the merchant's ledger lock)."""
    now = now or timezone.now()
    if p.status != Status.PAID:
        raise PaymentError("payment_not_paid", "Only paid payments can be refunded.")
    if p.dispute:
        raise PaymentError("payment_disputed", "A disputed payment cannot be refunded.")
    if now < p.refundable_after:
        raise PaymentError("refund_not_yet_allowed", "This payment cannot be refunded yet.")
    if now > p.refundable_until:
        raise PaymentError("refund_window_closed", "The refund period of this payment is over.")
    remaining = p.remaining_amount
    amount = remaining if amount is None else amount
    if amount > remaining or remaining == 0:
        raise PaymentError(
            "refund_exceeds_remaining",
            f"amount: the refund exceeds the remaining refundable amount ({remaining} cents).",
            details={"amount": f"exceeds the remaining refundable amount ({remaining} cents)."},
        )
    if amount < MIN_REFUND and amount != remaining:
        raise PaymentError(
            "refund_amount_too_small",
            f"amount: a refund must be at least {MIN_REFUND} cents.",
            details={"amount": f"must be at least {MIN_REFUND} cents."},
        )
    try:
        # Under the merchant's ledger lock (held to the commit): a concurrent payout or
        # refund cannot spend the same money. Refused before the acquirer is asked.
        ledger.check_refund(p, amount)
    except ledger.InsufficientFunds as exc:
        raise PaymentError(
            "refund_refused",
            f"amount: the merchant balance ({exc.held} cents) does not cover this refund ({exc.needed} cents "
            "with fees); wait for incoming payments or contact support.",
            details={"amount": "the merchant balance does not cover this refund."},
        ) from None
    return amount


def refund(
    p: Payment,
    amount: int | None,
    *,
    metadata: dict | None = None,
    idempotency_key: str | None = None,
    created_by: str = "",
) -> Refund:
    """Refund part or all of a paid payment (spec §8). Concurrent refunds never overshoot."""
    with transaction.atomic():
        p = _lock(p.pk)
        now = timezone.now()
        amount = check_refundable(p, amount, now=now)
        attempt = _authorized_attempt(p)
        key = _refund_key(p, idempotency_key)
        result = get_acquirer(p.is_live).refund(
            reference=attempt.acquirer_reference, amount=amount, idempotency_key=key
        )
        if result.outcome in (Outcome.DECLINED, Outcome.ERROR):
            raise PaymentError("refund_refused", result.failure_message or "The acquirer refused the refund.")
        if not result.ok:
            raise AcquirerUnavailable("refund outcome unknown")
        r = Refund.objects.create(
            merchant=p.merchant,
            is_live=p.is_live,
            payment=p,
            amount=amount,
            currency=p.currency,
            metadata=metadata or {},
            acquirer_reference=result.reference,
            created_at=now,
            created_by=created_by,
        )
        ledger.post_refund(r, refunded_before=p.amount_refunded, now=now)
        p.amount_refunded += amount
        p.save(update_fields=["amount_refunded", "updated_at"])
        publish(
            merchant=p.merchant,
            is_live=p.is_live,
            type="refund.created",
            object_type="refund",
            object_id=r.public_id,
            payload=representations.refund(r),
            ipn_url=p.notification_url,
        )
    return r


def _refund_key(p: Payment, idempotency_key: str | None) -> str:
    """The acquirer's idempotency key: the client's own key when it gave one, so its retry is safe."""
    if idempotency_key:
        digest = hashlib.sha256(f"{p.merchant_id}:{p.is_live}:{idempotency_key}".encode()).hexdigest()
        return f"refund-{digest[:40]}"
    return f"refund-{random_base62(32)}"


# --- expiry ------------------------------------------------------------------------------------


def expire_due(now=None) -> int:
    """Beat task body: challenges left unanswered, pages unpaid after 24 h, deferred authorisations
    past expiry, reviews past deadline."""
    now = now or timezone.now()
    count = abandon_stale_challenges(now)
    vault.purge_unreferenced(older_than=now - KEPT_CARD_LIFETIME)
    for payment_id in Payment.objects.filter(status=Status.CREATED, expires_at__lte=now).values_list("pk", flat=True)[
        :1000
    ]:
        with transaction.atomic():
            p = _lock(payment_id)
            if p.status != Status.CREATED or p.expires_at > now:
                continue
            if not p.failure_code:
                _set_failure(p, "timeout")
            p.status = Status.FAILED
            p.save()
            _publish(p, "payment.failed", ipn=True)
            count += 1
    for payment_id in Payment.objects.filter(status=Status.CAPTURABLE, authorization_expires_at__lte=now).values_list(
        "pk", flat=True
    )[:1000]:
        refuse(payment_id, code="timeout", message="The authorization expired before capture.")
        count += 1
    for payment_id in Payment.objects.filter(status=Status.IN_REVIEW, review_deadline__lte=now).values_list(
        "pk", flat=True
    )[:1000]:
        refuse(payment_id, code="fraud_suspected", message="The review was not completed in time.")
        count += 1
    return count


# --- notifications ------------------------------------------------------------------------------


def record_ipn_response(payment_public_id: str, status_code: int) -> None:
    """The IPN delivery reports each attempt's HTTP status (0 when no answer) onto the payment."""
    Payment.objects.filter(public_id=payment_public_id).update(notification_response_code=status_code)


# --- customers and cards -------------------------------------------------------------------------


def create_customer(merchant, is_live: bool, fields: dict) -> Customer:
    return Customer.objects.create(merchant=merchant, is_live=is_live, **fields)


def update_customer(customer: Customer, fields: dict) -> Customer:
    with transaction.atomic():
        locked = Customer.objects.select_for_update().get(pk=customer.pk)
        for name, value in fields.items():
            setattr(locked, name, value)
        locked.save()
    return locked


def delete_customer(customer: Customer) -> None:
    """Deleting a customer deletes its saved cards; its past payments keep `customer_id`."""
    now = timezone.now()
    with transaction.atomic():
        Card.objects.filter(customer=customer, deleted_at__isnull=True).update(deleted_at=now)
        Customer.objects.filter(pk=customer.pk).update(deleted_at=now)


def attach_card(card: Card, customer: Customer, metadata: dict | None) -> Card:
    with transaction.atomic():
        locked = Card.objects.select_for_update().get(pk=card.pk)
        if locked.customer_id and locked.customer_id != customer.pk:
            raise PaymentError(
                "invalid_request",
                "card: belongs to another customer.",
                details={"card": "belongs to another customer."},
            )
        locked.customer = customer
        if metadata is not None:
            locked.metadata = metadata
        locked.save()
    return locked


def delete_card(card: Card) -> None:
    Card.objects.filter(pk=card.pk, deleted_at__isnull=True).update(deleted_at=timezone.now())
