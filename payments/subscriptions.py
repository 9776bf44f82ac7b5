"""Subscriptions (our extension of the v1 API): recurring donations and memberships.

A subscription charges `amount` every `interval_count` months or years from `start_date`, until
`end_date` or `max_charges` if set, or until it is canceled. Its first payment is made on the
hosted page, where the subscriber consents to the future charges (strong authentication there);
the later charges are merchant-initiated on the card saved then, by the engine the installment
plans use (payments.recurring): exactly once, retried after a decline (1, 3 and 7 days) with the
subscriber emailed a page to pay with another card; after the last retry the subscription is
canceled (`canceled_by` "payment_failed").

A start date after today: the hosted page is a card check (an authorisation of the amount, saved
and then voided: nothing is charged) and the first charge is merchant-initiated on that date. The
subscriber's page (payments.checkout.subscriber) replaces the card the same way.

States: incomplete (first payment not made) → active ⇄ past_due (a charge declined, retries under
way); active/past_due ⇄ paused (nothing charged; periods whose date passes while paused are
skipped); → canceled (by the API, the merchant, the subscriber, or failed payments) or ended (the
end date or the number of charges reached). Every change is in a transaction that locks the
subscription row first, then its charge rows.

Events (webhooks; those marked IPN also go to `notification_url`): subscription.created,
subscription.activated, subscription.payment_succeeded, subscription.payment_failed (each
decline), subscription.card_updated, subscription.paused, subscription.resumed,
subscription.canceled (IPN), subscription.ended (IPN), subscription.card_expiring.

Test clock (test mode only): `advance_clock` moves the subscription's clock forward and charges
what became due, the code path the beat runs.
"""

from __future__ import annotations

import calendar
import logging
from dataclasses import dataclass
from datetime import date, timedelta

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext, ngettext

from merchants.services.audit import Actor, audit
from notifications.services.outbox import publish
from payments import amounts, display, recurring, representations, services, subscription_emails
from payments.errors import PaymentError
from payments.models import Card, Payment, Subscription, SubscriptionCharge

logger = logging.getLogger(__name__)
Status = Subscription.Status
ChargeStatus = SubscriptionCharge.Status

MAX_INTERVAL_COUNT = {Subscription.Interval.MONTH: 12, Subscription.Interval.YEAR: 3}
MAX_START_DAYS_AHEAD = 365
# A test clock advanced by a year plays every period out at once: at most this many charges.
MAX_CLOCK_CHARGES = 400


# --- the schedule -----------------------------------------------------------------------------------


def period_date(sub: Subscription, period: int) -> date:
    """The date of the `period`-th charge (1 for the first): the start date plus whole intervals,
    the day clamped to the month's last (31 January + 1 month → 28 or 29 February)."""
    months = (period - 1) * sub.interval_count * (12 if sub.interval == Subscription.Interval.YEAR else 1)
    return add_months(sub.start_date, months)


def add_months(day: date, months: int) -> date:
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def _is_last(sub: Subscription, period: int) -> bool:
    """No charge after `period`: the number of charges or the end date is reached."""
    if sub.max_charges is not None and sub.paid_charges >= sub.max_charges:
        return True
    return sub.end_date is not None and period_date(sub, period + 1) > sub.end_date


# --- creation -----------------------------------------------------------------------------------------


@dataclass
class NewSubscription:
    amount: int
    interval: str
    billing: dict
    return_url: str | None = None
    interval_count: int = 1
    currency: str = "EUR"
    start_date: date | None = None
    end_date: date | None = None
    max_charges: int | None = None
    description: str | None = None
    cancel_url: str | None = None
    notification_url: str | None = None
    metadata: dict | None = None
    source: str = "api"
    link: object | None = None
    shopper_ip: str | None = None
    shopper_language: str | None = None


def _invalid(field: str, message: str) -> PaymentError:
    return PaymentError("invalid_request", f"{field}: {message}", details={field: message})


