"""Issue 12, item 25 and finding 18: one visual system on every dashboard page: an icon sprite
shipped in static/ and used by the sidebar, spacing and type scales as CSS custom properties,
empty states that say what to do next, and tables that scroll sideways with a hint on phones."""

import re
from pathlib import Path
from xml.etree import ElementTree

import pytest
from django.conf import settings
from django.urls import reverse

ROOT = Path(settings.BASE_DIR)
SPRITE = ROOT / "static" / "icons" / "icons.svg"
BASE_CSS = ROOT / "static" / "css" / "base.css"
TEMPLATES = ROOT / "templates"
SVG = "{http://www.w3.org/2000/svg}"


def sprite_ids() -> set[str]:
    tree = ElementTree.parse(SPRITE)
    return {symbol.get("id") for symbol in tree.getroot().iter(f"{SVG}symbol")}


def test_the_icon_sprite_ships_with_a_licence_note():
    assert SPRITE.exists()
    assert {"home", "payments", "disputes", "customers", "links", "webhooks", "fraud", "team", "audit"} <= sprite_ids()
    for symbol in ElementTree.parse(SPRITE).getroot().iter(f"{SVG}symbol"):
        assert symbol.get("viewBox") == "0 0 24 24", symbol.get("id")
    assert "style=" not in SPRITE.read_text(), "presentation attributes only (strict CSP)"
    assert (SPRITE.parent / "LICENSE").exists()


def test_every_icon_a_template_names_is_in_the_sprite():
    named = set()
    for path in TEMPLATES.rglob("*.html"):
        text = path.read_text()
        named |= set(re.findall(r"{%\s*icon\s+\"([a-z0-9-]+)\"", text))
        named |= set(re.findall(r"icon=\"([a-z0-9-]+)\"", text))
    assert named, "templates use the sprite"
    assert named <= sprite_ids(), named - sprite_ids()


def test_spacing_and_type_scales_are_custom_properties():
    css = BASE_CSS.read_text()
    for name in (
        "--space-1",
        "--space-2",
        "--space-3",
        "--space-4",
        "--space-5",
        "--text-sm",
        "--text-base",
        "--text-lg",
    ):
        assert f"{name}:" in css, name
    assert ".nav-count" in css and ".empty-state" in css and ".filter-bar" in css


@pytest.mark.django_db
def test_the_sidebar_uses_the_sprite(alice_client):
    html = alice_client.get(reverse("dashboard:home")).content.decode()

    sidebar = html.split('class="sidebar"', 1)[1].split("</nav>", 1)[0]
    uses = re.findall(r'<use href="([^"#]+)#([a-z0-9-]+)"', sidebar)
    assert len(uses) >= 8
    assert all(path.endswith(".svg") and "icons/icons" in path for path, _ in uses)
    assert 'aria-hidden="true"' in sidebar


@pytest.mark.django_db
def test_an_empty_payments_list_says_what_to_do_next(alice_client):
    html = alice_client.get(reverse("dashboard:payments")).content.decode()

    (state,) = re.findall(r'<div class="empty-state">(.*?)</div>', html, re.S)
    assert "#empty" in state or "<svg" in state
    assert re.search(r'<a class="button[^"]*" href="[^"]+"', state), "a call to action"
    assert "<table" not in html, "no empty table"


@pytest.mark.django_db
def test_a_filtered_empty_list_offers_to_reset_the_filters(alice_client):
    url = reverse("dashboard:payments")
    html = alice_client.get(url, {"q": "nobody@example.org"}).content.decode()

    state = html.split('class="empty-state"', 1)[1]
    assert f'href="{url}"' in state.split("</div>", 1)[0]


def test_every_table_scrolls_in_a_labelled_wrapper():
    """Each table of a dashboard template sits in .table-wrap, a focusable scroll region with a
    hint for screen readers ("scroll sideways"), so nothing is cut off at 390 px."""
    problems = []
    for path in (TEMPLATES / "dashboard").glob("*.html"):
        text = path.read_text()
        for match in re.finditer(r"<table", text):
            before = text[max(0, match.start() - 400) : match.start()]
            opening = before.rsplit("<div", 1)[-1] if "<div" in before else ""
            if "table-wrap" not in opening:
                problems.append(f"{path.name}: a table outside .table-wrap")
            elif 'tabindex="0"' not in opening or 'role="region"' not in opening:
                problems.append(f"{path.name}: .table-wrap is not a focusable region")
    assert not problems, problems


@pytest.mark.django_db
def test_the_shared_table_has_a_scroll_hint(alice_client):
    html = alice_client.get(reverse("dashboard:team")).content.decode()

    assert re.search(r'<div class="table-wrap" role="region" tabindex="0" aria-label="[^"]+">', html)
    assert "scroll sideways" in html.lower()
