"""Writes the `.env` of a developer machine (`make run`): fresh random secrets, DEBUG on."""

import secrets
from pathlib import Path

from payplug.keyring import generate_key


def write_dev_env(path: str, port: int = 8000) -> None:
    """`port`: where `make run` serves (PORT), the one loopback port test-mode notifications may
    reach (the platform itself: IPNs to your own routes, the sandbox webhook receiver)."""
    target = Path(path)
    if target.exists():
        return
    target.write_text(
        "# Written by `make run` for local development only. Never use in production.\n"
        "DEBUG=1\n"
        f"SECRET_KEY={secrets.token_urlsafe(48)}\n"
        f"CARD_KEYS=1:{generate_key()}\n"
        "SECURE_HTTPS=0\n"
        "LOG_FORMAT=plain\n"
        "NOTIFICATIONS_ALLOW_PRIVATE_NETWORKS=1\n"
        f"NOTIFICATIONS_ALLOWED_LOOPBACK_PORTS={int(port)}\n"
        "EMAIL_URL=consolemail://\n"
    )
    target.chmod(0o600)