def _is_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def validate(merchant, new: NewSubscription) -> None:
    """Refuse what cannot be a subscription, naming the first wrong field (nothing is written)."""
    low, high = max(amounts.MIN_AMOUNT, merchant.min_amount), min(amounts.MAX_AMOUNT, merchant.max_amount)
    if not _is_int(new.amount) or not low <= new.amount <= high:
        raise _invalid("amount", f"must be an integer between {low} and {high} cents.")
    if new.currency != "EUR":
        raise _invalid("currency", 'must be "EUR".')
    if new.interval not in MAX_INTERVAL_COUNT:
        raise _invalid("interval", 'must be "month" or "year".')
    most = MAX_INTERVAL_COUNT[new.interval]
    if not _is_int(new.interval_count) or not 1 <= new.interval_count <= most:
        raise _invalid("interval_count", f"must be an integer between 1 and {most} for a {new.interval}ly interval.")
    if not isinstance(new.billing, dict) or not new.billing.get("email"):
        raise _invalid("billing.email", "is required: receipts and reminders go to the subscriber.")
    today = recurring.today(merchant)
    start = new.start_date or today
    latest = today + timedelta(days=MAX_START_DAYS_AHEAD)
    if not today <= start <= latest:
        raise _invalid("start_date", f"must be between today ({today.isoformat()}) and {latest.isoformat()}.")
    if new.end_date is not None and new.max_charges is not None:
        raise _invalid("end_date", "give an end date or a number of charges, not both.")
    if new.end_date is not None and new.end_date <= start:
        raise _invalid("end_date", f"must be after the start date ({start.isoformat()}).")
    if new.max_charges is not None and (not _is_int(new.max_charges) or not 1 <= new.max_charges <= 1200):
        raise _invalid("max_charges", "must be an integer between 1 and 1200.")


def create_subscription(merchant, is_live: bool, new: NewSubscription) -> Subscription:
    """The subscription and its first hosted page: the first charge when it starts today, else a
    card check (the first charge is then merchant-initiated on the start date)."""
    refusal = services.merchant_refusal(merchant, is_live)
    if refusal is not None:
        raise refusal
    if is_live and not merchant.live_save_card_enabled:
        raise PaymentError(
            "feature_not_enabled",
            "Subscriptions keep the card: saving cards is not enabled for this account in live mode.",
            status=403,
        )
    validate(merchant, new)
    start = new.start_date or recurring.today(merchant)
    billing = dict(new.billing)
    if new.shopper_language and not billing.get("language"):
        billing["language"] = new.shopper_language
    with transaction.atomic():
        sub = Subscription.objects.create(
            merchant=merchant,
            is_live=is_live,
            amount=new.amount,
            currency=new.currency,
            interval=new.interval,
            interval_count=new.interval_count,
            start_date=start,
            end_date=new.end_date,
            max_charges=new.max_charges,
            description=new.description,
            billing=billing,
            return_url=new.return_url,
            cancel_url=new.cancel_url,
            notification_url=new.notification_url,
            metadata=new.metadata or {},
            source=new.source,
            link=new.link,
        )
        sub.merchant = merchant
        starts_today = start == recurring.today(merchant)
        first = SubscriptionCharge.objects.create(
            subscription=sub,
            period=1,
            date=start,
            amount=sub.amount,
            next_attempt_at=None if starts_today else recurring.start_of(start, sub),
        )
        if starts_today:
            first.page_payment = _payment(
                sub,
                first,
                return_url=sub.return_url,
                cancel_url=sub.cancel_url,
                save_card=True,
                shopper_ip=new.shopper_ip,
                shopper_language=new.shopper_language,
            )
            first.save(update_fields=["page_payment", "updated_at"])
        else:
            _card_check(sub, sub.return_url, shopper_ip=new.shopper_ip, shopper_language=new.shopper_language)
        _publish(sub, "subscription.created")
    return sub


