from payplug.api import ApiError


class PaymentError(ApiError):
    """A business rule refused the change (spec §3 codes); nothing was written."""

    def __init__(self, code: str, message: str, status: int = 400, details: dict | None = None):
        super().__init__(code, message, status=status, details=details)
