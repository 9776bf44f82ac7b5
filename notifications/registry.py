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