def _payment(sub: Subscription, charge: SubscriptionCharge, **how) -> Payment:
    """A payment of `charge`, with what every payment of the subscription carries. A hosted page
    (the first payment, or one emailed after a decline) saves the card the next charges are taken
    on: the subscriber consents there, with strong authentication (a 3-D Secure challenge)."""
    if how.get("save_card"):
        how["force_3ds"] = True
    payment = services.create_payment(
        sub.merchant,
        sub.is_live,
        services.NewPayment(
            amount=charge.amount,
            billing=sub.billing,
            notification_url=sub.notification_url,
            metadata=sub.metadata,
            description=sub.description,
            source=sub.source,
            subscription=sub,
            subscription_period=charge.period,
            **how,
        ),
    )
    _from_link(sub, payment)
    return payment


def _from_link(sub: Subscription, payment: Payment) -> None:
    """A subscription started on a payment link: its payments are the link's too (list, totals)."""
    if sub.link_id:
        Payment.objects.filter(pk=payment.pk).update(link=sub.link_id)
        payment.link_id = sub.link_id


def _card_check(sub: Subscription, return_url: str | None, **shopper) -> Payment:
    """A hosted page that authorises the amount on a new card, saves the card and voids the
    authorisation (on_card_checked): nothing is charged."""
    return services.create_payment(
        sub.merchant,
        sub.is_live,
        services.NewPayment(
            amount=sub.amount,
            is_deferred=True,
            billing=sub.billing,
            return_url=return_url,
            cancel_url=sub.cancel_url,
            metadata=sub.metadata,
            description=sub.description,
            source=sub.source,
            save_card=True,
            force_3ds=True,  # the subscriber's consent to the next charges, strongly authenticated
            subscription=sub,
            **shopper,
        ),
    )


# --- what the API shows -----------------------------------------------------------------------------


def next_charge(sub: Subscription) -> SubscriptionCharge | None:
    return sub.charges.filter(status__in=SubscriptionCharge.OPEN).order_by("period").first()


def first_page(sub: Subscription) -> Payment | None:
    """The hosted page the subscriber opens to start the subscription (None once started)."""
    if sub.status != Status.INCOMPLETE:
        return None
    pages = Payment.objects.filter(subscription=sub, status=Payment.Status.CREATED, hosted_token__isnull=False)
    return pages.order_by("-created_at", "-id").first()


def hosted_url(sub: Subscription) -> str | None:
    page = first_page(sub)
    return representations.hosted_payment_url(page) if page is not None else None


def subscription_object(sub: Subscription) -> dict:
    """The subscription object, as GET /v1/subscriptions/{id} returns it."""
    return subscription_objects([sub])[0]


def subscription_objects(subs: list[Subscription]) -> list[dict]:
    """The objects of `subs` (a page of the list), in four queries whatever their number."""
    pks = [sub.pk for sub in subs]
    public_ids = [sub.public_id for sub in subs]
    cards = Card.objects.in_bulk([sub.card_id for sub in subs if sub.card_id])
    next_charges: dict[int, SubscriptionCharge] = {}
    open_charges = SubscriptionCharge.objects.filter(subscription_id__in=pks, status__in=SubscriptionCharge.OPEN)
    for charge in open_charges.order_by("-period"):
        next_charges[charge.subscription_id] = charge  # the lowest period wins
    payment_ids: dict[str, list[str]] = {public_id: [] for public_id in public_ids}
    rows = Payment.objects.filter(subscription_id__in=public_ids, subscription_period__isnull=False)
    for owner, public_id in rows.order_by("created_at", "id").values_list("subscription_id", "public_id"):
        payment_ids[owner].append(public_id)
    pages: dict[str, Payment] = {}
    starting = [sub.public_id for sub in subs if sub.status == Status.INCOMPLETE]
    if starting:
        open_pages = Payment.objects.filter(
            subscription_id__in=starting, status=Payment.Status.CREATED, hosted_token__isnull=False
        )
        for page in open_pages.order_by("created_at", "id"):
            pages[page.subscription_id] = page  # the newest wins
    objects = []
    for sub in subs:
        card, charge = cards.get(sub.card_id), next_charges.get(sub.pk)
        objects.append(_object(sub, card, charge, payment_ids[sub.public_id], pages.get(sub.public_id)))
    return objects


