"""QR codes of the pages merchants share (payment links, campaigns), drawn with segno."""

from __future__ import annotations

import io

import segno


def qr_image(text: str, kind: str, title: str = "") -> tuple[bytes, str]:
    """(body, content type) of `text`'s QR code as "svg" or "png"."""
    code = segno.make(text, error="m")
    buffer = io.BytesIO()
    if kind == "svg":
        code.save(buffer, kind="svg", scale=8, border=2, xmldecl=False, title=title[:80])
        return buffer.getvalue(), "image/svg+xml"
    code.save(buffer, kind="png", scale=10, border=2)
    return buffer.getvalue(), "image/png"
