"""What the dashboard home shows, contributed by the apps above merchants (issue 12, finding 12).

merchants imports none of payments, notifications or fraud. Each of them registers here, in its
AppConfig.ready(), what it adds to the home page; the home view (merchants.views.shell) renders
whatever is registered, for the organisation and mode of the request (`request.dashboard`), and
only what the member's role may see:

* panels: a template and a function returning its context, or None to show nothing;
* attention sources: functions returning the things to act on (a review waiting, a dispute and
  its deadline, a failing endpoint, a payment stuck), each an `Attention`;
* counters: a number the sidebar shows, e.g. `request.dashboard.open_disputes`, computed only
  when a template reads it.

Every function receives the DashboardContext and must scope its queries to
`dashboard.merchant` and `dashboard.is_live`. Registering a name again replaces it, so a second
ready() (tests) adds nothing twice.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime

SEVERITIES = ("danger", "warning", "info")  # most urgent first


@dataclass(frozen=True)
class Attention:
    """One line of "Needs attention": what, where to act, and by when."""

    title: str
    url: str
    detail: str = ""
    due_at: datetime | None = None
    severity: str = "warning"


@dataclass(frozen=True)
class _Panel:
    name: str
    template: str
    context: Callable
    permission: str | None
    order: int


@dataclass(frozen=True)
class _Source:
    name: str
    items: Callable
    permission: str | None
    order: int


@dataclass(frozen=True)
class _Counter:
    name: str
    count: Callable
    permission: str | None


_panels: dict[str, _Panel] = {}
_sources: dict[str, _Source] = {}
_counters: dict[str, _Counter] = {}


def register_panel(
    name: str, template: str, context: Callable, *, permission: str | None = None, order: int = 100
) -> None:
    """`context(dashboard) -> dict | None`: the panel's template context, or None to hide it."""
    _panels[name] = _Panel(name, template, context, permission, order)


def register_attention(name: str, items: Callable, *, permission: str | None = None, order: int = 100) -> None:
    """`items(dashboard) -> Iterable[Attention]`."""
    _sources[name] = _Source(name, items, permission, order)


def register_counter(name: str, count: Callable, *, permission: str | None = None) -> None:
    """`count(dashboard) -> int`: keep it to one indexed COUNT query."""
    _counters[name] = _Counter(name, count, permission)


def _allowed(dashboard, permission: str | None) -> bool:
    return dashboard.merchant is not None and (permission is None or dashboard.can(permission))


def panels(dashboard) -> list[dict]:
    """The registered panels the member may see, in order: [{"name", "template", "context"}]."""
    shown = []
    for panel in sorted(_panels.values(), key=lambda p: (p.order, p.name)):
        if not _allowed(dashboard, panel.permission):
            continue
        context = panel.context(dashboard)
        if context is not None:
            shown.append({"name": panel.name, "template": panel.template, "context": context})
    return shown


def _rank(item: Attention) -> tuple:
    severity = SEVERITIES.index(item.severity) if item.severity in SEVERITIES else len(SEVERITIES)
    return (severity, item.due_at is None, item.due_at.timestamp() if item.due_at else 0)


def attention(dashboard) -> list[Attention]:
    """What needs attention, most urgent first (severity, then the nearest deadline)."""
    items: list[Attention] = []
    for source in sorted(_sources.values(), key=lambda s: (s.order, s.name)):
        if _allowed(dashboard, source.permission):
            items.extend(_as_list(source.items(dashboard)))
    return sorted(items, key=_rank)


def _as_list(items: Iterable[Attention] | None) -> list[Attention]:
    return list(items or [])


def count(name: str, dashboard) -> int:
    """A registered counter for the request's organisation and mode; 0 when none is registered or
    the member's role may not see it."""
    counter = _counters.get(name)
    if counter is None or not _allowed(dashboard, counter.permission):
        return 0
    return int(counter.count(dashboard) or 0)