def _object(sub: Subscription, card, charge, payment_ids: list[str], page) -> dict:
    failure = {"code": sub.failure_code, "message": sub.failure_message or ""} if sub.failure_code else None
    ts = representations.ts
    return {
        "id": sub.public_id,
        "object": "subscription",
        "is_live": sub.is_live,
        "status": sub.status,
        "amount": sub.amount,
        "currency": sub.currency,
        "interval": sub.interval,
        "interval_count": sub.interval_count,
        "start_date": sub.start_date.isoformat(),
        "end_date": sub.end_date.isoformat() if sub.end_date else None,
        "max_charges": sub.max_charges,
        "description": sub.description,
        "created_at": ts(sub.created_at),
        "activated_at": ts(sub.activated_at),
        "paused_at": ts(sub.paused_at),
        "canceled_at": ts(sub.canceled_at),
        "canceled_by": sub.canceled_by,
        "ended_at": ts(sub.ended_at),
        "next_charge_date": charge.date.isoformat() if charge is not None and sub.is_open else None,
        "paid_charges": sub.paid_charges,
        "payment_ids": payment_ids,
        "card": (
            {
                "id": card.public_id,
                "brand": card.brand,
                "last4": card.last4,
                "exp_month": card.exp_month,
                "exp_year": card.exp_year,
            }
            if card is not None
            else None
        ),
        "failure": failure,
        "consent": {"given_at": ts(sub.consent_at), "text": sub.consent_text} if sub.consent_at else None,
        "billing": representations.address(sub.billing),
        "hosted_payment": {
            "payment_url": representations.hosted_payment_url(page) if page is not None else None,
            "return_url": sub.return_url,
            "cancel_url": sub.cancel_url,
        },
        "notification": {"url": sub.notification_url, "response_code": sub.notification_response_code},
        "metadata": sub.metadata or {},
    }


def _publish(sub: Subscription, event_type: str, *, ipn: bool = False) -> None:
    publish(
        merchant=sub.merchant,
        is_live=sub.is_live,
        type=event_type,
        object_type="subscription",
        object_id=sub.public_id,
        payload=subscription_object(sub),
        ipn_url=sub.notification_url if ipn else None,
    )


def record_ipn_response(public_id: str, status_code: int) -> None:
    if public_id.startswith("sub_"):
        Subscription.objects.filter(public_id=public_id).update(notification_response_code=status_code)


# --- consent --------------------------------------------------------------------------------------------


def needs_consent(payment: Payment) -> bool:
    """A hosted page of a subscription: its card is kept and charged later, so the subscriber must
    agree to it on the page."""
    return bool(payment.subscription_id and payment.hosted_token and payment.initiator != "MERCHANT")


def interval_text(sub: Subscription) -> str:
    return display.interval_text(sub.interval, sub.interval_count)


def consent_text(sub: Subscription) -> str:
    """The exact words the subscriber agrees to, in the active language."""
    values = {
        "merchant": sub.merchant.display_name,
        "amount": amounts.format_amount(sub.amount, sub.currency),
        "interval": interval_text(sub),
        "start": date_format(sub.start_date, "DATE_FORMAT"),
    }
    if sub.max_charges is not None:
        values["count"] = sub.max_charges
        text = ngettext(
            "I authorise %(merchant)s to charge my card %(amount)s %(interval)s from %(start)s, %(count)d time in all.",
            "I authorise %(merchant)s to charge my card %(amount)s %(interval)s from %(start)s, "
            "%(count)d times in all.",
            sub.max_charges,
        )
    elif sub.end_date is not None:
        values["end"] = date_format(sub.end_date, "DATE_FORMAT")
        text = gettext(
            "I authorise %(merchant)s to charge my card %(amount)s %(interval)s from %(start)s until %(end)s."
        )
    else:
        text = gettext(
            "I authorise %(merchant)s to charge my card %(amount)s %(interval)s from %(start)s until I cancel."
        )
    return (text % values) + " " + gettext("I can cancel at any time from the link in every receipt.")


def record_consent(payment: Payment, *, ip: str | None, text: str) -> None:
    """The subscriber ticked the consent box of `payment`'s page (before the card is submitted)."""
    if not needs_consent(payment):
        return
    with transaction.atomic():
        sub = Subscription.objects.select_for_update().get(public_id=payment.subscription_id)
        sub.consent_at = timezone.now()
        sub.consent_ip = ip or None
        sub.consent_text = text[:2000]
        sub.save(update_fields=["consent_at", "consent_ip", "consent_text", "updated_at"])


