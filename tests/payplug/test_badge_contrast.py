"""Issue 12, finding 21: every badge's text is readable on its background (WCAG AA, >= 4.5:1).

The stylesheets are read as shipped: each rule whose selector names a badge class, its colours
resolved through the custom properties (the file's own :root, then base.css's, which every
dashboard page loads); a badge rule without a colour of its own inherits the plain badge's, or
the page text colour."""

import re
from pathlib import Path

import pytest
from django.conf import settings

from payments.display import contrast

CSS = Path(settings.BASE_DIR) / "static" / "css"
RULE = re.compile(r"([^{}]+)\{([^{}]*)\}")
COLOUR = re.compile(r"#[0-9a-fA-F]{3,6}\b|var\(--[\w-]+\)")


def rules(path: Path) -> list[tuple[str, dict[str, str]]]:
    text = re.sub(r"/\*.*?\*/", "", path.read_text(), flags=re.S)
    found = []
    for selector, body in RULE.findall(text):
        declarations = {}
        for declaration in body.split(";"):
            name, _, value = declaration.partition(":")
            if value:
                declarations[name.strip()] = value.strip()
        found.append((" ".join(selector.split()), declarations))
    return found


def variables(path: Path) -> dict[str, str]:
    values = {}
    for selector, declarations in rules(path):
        if selector == ":root":
            values.update({k: v for k, v in declarations.items() if k.startswith("--")})
    return values


def hex6(value: str) -> str:
    value = value.lower()
    return "#" + "".join(c * 2 for c in value[1:]) if len(value) == 4 else value


def resolve(value: str | None, names: dict[str, str]) -> str | None:
    """The first colour of a declaration (`background: #fff url(...)` too), as #rrggbb."""
    while value:
        match = COLOUR.search(value)
        if not match:
            return None
        token = match.group(0)
        if not token.startswith("var("):
            return hex6(token)
        value = names.get(token[4:-1])
    return None


def badge_pairs() -> list[tuple[str, str, str]]:
    base = variables(CSS / "base.css")
    pairs = []
    for path in sorted(CSS.glob("*.css")):
        names = {**base, **variables(path)}
        found = rules(path)
        plain = next((d for s, d in found if s == ".badge"), {})
        for selector, declarations in found:
            for part in selector.split(","):
                if "badge" not in part or not ({"color", "background", "background-color"} & declarations.keys()):
                    continue
                inherited = plain if re.search(r"(^|\s)\.badge\b", part) else {}
                fg = declarations.get("color") or inherited.get("color") or "var(--fg)"
                bg = (
                    declarations.get("background-color")
                    or declarations.get("background")
                    or inherited.get("background-color")
                    or inherited.get("background")
                )
                pairs.append((f"{path.name} {part.strip()}", resolve(fg, names), resolve(bg, names)))
    return pairs


PAIRS = badge_pairs()


def test_the_badges_are_found():
    selectors = {name for name, _fg, _bg in PAIRS}
    assert {"base.css .badge", "base.css .badge.ok", "base.css .badge.danger", "base.css .badge.warn"} <= selectors


@pytest.mark.parametrize(("selector", "fg", "bg"), PAIRS, ids=[name for name, _fg, _bg in PAIRS])
def test_badge_text_contrasts_at_least_4_5_to_1(selector, fg, bg):
    assert fg and bg, f"{selector}: colours not resolved ({fg}, {bg})"
    assert contrast(fg, bg) >= 4.5, f"{selector}: {fg} on {bg} is {contrast(fg, bg):.2f}:1"
