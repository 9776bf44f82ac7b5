"""payplug.api.JSONNegotiation answers the common Accept headers at once, and exactly as DRF's."""

import pytest
from django.http import Http404
from rest_framework.exceptions import NotAcceptable
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.request import Request
from rest_framework.settings import api_settings
from rest_framework.test import APIRequestFactory

from payplug.api import JSONNegotiation, JSONRenderer


def outcome(negotiation, accept, query=""):
    headers = {} if accept is None else {"HTTP_ACCEPT": accept}
    request = Request(APIRequestFactory().get("/v1/payments" + query, **headers))
    try:
        renderer, media_type = negotiation.select_renderer(request, [JSONRenderer()])
    except NotAcceptable:
        return "406"
    except Http404:
        return "404"
    return type(renderer), media_type


@pytest.mark.parametrize(
    "accept",
    [
        None,
        "",
        "*/*",
        "application/json",
        " application/json ",
        "application/json; indent=4",
        "application/*",
        "text/html",
        "text/html, application/json;q=0.9",
        "application/xml",
    ],
)
@pytest.mark.parametrize("query", ["", "?format=json", "?format=xml"])
def test_the_same_answer_as_drfs(accept, query):
    assert outcome(JSONNegotiation(), accept, query) == outcome(DefaultContentNegotiation(), accept, query)


def test_the_api_uses_it():
    assert api_settings.DEFAULT_CONTENT_NEGOTIATION_CLASS is JSONNegotiation
