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
    raw: dict = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.outcome in (Outcome.AUTHORIZED, Outcome.SUCCEEDED)


class AcquirerUnavailable(Exception):
    """The acquirer could not be reached for an operation that is safe to retry later."""


class Acquirer:
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
        raise NotImplementedError

    def complete_3ds(self, *, reference: str, authenticated: bool, idempotency_key: str) -> AcquirerResult:
        raise NotImplementedError

    def inquire(self, *, idempotency_key: str) -> AcquirerResult:
        """Resolve an authorisation whose answer never came (timeout)."""
        raise NotImplementedError

    def capture(self, *, reference: str, amount: int, idempotency_key: str) -> AcquirerResult:
        raise NotImplementedError

    def void(self, *, reference: str, idempotency_key: str) -> AcquirerResult:
        raise NotImplementedError

    def refund(self, *, reference: str, amount: int, idempotency_key: str) -> AcquirerResult:
        raise NotImplementedError
