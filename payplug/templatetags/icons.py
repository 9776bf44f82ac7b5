"""`{% icon "payments" %}`: one icon of the sprite static/icons/icons.svg, decorative (hidden from
screen readers: the text next to it says what it means). An unknown name is an error, so a
template cannot point at an icon the sprite does not have."""

import re
from functools import cache

from django import template
from django.contrib.staticfiles import finders
from django.templatetags.static import static
from django.utils.html import format_html

register = template.Library()

SPRITE = "icons/icons.svg"


@cache
def names() -> frozenset[str] | None:
    """The sprite's icon names; None where only collected static files exist (not checked there)."""
    path = finders.find(SPRITE)
    if not path:
        return None
    with open(path, encoding="utf-8") as sprite:
        return frozenset(re.findall(r'<symbol id="([a-z0-9-]+)"', sprite.read()))


@register.simple_tag
def icon(name: str, css: str = "") -> str:
    known = names()
    if known is not None and name not in known:
        raise template.TemplateSyntaxError(f"no icon {name!r} in static/{SPRITE}")
    classes = f"icon {css}".strip()
    return format_html(
        '<svg class="{}" aria-hidden="true" focusable="false"><use href="{}#{}"></use></svg>',
        classes,
        static(SPRITE),
        name,
    )
