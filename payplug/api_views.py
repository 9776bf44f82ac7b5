"""Base class of the /v1 views (kept apart from payplug.api, which DRF's settings import)."""

from rest_framework.views import APIView


class ApiView(APIView):
    """Base of every /v1 view: the authenticated (merchant, mode) are on the request."""

    def get_merchant(self):
        return self.request.auth.merchant

    @property
    def is_live(self) -> bool:
        return self.request.auth.is_live

    def json_body(self) -> dict:
        data = self.request.data
        if not isinstance(data, dict):  # QueryDict of an empty body
            return {}
        return data


class UnknownRoute(ApiView):
    """Every /v1 path that no route matches: authentication first, then 404 (spec §3 order)."""

    schema = None  # not part of the OpenAPI document

    def _not_found(self, request, *args, **kwargs):
        from rest_framework.exceptions import NotFound

        raise NotFound()

    get = post = patch = put = delete = head = options = _not_found
