"""Request bodies: the serializers as they validate.

Every `StrictSerializer` rejects unknown keys (`additionalProperties: false`); the addresses get
their component names; each resource module adjusts its own bodies (its `REQUEST_TWEAKS`: nullability,
enums, bounds, descriptions drf-spectacular cannot infer).
"""

from __future__ import annotations

from drf_spectacular.extensions import OpenApiSerializerExtension

from payments.api import fields as api_fields
from payments.api.schema import account, accounting_reports, cards, customers, installment_plans, refunds
from payments.api.schema import payments as payment_schema
from payplug.api import StrictSerializer


def _address(schema, serializer, registry):
    if getattr(serializer, "required_names", False):
        for name in ("first_name", "last_name", "email"):
            prop = schema["properties"][name]
            prop.pop("nullable", None)
            prop.update(minLength=1, pattern="\\S")
        schema["properties"]["email"]["format"] = "email"
        schema["required"] = ["email", "first_name", "last_name"]
    else:
        schema["properties"]["email"]["description"] = "A valid email address."
    schema["description"] = (
        'Address (spec §6.4). Optional fields accept null or "" (both stored as null); responses return '
        "exactly these keys."
    )


TWEAKS = {
    "AddressSerializer": _address,
    "ShippingSerializer": _address,
    **payment_schema.REQUEST_TWEAKS,
    **refunds.REQUEST_TWEAKS,
    **customers.REQUEST_TWEAKS,
    **cards.REQUEST_TWEAKS,
    **accounting_reports.REQUEST_TWEAKS,
    **account.REQUEST_TWEAKS,
    **installment_plans.REQUEST_TWEAKS,
}


class StrictSerializerSchema(OpenApiSerializerExtension):
    """Every `StrictSerializer` rejects unknown keys: `additionalProperties: false`."""

    target_class = StrictSerializer
    match_subclasses = True

    def get_name(self, auto_schema, direction):
        if isinstance(self.target, api_fields.ShippingSerializer):
            return "ShippingAddress"
        if isinstance(self.target, api_fields.AddressSerializer):
            return "BillingAddress" if getattr(self.target, "required_names", False) else "Address"
        return None

    def get_identity(self, auto_schema, direction):
        if isinstance(self.target, api_fields.AddressSerializer):
            return (type(self.target), getattr(self.target, "required_names", False))
        return None

    def map_serializer(self, auto_schema, direction):
        schema = auto_schema._map_basic_serializer(self.target, direction)
        if "__doc__" not in type(self.target).__dict__ or not type(self.target).__doc__:
            schema.pop("description", None)  # not the docstring of a base class
        schema["additionalProperties"] = False
        tweak = TWEAKS.get(type(self.target).__name__)
        if tweak is not None:
            tweak(schema, self.target, auto_schema.registry)
        if not schema.get("required"):
            schema.pop("required", None)
        return schema
