"""Saved cards (spec §10): the `Card` component, its deletion, the attach body."""

from __future__ import annotations

from rest_framework import serializers

from payments.api import fields as api_fields
from payments.api.schema.common import (
    CARD_BRANDS,
    COUNTRY_PATTERN,
    Constant,
    Enum,
    Pattern,
    ResponseObject,
    id_field,
    list_of,
    nullable_id_field,
    path_parameter,
    set_property,
)


class Card(ResponseObject):
    """A saved card (spec §10). Card numbers never travel through this API."""

    id = id_field("card")
    object = Constant("card", "CardObjectType")
    is_live = serializers.BooleanField()
    created_at = serializers.IntegerField()
    customer_id = nullable_id_field("cus")
    last4 = Pattern("^[0-9]{4}$")
    brand = Enum(CARD_BRANDS)
    exp_month = serializers.IntegerField(min_value=1, max_value=12)
    exp_year = serializers.IntegerField(min_value=1000, max_value=9999)
    country = Pattern(COUNTRY_PATTERN, allow_null=True)
    metadata = api_fields.MetadataField()


class CardDeleted(ResponseObject):
    id = id_field("card")
    object = Constant("card", "CardObjectType")
    deleted = Constant(True, "DeletedFlag")


CardList = list_of(Card, "CardList")
CARD_ID = path_parameter("card_id", "card", "saved card")


def _card_attach(schema, serializer, registry):
    set_property(
        schema,
        "card",
        pattern="^card_[0-9A-Za-z]+$",
        description="A card `card_...` saved by a payment without a customer.",
    )


REQUEST_TWEAKS = {"CardAttachSerializer": _card_attach}
