"""The sandbox webhook receiver: URLs of the platform itself that take test-mode deliveries.

`make run` (DEBUG) only. Point a test-mode webhook endpoint at
`http://127.0.0.1:8000/sandbox/webhooks/` to see deliveries succeed without a server of your own
(it answers 204 to any POST), or at `.../sandbox/webhooks/failing/` to see a failing endpoint
retried on the schedule of docs/notifications.md (it always answers 503). The demo merchant's two
endpoints (fraud.demo_data) use them. Nothing is stored or checked: a real receiver verifies
`X-Signature` (docs/notifications.md).
"""

from django.conf import settings
from django.http import Http404, HttpResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST


@csrf_exempt
@require_POST
def receive(request, failing: bool = False):
    if not settings.DEBUG:
        raise Http404
    if failing:
        response = HttpResponse("sandbox receiver: this URL always fails", status=503, content_type="text/plain")
        # Failing is what this URL is for: no "Service Unavailable" error in the log at each retry
        # (django.utils.log.log_response skips a response marked as logged).
        response._has_been_logged = True
        return response
    return HttpResponse(status=204)
