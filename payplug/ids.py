"""Random, prefixed public identifiers (pay_, re_, cus_, card_, ...), never sequential."""

import secrets
import string

BASE62 = string.digits + string.ascii_letters


def random_base62(length: int) -> str:
    """`length` characters drawn uniformly from BASE62 by the OS's CSPRNG.

    One `token_bytes` call instead of one `secrets.choice` per character (several per API
    request): bytes from 248 up are dropped, so that `byte % 62` stays uniform.
    """
    out: list[str] = []
    while len(out) < length:
        out.extend(BASE62[byte % 62] for byte in secrets.token_bytes(length + 8) if byte < 248)
    return "".join(out[:length])


def new_id(prefix: str, length: int = 24) -> str:
    return f"{prefix}_{random_base62(length)}"


def id_factory(prefix: str, length: int = 24):
    """A model-field default that makes ids with this prefix (picklable for migrations)."""
    return _IdFactory(prefix, length)


class _IdFactory:
    def __init__(self, prefix: str, length: int):
        self.prefix = prefix
        self.length = length

    def __call__(self) -> str:
        return new_id(self.prefix, self.length)

    def deconstruct(self):
        return ("payplug.ids.id_factory", (self.prefix, self.length), {})

    def __eq__(self, other):
        return isinstance(other, _IdFactory) and (self.prefix, self.length) == (other.prefix, other.length)

    def __hash__(self):
        return hash((self.prefix, self.length))
