"""Refunds (spec §8): the `Refund` component, the create body, the example."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiExample
from rest_framework import serializers

from payments.api import fields as api_fields
from payments.api.schema.common import (
    Constant,
    Enum,
    ResponseObject,
    id_field,
    list_of,
    path_parameter,
    set_property,
)


class Refund(ResponseObject):
    """A refund of a paid payment (spec §8)."""

    id = id_field("re")
    object = Constant("refund", "RefundObjectType")
    is_live = serializers.BooleanField()
    payment_id = id_field("pay")
    amount = serializers.IntegerField(min_value=1)
    currency = Enum(["EUR"])
    created_at = serializers.IntegerField()
    metadata = api_fields.MetadataField()


RefundList = list_of(Refund, "RefundList")
REFUND_ID = path_parameter("refund_id", "re", "refund")


def _refund_create(schema, serializer, registry):
    set_property(
        schema,
        "amount",
        minimum=1,
        description="Cents; absent = the whole remaining amount. At least 10 unless it is the remaining amount.",
    )
    schema["description"] = "An empty body (or none) refunds the whole remaining amount."


REQUEST_TWEAKS = {"RefundCreateSerializer": _refund_create}

REFUND_CREATE_EXAMPLES = [
    OpenApiExample("Partial refund", value={"amount": 1000, "metadata": {"reason": "damaged item"}}, request_only=True),
]
