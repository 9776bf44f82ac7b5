"""A shopper on the live hosted payment page: plain HTTP with `requests`, as a browser without JS.

It reads the page's own form (hidden inputs such as the CSRF token included), fills in the card
fields (spec §13), follows the post/redirect/get to the result page and, for a 3-D Secure card,
presses the sandbox challenge's `outcome` button.
"""

from __future__ import annotations

from datetime import date
from html.parser import HTMLParser
from urllib.parse import urljoin, urlparse

import requests

TIMEOUT = 60


class _Forms(HTMLParser):
    """Every <form>: its action, hidden inputs and the names of all its fields."""

    def __init__(self):
        super().__init__()
        self.forms: list[dict] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            self.forms.append({"action": attrs.get("action") or "", "hidden": {}, "fields": set()})
        elif self.forms and tag in ("input", "button", "select", "textarea") and attrs.get("name"):
            form = self.forms[-1]
            form["fields"].add(attrs["name"])
            if tag == "input" and (attrs.get("type") or "").lower() == "hidden":
                form["hidden"][attrs["name"]] = attrs.get("value") or ""


def _form(html: str, field: str) -> dict | None:
    parser = _Forms()
    parser.feed(html)
    return next((form for form in parser.forms if field in form["fields"]), None)


def _where(url: str) -> str:
    path = urlparse(url).path
    if path.endswith("/3ds/"):
        return "3ds"
    if path.endswith("/result/"):
        return "result"
    return "pay"


def _no_server_error(response) -> None:
    for step in [*response.history, response]:
        assert step.status_code < 500, f"the hosted page {step.url} answered {step.status_code}"


def future_expiry() -> str:
    return f"12/{(date.today().year + 3) % 100:02d}"


class Shopper:
    def __init__(self, base_url: str):
        self.base_url = base_url

    def pay(
        self,
        payment_url: str,
        number: str,
        *,
        cvc: str = "123",
        expiry: str | None = None,
        save_card: bool = False,
        three_ds: str | None = None,
    ) -> dict:
        """Pay `payment_url` with a card; returns where the browser ended up."""
        assert payment_url.startswith(self.base_url + "/"), f"payment_url {payment_url} is not on our server"
        session = requests.Session()
        session.trust_env = False  # no proxy: the server is on loopback
        page = session.get(payment_url, timeout=TIMEOUT)
        _no_server_error(page)
        form = _form(page.text, "number")
        if form is None:  # not payable any more: the page shows the outcome
            return {"status": page.status_code, "where": _where(page.url), "form_shown": False}
        assert {"cardholder", "number", "expiry", "cvc", "csrfmiddlewaretoken"} <= form["fields"], form["fields"]
        data = {
            **form["hidden"],
            "cardholder": "Jeanne Martin",
            "number": number,
            "expiry": expiry or future_expiry(),
            "cvc": cvc,
        }
        if save_card:
            assert "save_card" in form["fields"], "the page offers no save_card box"
            data["save_card"] = "on"
        response = session.post(
            urljoin(page.url, form["action"]), data=data, timeout=TIMEOUT, headers={"Referer": page.url}
        )
        _no_server_error(response)
        redirects = [r.status_code for r in response.history]
        if _where(response.url) == "3ds" and three_ds:
            challenge = _form(response.text, "outcome")
            assert challenge is not None, "the 3-D Secure page has no outcome buttons"
            response = session.post(
                urljoin(response.url, challenge["action"]),
                data={**challenge["hidden"], "outcome": three_ds},
                timeout=TIMEOUT,
                headers={"Referer": response.url},
            )
            _no_server_error(response)
            redirects += [r.status_code for r in response.history]
        return {
            "status": response.status_code,
            "where": _where(response.url),
            "form_shown": True,
            "redirects": redirects,
        }
