"""The sandbox acquirer of test mode: deterministic, in-process, driven by the test card numbers.

The documented cards are in ../shared/spec/sandbox-cards.md and README.md. It remembers each
operation by idempotency key (in the database, so every web process and worker agrees), and it
never stores a card number: only the behaviour the number selected.
"""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.db.models import Q

from payments import cards
from payments.acquirers.base import Acquirer, AcquirerResult, CardData, Outcome
from payments.models import SandboxOperation
from payplug.ids import random_base62

SUCCESS = "success"
DECLINE = "decline"
INSUFFICIENT_FUNDS = "insufficient_funds"
LOST_OR_STOLEN = "lost_or_stolen"
EXPIRED_CARD = "expired_card"
INCORRECT_CVC = "incorrect_cvc"
PROCESSING_ERROR = "processing_error"
CHALLENGE_3DS = "3ds_challenge"
FRICTIONLESS_3DS = "3ds_frictionless"
TIMEOUT = "timeout"
FRAUD = "fraud"  # authorised; the fraud engine refuses it (test-mode signal, see fraud app)
DISPUTE = "dispute"  # authorised and captured; a chargeback follows
# Authorised while the shopper is there (the hosted page); declined when charged without the shopper
# (merchant-initiated: the later installments of a plan), to try declines with the test clock.
LATER_DECLINE = "later_decline"
UNKNOWN_NUMBER = "unknown_number"

TEST_CARDS = {
    "4242424242424242": SUCCESS,
    "5555555555554444": SUCCESS,
    "5200828282828210": SUCCESS,
    "4000000000000002": DECLINE,
    "4000000000009995": INSUFFICIENT_FUNDS,
    "4000000000009987": LOST_OR_STOLEN,
    "4000000000000069": EXPIRED_CARD,
    "4000000000000127": INCORRECT_CVC,
    "4000000000000119": PROCESSING_ERROR,
    "4000002500003155": CHALLENGE_3DS,
    "4000000000003220": FRICTIONLESS_3DS,
    "4000000000000077": TIMEOUT,
    "4100000000000019": FRAUD,
    "4000000000000259": DISPUTE,
    "4000000000000341": LATER_DECLINE,
    # American Express: reaches the sandbox only for a merchant who enabled the brand (services).
    "378282246310005": SUCCESS,
}

DECLINE_MESSAGES = {
    DECLINE: "The card was declined by the issuer.",
    INSUFFICIENT_FUNDS: "The card was declined: insufficient funds.",
    LOST_OR_STOLEN: "The card was declined: it was reported lost or stolen.",
    EXPIRED_CARD: "The card was declined: it has expired.",
    INCORRECT_CVC: "The card was declined: the security code is incorrect.",
}


def behaviour_of(number: str) -> str:
    return TEST_CARDS.get(number, UNKNOWN_NUMBER)


def _behaviour(card: CardData) -> str:
    behaviour = behaviour_of(card.number)
    # A security code of the wrong length for the brand (3 digits for American Express's 4-digit CID)
    # is a wrong code, as an issuer would say. No code at all: a saved card, nothing to check.
    authorising = behaviour in (SUCCESS, FRICTIONLESS_3DS, CHALLENGE_3DS, LATER_DECLINE)
    if authorising and card.cvc and len(card.cvc) != cards.cvc_length(cards.detect_brand(card.number)):
        return INCORRECT_CVC
    return behaviour


# The sandbox's test cards are French cards: every answer about one says so (spec §7 examples).
CARD_COUNTRY = "FR"


def is_dispute_card(attempt) -> bool:
    """Whether a test-mode attempt was authorised with the dispute test card (4000 0000 0000 0259).
    The sandbox never stores card numbers: its memory of the operation says which behaviour the
    number selected."""
    if attempt is None:
        return False
    return SandboxOperation.objects.filter(
        Q(idempotency_key=attempt.idempotency_key) | Q(reference=attempt.acquirer_reference),
        kind="authorize",
        behaviour=DISPUTE,
    ).exists()


