"""Customers (spec §9): the `Customer` component, its deletion, the request body, the example."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiExample
from rest_framework import serializers

from payments.api import fields as api_fields
from payments.api.schema.common import (
    COUNTRY_PATTERN,
    Constant,
    Pattern,
    ResponseObject,
    id_field,
    list_of,
    path_parameter,
)


class Customer(ResponseObject):
    """A customer (spec §9)."""

    id = id_field("cus")
    object = Constant("customer", "CustomerObjectType")
    is_live = serializers.BooleanField()
    created_at = serializers.IntegerField()
    email = serializers.CharField()
    first_name = serializers.CharField(allow_null=True)
    last_name = serializers.CharField(allow_null=True)
    address1 = serializers.CharField(allow_null=True)
    address2 = serializers.CharField(allow_null=True)
    postcode = serializers.CharField(allow_null=True)
    city = serializers.CharField(allow_null=True)
    country = Pattern(COUNTRY_PATTERN, allow_null=True)
    metadata = api_fields.MetadataField()


class CustomerDeleted(ResponseObject):
    id = id_field("cus")
    object = Constant("customer", "CustomerObjectType")
    deleted = Constant(True, "DeletedFlag")


CustomerList = list_of(Customer, "CustomerList")
CUSTOMER_ID = path_parameter("customer_id", "cus", "customer")


def _customer(schema, serializer, registry):
    schema["description"] = "A payer saved for later (one-click) payments."


REQUEST_TWEAKS = {"CustomerSerializer": _customer}

CUSTOMER_CREATE_EXAMPLES = [
    OpenApiExample(
        "Customer",
        request_only=True,
        value={
            "email": "paul@example.org",
            "first_name": "Paul",
            "last_name": "Durand",
            "city": "Lyon",
            "country": "FR",
            "metadata": {"crm_id": 7},
        },
    ),
]
