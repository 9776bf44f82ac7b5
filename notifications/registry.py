"""Internal subscribers of topics (the SNS analogue inside the platform).

Apps subscribe a Celery task name to an event type in their AppConfig.ready(); the dispatcher
sends the event id to each. notifications never imports its subscribers.
"""

_subscribers: dict[str, list[str]] = {}


def subscribe(event_type: str, task_name: str) -> None:
    names = _subscribers.setdefault(event_type, [])
    if task_name not in names:
        names.append(task_name)


def subscribers(event_type: str) -> list[str]:
    return list(_subscribers.get(event_type, ()))


# --- IPN results --------------------------------------------------------------------------------
# After each IPN attempt the payment's `notification.response_code` must show its HTTP status
# (spec §12). payments registers its recorder here; notifications never imports payments.

_ipn_result_callbacks: list = []


def on_ipn_result(callback) -> None:
    """Register `callback(payment_public_id: str, status_code: int)`, called after each IPN attempt
    about a payment (or one of its refunds); status 0 means no HTTP answer came."""
    if callback not in _ipn_result_callbacks:
        _ipn_result_callbacks.append(callback)


def ipn_result_callbacks() -> list:
    return list(_ipn_result_callbacks)
