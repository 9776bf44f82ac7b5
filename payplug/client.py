"""Who is calling: the client's IP address, as the platform trusts it."""

from django.conf import settings


def client_ip(request) -> str | None:
    # REMOTE_ADDR is the proxy's address behind a load balancer; the proxy is trusted to set
    # X-Forwarded-For only when BEHIND_PROXY is on.
    if getattr(settings, "SECURE_PROXY_SSL_HEADER", None):
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
        if forwarded:
            return forwarded.split(",")[0].strip() or None
    return request.META.get("REMOTE_ADDR") or None