# --- what the engine needs to know (payments.recurring) ----------------------------------------


def _paid(sub: Subscription, charge: SubscriptionCharge, payment: Payment, now) -> None:
    sub.paid_charges += 1
    if sub.status == Status.INCOMPLETE:
        sub.status = Status.ACTIVE
        sub.activated_at = now
        activated = True
    else:
        activated = False
        if sub.status == Status.PAST_DUE:
            sub.status = Status.ACTIVE
    sub.failure_code = sub.failure_message = None
    # The last charge ends it, paused or not (a page emailed after a decline may be paid while paused).
    ended = sub.status in (*Subscription.CHARGEABLE, Status.PAUSED) and _is_last(sub, charge.period)
    if ended:
        sub.status = Status.ENDED
        sub.ended_at = now
    elif sub.is_open:
        day = period_date(sub, charge.period + 1)
        SubscriptionCharge.objects.get_or_create(
            subscription=sub,
            period=charge.period + 1,
            defaults={"date": day, "amount": sub.amount, "next_attempt_at": recurring.start_of(day, sub)},
        )
    sub.save()
    if activated:
        _publish(sub, "subscription.activated")
    _publish(sub, "subscription.payment_succeeded")
    if ended:
        _publish(sub, "subscription.ended", ipn=True)


def _declined(sub: Subscription, charge: SubscriptionCharge, code: str, message: str) -> None:
    if sub.status == Status.ACTIVE:
        sub.status = Status.PAST_DUE
    sub.failure_code = code[:40]
    sub.failure_message = (message or "")[:255]
    sub.save()
    _publish(sub, "subscription.payment_failed")


def _end(sub: Subscription, by: str) -> None:
    """Cancel `sub` (locked): nothing more is charged, its pages are closed."""
    now = timezone.now()
    sub.status = Status.CANCELED
    sub.canceled_at = sub.ended_at = now
    sub.canceled_by = by
    sub.save()
    recurring.end_open(KIND, sub)
    for check in _open_card_checks(sub):
        services.abort(check)
    _publish(sub, "subscription.canceled", ipn=True)


def _failed(sub: Subscription, code: str, message: str) -> None:
    """The last retry of a charge was declined."""
    sub.failure_code = code[:40]
    sub.failure_message = (message or "")[:255]
    _publish_failed = sub.status != Status.CANCELED
    _end(sub, Subscription.CanceledBy.PAYMENT_FAILED)
    if _publish_failed:
        _publish(sub, "subscription.payment_failed")


def _first_page_failed(sub: Subscription, charge: SubscriptionCharge, payment: Payment) -> None:
    sub.failure_code = (payment.failure_code or "timeout")[:40]
    sub.failure_message = (payment.failure_message or "")[:255]
    _end(sub, Subscription.CanceledBy.FIRST_PAYMENT)


KIND = recurring.Kind(
    owner_model=Subscription,
    charge_model=SubscriptionCharge,
    owner_field="subscription",
    number_field="period",
    payment_owner_field="subscription",
    payment_number_field="subscription_period",
    chargeable={"subscription__status__in": Subscription.CHARGEABLE},
    is_chargeable=lambda sub: sub.status in Subscription.CHARGEABLE,
    is_over=lambda sub: sub.status in (Status.CANCELED, Status.ENDED),
    new_payment=_payment,
    paid=_paid,
    declined=_declined,
    failed=_failed,
    page_failed=_first_page_failed,
    declined_email=subscription_emails.send_declined_email,
)


def charge_due(now=None, *, subscription: Subscription | None = None) -> int:
    """Beat task body: charge every due period once; returns how many charges were started."""
    return recurring.charge_due(KIND, now, owner=subscription)


def on_payment_paid(payment_id: int) -> None:
    recurring.on_payment_paid(KIND, payment_id)


