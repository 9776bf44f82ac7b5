"""Stored codes in the merchant's words, in dashboard templates (payments.display holds the words).

`{{ attempt.status|attempt_result }}`, `{{ payment.source|payment_source }}`,
`{{ attempt.failure_code|failure_label:attempt.failure_message }}`.
"""

from django import template

from payments import display

register = template.Library()


@register.filter
def attempt_result(status):
    return display.attempt_result(status)


@register.filter
def payment_source(source):
    return display.source_label(source)


@register.filter
def failure_label(code, message=""):
    return display.failure_label(code, message)
