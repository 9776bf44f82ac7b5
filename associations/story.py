"""A campaign's story: a little formatting, sanitised by nh3 (the Ammonia sanitiser).

Paragraphs, line breaks, bold, italics, lists and https links; everything else is dropped (a
script or style element with its content). Run on save and again when the page renders, so a row
written by another path (the admin, a migration, a restore) never reaches a donor unsanitised.
"""

from __future__ import annotations

import nh3
from django.utils.safestring import SafeString, mark_safe

TAGS = {"p", "br", "strong", "em", "ul", "ol", "li", "a"}
ATTRIBUTES = {"a": {"href"}}


def _https_only(tag: str, attribute: str, value: str) -> str | None:
    # url_schemes alone lets relative URLs through; only absolute https:// links stay.
    if tag == "a" and attribute == "href":
        return value if value.lower().startswith("https://") else None
    return value


def sanitise(html: str) -> str:
    return nh3.clean(
        html or "",
        tags=TAGS,
        attributes=ATTRIBUTES,
        url_schemes={"https"},
        attribute_filter=_https_only,
        link_rel="noopener noreferrer nofollow ugc",
        strip_comments=True,
    )


def render(html: str) -> SafeString:
    return mark_safe(sanitise(html))  # noqa: S308  sanitised just above, by nh3