def on_payment_failed(payment_id: int) -> None:
    recurring.on_payment_failed(KIND, payment_id)
    _card_check_failed(payment_id)


# --- card checks: a new card, nothing charged -------------------------------------------------------


def _open_card_checks(sub: Subscription):
    return Payment.objects.filter(subscription=sub, subscription_period__isnull=True, status=Payment.Status.CREATED)


def _card_check_of(payment_id: int) -> Payment | None:
    return (
        Payment.objects.filter(pk=payment_id, subscription__isnull=False, subscription_period__isnull=True)
        .select_related("merchant")
        .first()
    )


def on_card_checked(payment_id: int) -> None:
    """Subscriber of `payment.capturable`: a card check was authorised and its card saved; the card
    becomes the subscription's and the authorisation is voided."""
    check = _card_check_of(payment_id)
    if check is None:
        return
    with transaction.atomic():
        sub = Subscription.objects.select_for_update().select_related("merchant").get(public_id=check.subscription_id)
        check = Payment.objects.select_for_update().get(pk=payment_id)
        if check.status != Payment.Status.CAPTURABLE:
            return
        if sub.is_open and check.card_id and sub.card_id != check.card_id:
            now = timezone.now()
            sub.card_id = check.card_id
            sub.expiry_warned_for = ""
            started = sub.status == Status.INCOMPLETE
            if started:
                sub.status = Status.ACTIVE
                sub.activated_at = now
            sub.save()
            # A declined charge waiting for its retry is retried at once on the new card.
            SubscriptionCharge.objects.filter(subscription=sub, status=ChargeStatus.RETRYING).update(
                next_attempt_at=now, updated_at=now
            )
            _publish(sub, "subscription.activated" if started else "subscription.card_updated")
        services.abort(check)  # voids the authorisation: nothing is charged


def _card_check_failed(payment_id: int) -> None:
    """A card check failed for good: a subscription waiting for it to start never starts."""
    check = _card_check_of(payment_id)
    if check is None or check.status != Payment.Status.FAILED or check.failure_code == "aborted":
        return
    with transaction.atomic():
        sub = Subscription.objects.select_for_update().select_related("merchant").get(public_id=check.subscription_id)
        if sub.status != Status.INCOMPLETE or _open_card_checks(sub).exists():
            return
        sub.failure_code = (check.failure_code or "timeout")[:40]
        sub.failure_message = (check.failure_message or "")[:255]
        _end(sub, Subscription.CanceledBy.FIRST_PAYMENT)


def replace_card_payment(sub: Subscription, *, return_url: str | None = None) -> Payment:
    """A hosted card check for the subscriber's new card (the subscriber page sends them there)."""
    if not sub.is_open or sub.status == Status.INCOMPLETE:
        raise PaymentError("subscription_not_active", "Only a started, open subscription can change its card.")
    refusal = services.merchant_refusal(sub.merchant, sub.is_live)
    if refusal is not None:
        raise refusal
    with transaction.atomic():
        sub = KIND.lock_owner(sub.pk)
        for old in _open_card_checks(sub):
            services.abort(old)  # one card check page at a time
        return _card_check(sub, return_url or sub.return_url)


# --- pause, resume, cancel ------------------------------------------------------------------------


def _audit(sub: Subscription, actor: Actor | None, action: str) -> None:
    if actor is not None:
        audit(sub.merchant, actor, action, obj_type="subscription", obj_id=sub.public_id, is_live=sub.is_live)


def pause(sub: Subscription, *, by: str, actor: Actor | None = None) -> Subscription:
    """Nothing is charged until resumed (a charge already sent to the acquirer completes)."""
    with transaction.atomic():
        sub = KIND.lock_owner(sub.pk)
        if sub.status == Status.PAUSED:
            return sub
        if sub.status not in Subscription.CHARGEABLE:
            raise PaymentError("subscription_not_active", f"A subscription that is {sub.status} cannot be paused.")
        sub.status = Status.PAUSED
        sub.paused_at = timezone.now()
        sub.save()
        _publish(sub, "subscription.paused")
        _audit(sub, actor, "subscription.paused")
    return sub


