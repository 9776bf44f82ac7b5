"""The acquirer interface: authorise, complete 3-D Secure, capture, void, refund, inquire.

Every call carries an idempotency key chosen by us (one per operation), so that a retried
call, or an inquiry after a timeout, refers to the same operation on the acquirer's side.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field


class Outcome(enum.StrEnum):
    AUTHORIZED = "authorized"
    DECLINED = "declined"  # final answer of the issuer/acquirer for this attempt
    REQUIRES_3DS = "requires_3ds"  # challenge needed: complete_3ds() after the shopper answered
    ERROR = "error"  # the acquirer answered with a processing error: nothing was authorised
    UNKNOWN = "unknown"  # timeout / no answer: the outcome must be resolved by inquiry
    SUCCEEDED = "succeeded"  # capture, void, refund accepted


@dataclass(frozen=True)
class CardData:
    """A card as entered by the shopper. Lives only for the duration of a request.

    `__repr__` never shows the number or the security code, so a stray log line or a
    traceback cannot leak them.
    """

    number: str
    exp_month: int
    exp_year: int
    cvc: str | None = field(default=None)
    holder: str = ""

    def __repr__(self):
        return f"CardData(last4={self.number[-4:]!r}, exp={self.exp_month:02d}/{self.exp_year})"

    __str__ = __repr__


@dataclass
class AcquirerResult:
    outcome: Outcome
    reference: str = ""  # the acquirer's id of the authorisation / refund
    failure_code: str = ""  # our failure codes (spec §7.4): card_declined, processing_error, ...
    failure_message: str = ""
    is_3ds: bool = False
    three_ds_frictionless: bool = False
    card_country: str = ""  # the issuer's country (ISO alpha-2) when the acquirer tells it
    # REQUIRES_3DS at a provider that hosts the challenge (Stripe's next_action, Adyen's action):
    # where to send the shopper; they come back to our hosted page and the attempt is re-read.
    # Empty when the challenge is answered on our page (the sandbox).
    redirect_url: str = ""
    raw: dict = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.outcome in (Outcome.AUTHORIZED, Outcome.SUCCEEDED)


class AcquirerUnavailable(Exception):
    """The acquirer could not be reached for an operation that is safe to retry later."""


class InvalidNotification(Exception):
    """A provider's notification that fails its signature check or its schema: rejected, logged,
    and nothing changes."""


@dataclass(frozen=True)
class ConnectorConfig:
    """What a connector needs for one merchant and mode (decrypted from the key ring in memory)."""

    api_key: str
    webhook_secret: str = ""  # Stripe's endpoint secret (whsec_...), Adyen's HMAC key (hex)
    merchant_account: str = ""  # Adyen's merchant account
    base_url: str = ""  # empty: the provider's own; a loopback http:// URL only for a local stand-in
    test_environment: bool = True  # the provider's test environment (test credentials)
    timeout: float = 10.0

    def __repr__(self):
        return f"ConnectorConfig(merchant_account={self.merchant_account!r}, base_url={self.base_url!r})"

    __str__ = __repr__


@dataclass(frozen=True)
class AcquirerEvent:
    """One provider notification, in our terms (Stripe webhook event, Adyen notification item).

    kind: authorized, authorization_failed, captured, capture_failed, canceled, refunded,
    refund_failed, dispute_opened, dispute_won, dispute_lost, ignored (known to be of no interest).
    """

    kind: str
    provider_event_id: str  # for deduplication: a redelivered event has the same id
    reference: str  # the provider's id of the payment (PaymentIntent id, Adyen pspReference)
    idempotency_key: str = ""  # ours, when the provider echoes it (metadata, merchantReference)
    amount: int | None = None  # minor units
    currency: str = ""
    operation_reference: str = ""  # the refund's / capture's own provider id
    failure_code: str = ""
    failure_message: str = ""
    created_at: int | None = None  # the provider's timestamp (Unix seconds): orders out-of-order events
    raw_type: str = ""  # the provider's own name of the event


class Acquirer:
    """The contract every acquirer connector keeps (the sandbox, the generic HTTP acquirer, the
    Stripe and Adyen connectors).

    General rules, for every method:

    * It talks to its provider and returns what the provider said, in our terms. It never writes
      to the database, never changes a payment, never sends a notification: payments.services
      does, from the returned AcquirerResult, under the payment's lock.
    * `idempotency_key` is ours, one per operation (an attempt's key, plus "-capture", "-void",
      "-refund-..."). The connector derives the provider's idempotency key from it
      deterministically, so the same call made twice (a retried request, a redelivered task, a
      worker that died) is one operation at the provider. Calling a method again with the same
      key is therefore always safe; calling it with a new key is a new operation.
    * Card data (`CardData`) lives only in memory during the call: never logged (the provider
      SDK's own logging included), never put in an exception message, never stored in `raw`.
    * Amounts are integers in minor units; `currency` is ISO 4217.
    * Declines are answers, not errors: they come back as an AcquirerResult (DECLINED with one of
      our failure codes, spec §7.4, and the provider's reason in `failure_message`). Exceptions are
      for "we do not know what happened" (see each method).
    """

    name = "base"

    def authorize(
        self,
        *,
        card: CardData,
        amount: int,
        currency: str,
        idempotency_key: str,
        force_3ds: bool = False,
        shopper_present: bool = True,
        statement_descriptor: str = "",
    ) -> AcquirerResult:
        """Ask for an authorisation of `amount` on `card` (never a capture).

        `shopper_present=False` is a merchant-initiated charge (an installment, a subscription's
        period) on a card saved with the shopper's consent: no challenge may be asked, and the
        provider is told so. `force_3ds`: the merchant or the fraud engine asks for a challenge.

        Returns AUTHORIZED (`reference` set), REQUIRES_3DS (the shopper must answer a challenge:
        on our page when `redirect_url` is empty, at the provider's otherwise), DECLINED, ERROR
        (the provider refused to process it: nothing authorised), or UNKNOWN: no answer came
        (timeout, connection lost, a 5xx or an answer that does not parse, after the request may
        have left). UNKNOWN is never a guess: the caller resolves it with `inquire` before anything
        else is tried on this attempt. May not raise for a provider problem (those are UNKNOWN).
        """
        raise NotImplementedError

    def complete_3ds(self, *, reference: str, authenticated: bool, idempotency_key: str) -> AcquirerResult:
        """The shopper answered (or abandoned, `authenticated=False`) the challenge of the
        authorisation `reference`: return its final outcome (AUTHORIZED with `is_3ds`, or DECLINED
        `3ds_declined`), re-reading the provider's state where it hosts the challenge. Safe to call
        again. Raises AcquirerUnavailable when the provider cannot be reached: the attempt stays
        awaiting its challenge and the call is repeated later.
        """
        raise NotImplementedError

    def inquire(self, *, idempotency_key: str) -> AcquirerResult:
        """Resolve an authorisation whose answer never came (timeout): what the provider did with
        the authorisation of `idempotency_key` — AUTHORIZED, DECLINED, or DECLINED/ERROR when it
        never arrived (then a new attempt may go elsewhere: the key is fenced, a late arrival of the
        first request cannot authorise). Never creates a second authorisation. Raises
        AcquirerUnavailable when it cannot tell yet (ask again later).
        """
        raise NotImplementedError

    def capture(self, *, reference: str, amount: int, idempotency_key: str) -> AcquirerResult:
        """Capture `amount` (all or part) of the authorisation `reference`. SUCCEEDED: captured, or
        for a provider that confirms later (Adyen) accepted, with the confirmation to come as a
        notification. DECLINED: refused (authorisation expired, amount too high). Raises
        AcquirerUnavailable when the answer is unknown: retry with the same key.
        """
        raise NotImplementedError

    def void(self, *, reference: str, idempotency_key: str) -> AcquirerResult:
        """Release the authorisation `reference` (nothing captured). Same answers and retry rule
        as `capture`."""
        raise NotImplementedError

    def refund(self, *, reference: str, amount: int, idempotency_key: str) -> AcquirerResult:
        """Refund `amount` (all or part) of the captured payment `reference`; `reference` of the
        result is the refund's own id. Same answers and retry rule as `capture` (each refund has
        its own key: two refunds of the same amount are two keys)."""
        raise NotImplementedError

    def parse_notification(self, body: bytes, headers: dict[str, str]) -> list[AcquirerEvent]:
        """Verify a provider notification (signature) and translate it; InvalidNotification if it
        fails. Writes nothing: the caller applies the events to payments."""
        raise NotImplementedError
