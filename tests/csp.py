"""Strict CSP helpers for page tests: external scripts are fine, inline ones are not."""

import re

_INLINE_SCRIPT = re.compile(r"<script(?![^>]*\ssrc=)[^>]*>", re.IGNORECASE)


def assert_no_inline_script_or_style(html: str) -> None:
    assert not _INLINE_SCRIPT.search(html), "inline <script> found"
    assert "<style" not in html.lower(), "inline <style> found"
    assert " style=" not in html.lower(), "style attribute found"