def resume(sub: Subscription, *, by: str, actor: Actor | None = None) -> Subscription:
    """Charges go on; the periods whose date passed while paused are skipped (not charged)."""
    with transaction.atomic():
        sub = KIND.lock_owner(sub.pk)
        if sub.status in Subscription.CHARGEABLE:
            return sub
        if sub.status != Status.PAUSED:
            raise PaymentError("subscription_not_paused", f"A subscription that is {sub.status} cannot be resumed.")
        charge = (
            SubscriptionCharge.objects.select_for_update()
            .filter(subscription=sub, status__in=SubscriptionCharge.OPEN)
            .order_by("period")
            .first()
        )
        today = recurring.today(sub.merchant, sub.clock_offset)
        sub.status = Status.PAST_DUE if charge is not None and charge.status == ChargeStatus.RETRYING else Status.ACTIVE
        sub.paused_at = None
        if charge is not None and charge.status == ChargeStatus.SCHEDULED and charge.date < today:
            period = charge.period
            while period_date(sub, period) < today:
                period += 1
            day = period_date(sub, period)
            if sub.end_date is not None and day > sub.end_date:
                sub.status = Status.ENDED
                sub.ended_at = timezone.now()
                sub.save()
                recurring.end_open(KIND, sub)
                _publish(sub, "subscription.ended", ipn=True)
                _audit(sub, actor, "subscription.resumed")
                return sub
            charge.period = period  # the periods in between are skipped: never charged
            charge.date = day
            charge.next_attempt_at = recurring.start_of(day, sub)
            charge.save()
        sub.save()
        _publish(sub, "subscription.resumed")
        _audit(sub, actor, "subscription.resumed")
    return sub


def cancel(sub: Subscription, *, by: str, actor: Actor | None = None) -> Subscription:
    """Nothing more is charged; paid charges stay paid. An ended or canceled one is returned as is."""
    with transaction.atomic():
        sub = KIND.lock_owner(sub.pk)
        if not sub.is_open:
            return sub
        _end(sub, by)
        _audit(sub, actor, "subscription.canceled")
    return sub


# --- reminders before a long period's charge -------------------------------------------------------


# A yearly charge (or one every 3 months or more) is announced this long before it is taken.
REMINDER_BEFORE = timedelta(days=7)
MIN_REMINDED_MONTHS = 3


def remind_upcoming(now=None, *, subscription: Subscription | None = None) -> int:
    """Beat task body (daily): email the subscriber before a charge of a yearly subscription (or
    of one every 3 months or more), once per charge (compare-and-set on `reminded_at`)."""
    now = now or timezone.now()
    due = SubscriptionCharge.objects.filter(
        status=ChargeStatus.SCHEDULED,
        reminded_at__isnull=True,
        next_attempt_at__gt=now,
        next_attempt_at__lte=now + REMINDER_BEFORE,
        subscription__status=Status.ACTIVE,
    ).filter(
        Q(subscription__interval=Subscription.Interval.YEAR) | Q(subscription__interval_count__gte=MIN_REMINDED_MONTHS)
    )
    if subscription is not None:
        due = due.filter(subscription=subscription)
    sent = 0
    for charge_id in due.values_list("pk", flat=True)[: recurring.BATCH]:
        if SubscriptionCharge.objects.filter(pk=charge_id, reminded_at__isnull=True).update(reminded_at=now):
            sent += subscription_emails.send_reminder_email(charge_id)
    return sent


# --- the test clock ---------------------------------------------------------------------------------


def advance_clock(sub: Subscription, days: int) -> Subscription:
    """Test mode: move the subscription's clock `days` forward and charge what became due; each
    paid charge schedules the next, which is charged too when its date has passed."""
    sub = recurring.advance_clock(KIND, sub, days)
    for _ in range(MAX_CLOCK_CHARGES):
        if not charge_due(subscription=sub):
            break
    # The emails the daily tasks would send by now, in the subscription's clock.
    remind_upcoming(subscription=sub)
    subscription_emails.warn_expiring_cards(subscription=sub, describe=subscription_object)
    return Subscription.objects.select_related("merchant").get(pk=sub.pk)