class SandboxAcquirer(Acquirer):
    name = "sandbox"

    def _remember(self, key, kind, behaviour, outcome, amount=0, reference=None, code="", message=""):
        reference = reference or f"sbx_{random_base62(20)}"
        try:
            with transaction.atomic():
                op = SandboxOperation.objects.create(
                    idempotency_key=key,
                    kind=kind,
                    reference=reference,
                    behaviour=behaviour,
                    amount=amount,
                    outcome=outcome,
                    failure_code=code,
                    failure_message=message,
                )
        except IntegrityError:
            op = SandboxOperation.objects.get(idempotency_key=key)  # a retry: same answer
        return op

    def _replay(self, key):
        return SandboxOperation.objects.filter(idempotency_key=key).first()

    @staticmethod
    def _result(op, is_3ds=False, frictionless=False):
        return AcquirerResult(
            outcome=Outcome(op.outcome),
            reference=op.reference,
            failure_code=op.failure_code,
            failure_message=op.failure_message,
            is_3ds=is_3ds,
            three_ds_frictionless=frictionless,
            card_country=CARD_COUNTRY if op.kind in ("authorize", "complete_3ds") else "",
        )

    def authorize(
        self,
        *,
        card: CardData,
        amount,
        currency,
        idempotency_key,
        force_3ds=False,
        shopper_present=True,
        statement_descriptor="",
    ):
        previous = self._replay(idempotency_key)
        if previous is not None:
            return self._result(previous)
        behaviour = _behaviour(card)
        if behaviour == LATER_DECLINE and not shopper_present:
            op = self._remember(
                idempotency_key,
                "authorize",
                behaviour,
                Outcome.DECLINED,
                amount,
                None,
                "card_declined",
                DECLINE_MESSAGES[DECLINE],
            )
            return self._result(op)
        needs_challenge = shopper_present and (behaviour == CHALLENGE_3DS or force_3ds)
        if behaviour == TIMEOUT:
            # The acquirer did authorise; its answer was lost. Inquiry will say so.
            self._remember(idempotency_key, "authorize", behaviour, Outcome.AUTHORIZED, amount)
            return AcquirerResult(outcome=Outcome.UNKNOWN, failure_message="The acquirer did not answer in time.")
        if needs_challenge:
            op = self._remember(idempotency_key, "authorize", behaviour, Outcome.REQUIRES_3DS, amount)
            return self._result(op, is_3ds=True)
        op = self._authorize_now(idempotency_key, behaviour, amount)
        return self._result(op, is_3ds=behaviour == FRICTIONLESS_3DS, frictionless=behaviour == FRICTIONLESS_3DS)

    def _authorize_now(self, key, behaviour, amount, reference=None):
        if behaviour in DECLINE_MESSAGES:
            return self._remember(
                key,
                "authorize",
                behaviour,
                Outcome.DECLINED,
                amount,
                reference,
                "card_declined",
                DECLINE_MESSAGES[behaviour],
            )
        if behaviour == PROCESSING_ERROR:
            return self._remember(
                key,
                "authorize",
                behaviour,
                Outcome.ERROR,
                amount,
                reference,
                "processing_error",
                "The acquirer reported a processing error.",
            )
        if behaviour == UNKNOWN_NUMBER:
            return self._remember(
                key,
                "authorize",
                behaviour,
                Outcome.DECLINED,
                amount,
                reference,
                "incorrect_number",
                "The card number does not exist (not a sandbox test card).",
            )
        return self._remember(key, "authorize", behaviour, Outcome.AUTHORIZED, amount, reference)

    def complete_3ds(self, *, reference, authenticated, idempotency_key):
        previous = self._replay(idempotency_key)
        if previous is not None:
            return self._result(previous, is_3ds=True)
        challenge = SandboxOperation.objects.filter(reference=reference, kind="authorize").first()
        if challenge is None or challenge.outcome != Outcome.REQUIRES_3DS:
            return AcquirerResult(
                outcome=Outcome.ERROR, failure_code="processing_error", failure_message="Unknown 3-D Secure session."
            )
        if not authenticated:
            op = self._remember(
                idempotency_key,
                "complete_3ds",
                challenge.behaviour,
                Outcome.DECLINED,
                challenge.amount,
                reference,
                "3ds_declined",
                "3-D Secure authentication failed.",
            )
            return self._result(op, is_3ds=True)
        behaviour = SUCCESS if challenge.behaviour == CHALLENGE_3DS else challenge.behaviour
        op = self._authorize_now(idempotency_key, behaviour, challenge.amount, reference)
        return self._result(op, is_3ds=True)

    def inquire(self, *, idempotency_key):
        previous = self._replay(idempotency_key)
        if previous is None:
            return AcquirerResult(
                outcome=Outcome.DECLINED,
                failure_code="processing_error",
                failure_message="The acquirer has no record of this authorisation.",
            )
        return self._result(previous)

    def _simple(self, kind, reference, amount, idempotency_key):
        previous = self._replay(idempotency_key)
        if previous is not None:
            return self._result(previous)
        op = self._remember(
            idempotency_key, kind, kind, Outcome.SUCCEEDED, amount, reference if kind != "refund" else None
        )
        return self._result(op)

    def capture(self, *, reference, amount, idempotency_key):
        return self._simple("capture", reference, amount, idempotency_key)

    def void(self, *, reference, idempotency_key):
        return self._simple("void", reference, 0, idempotency_key)

    def refund(self, *, reference, amount, idempotency_key):
        return self._simple("refund", reference, amount, idempotency_key)
