"""Acquirers: one interface, a deterministic sandbox for test mode, an HTTP client for live mode."""

from django.conf import settings

from payments.acquirers.base import Acquirer, AcquirerResult, CardData, Outcome
from payments.acquirers.http import HttpAcquirer
from payments.acquirers.sandbox import SandboxAcquirer


def get_acquirer(is_live: bool) -> Acquirer:
    """Test mode always uses the sandbox; live mode the configured acquirer."""
    if not is_live or settings.LIVE_ACQUIRER == "sandbox":
        return SandboxAcquirer()
    return HttpAcquirer.from_settings()


__all__ = ["Acquirer", "AcquirerResult", "CardData", "Outcome", "get_acquirer"]
