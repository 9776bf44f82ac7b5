from payplug.api import ApiError


class PaymentError(ApiError):
    """A business rule refused the change (spec §3 codes); nothing was written."""

    def __init__(self, code: str, message: str, status: int = 400, details: dict | None = None):
        super().__init__(code, message, status=status, details=details)


class MerchantUnavailable(PaymentError):
    """The merchant may not take this payment now (spec §2 codes, 403): its account is suspended
    (`account_suspended`), or the payment is live and its live mode is switched off (`account_not_live`).
    The shopper's pages answer it with "This merchant cannot take payments at the moment."."""

    def __init__(self, code: str, message: str):
        super().__init__(code, message, status=403)
