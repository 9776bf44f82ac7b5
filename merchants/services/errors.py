"""The one error of merchants' services: a refused change, whose message is safe to show."""

from __future__ import annotations


class MerchantError(Exception):
    """A refused change; the message is safe to show to the user."""
