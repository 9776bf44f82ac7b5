"""What every resource's documentation is built from.

* the OpenAPI types of the request field types of `payments.api.fields` (metadata, URLs, emails,
  country and language codes, phone numbers);
* the response field types `Constant`, `Enum` and `Pattern`, named enum components (`enum_ref`),
  `ResponseObject` (every key required, no other key) and its id and list helpers;
* `set_property`, the helper of the request-body adjustments, and `path_parameter`.
"""

from __future__ import annotations

from drf_spectacular.extensions import OpenApiSerializerFieldExtension
from drf_spectacular.plumbing import ResolvedComponent
from drf_spectacular.utils import OpenApiParameter
from rest_framework import serializers

from payments.api import fields as api_fields
from payplug.api import StrictSerializer

# --- custom field types -----------------------------------------------------------------------------

METADATA_SCHEMA = {
    "type": "object",
    "description": (
        "Flat JSON object stored and returned exactly: at most 20 keys of 1 to 40 characters; values are "
        "strings (at most 500 characters), numbers (integers within 64 bits), booleans or null; no nested "
        "objects or arrays."
    ),
    "maxProperties": 20,
    "additionalProperties": {
        "anyOf": [
            {"type": "string", "maxLength": 500, "nullable": True},
            {"type": "number"},
            {"type": "boolean"},
        ]
    },
    "example": {"order_id": "42", "customer_number": 42710},
}


class MetadataFieldSchema(OpenApiSerializerFieldExtension):
    target_class = api_fields.MetadataField
    match_subclasses = True

    def get_name(self):
        return "Metadata"

    def map_serializer_field(self, auto_schema, direction):
        return dict(METADATA_SCHEMA)


class JSONObjectFieldSchema(OpenApiSerializerFieldExtension):
    target_class = api_fields.JSONObjectField
    match_subclasses = True

    def map_serializer_field(self, auto_schema, direction):
        schema = {"type": "object", "additionalProperties": {}}
        if direction == "request":
            schema["description"] = f"Any JSON object, at most {self.target.max_bytes // 1024} KiB once serialized."
        return schema


class HttpUrlFieldSchema(OpenApiSerializerFieldExtension):
    target_class = api_fields.HttpUrlField
    match_subclasses = True

    def map_serializer_field(self, auto_schema, direction):
        description = "Absolute http or https URL without credentials, at most 2048 characters."
        if self.target.https_only_in_live:
            description += " Must be https in live mode."
        return {
            "type": "string",
            "format": "uri",
            "pattern": "^[Hh][Tt][Tt][Pp][Ss]?://[^\\s]+$",
            "maxLength": self.target.max_length,
            "description": description,
        }


class EmailFieldSchema(OpenApiSerializerFieldExtension):
    target_class = api_fields.EmailField

    def map_serializer_field(self, auto_schema, direction):
        return {"type": "string", "format": "email", "maxLength": self.target.max_length, "minLength": 1}


def _optional_enum(values, description):
    """An optional string of a closed set: `null` and `""` are accepted too (both mean "not set")."""
    schema = {"type": "string", "enum": [*values, "", None]}
    if description:
        schema["description"] = description
    return schema


class CountryFieldSchema(OpenApiSerializerFieldExtension):
    target_class = api_fields.CountryField

    def map_serializer_field(self, auto_schema, direction):
        return _optional_enum(sorted(api_fields.COUNTRIES), "ISO 3166-1 alpha-2 country code, upper case.")


class LanguageFieldSchema(OpenApiSerializerFieldExtension):
    target_class = api_fields.LanguageField

    def map_serializer_field(self, auto_schema, direction):
        return _optional_enum(sorted(api_fields.LANGUAGES), "ISO 639-1 language code, lower case.")


class ChoiceStringSchema(OpenApiSerializerFieldExtension):
    target_class = api_fields.ChoiceString

    def map_serializer_field(self, auto_schema, direction):
        return _optional_enum(list(self.target.allowed), "")


class PhoneFieldSchema(OpenApiSerializerFieldExtension):
    target_class = api_fields.PhoneField

    def map_serializer_field(self, auto_schema, direction):
        return {
            "type": "string",
            "pattern": "^\\+[0-9]{8,15}$",
            "description": "E.164 number: `+` then 8 to 15 digits.",
        }


def enum_ref(registry, name, values, description=""):
    """A named enum component (registered once), referenced with `$ref`."""
    kind = "boolean" if all(isinstance(value, bool) for value in values) else "string"
    schema = {"type": kind, "enum": list(values)}
    if description:
        schema["description"] = description
    component = ResolvedComponent(name=name, type=ResolvedComponent.SCHEMA, object=name, schema=schema)
    registry.register_on_missing(component)
    return dict(component.ref)


class Constant(serializers.Field):
    """A response field whose value is fixed (`"object": "payment"`): a one-value enum component."""

    def __init__(self, value, component, **kwargs):
        self.value = value
        self.component = component
        super().__init__(**kwargs)


class ConstantSchema(OpenApiSerializerFieldExtension):
    target_class = Constant

    def map_serializer_field(self, auto_schema, direction):
        return enum_ref(auto_schema.registry, self.target.component, [self.target.value])


class Enum(serializers.Field):
    """A response string of a closed set: inline (drf-spectacular names it after the field) or named."""

    def __init__(self, values, component=None, description="", **kwargs):
        self.values = list(values)
        self.component = component
        self.enum_description = description
        super().__init__(**kwargs)


class EnumSchema(OpenApiSerializerFieldExtension):
    target_class = Enum

    def map_serializer_field(self, auto_schema, direction):
        if self.target.component:
            return enum_ref(
                auto_schema.registry, self.target.component, self.target.values, self.target.enum_description
            )
        return {"type": "string", "enum": self.target.values}


class Pattern(serializers.CharField):
    """A response string with a documented pattern (ids, codes)."""

    def __init__(self, pattern, **kwargs):
        self.openapi_pattern = pattern
        super().__init__(**kwargs)


class PatternSchema(OpenApiSerializerFieldExtension):
    target_class = Pattern

    def map_serializer_field(self, auto_schema, direction):
        return {"type": "string", "pattern": self.target.openapi_pattern}


# --- response objects: what payments.representations returns ---------------------------------------


def id_field(prefix):
    """A response id `<prefix>_...`."""
    return Pattern(f"^{prefix}_[0-9A-Za-z]+$")


def nullable_id_field(prefix):
    """A response id `<prefix>_...` or null."""
    return Pattern(f"^{prefix}_[0-9A-Za-z]+$", allow_null=True)


COUNTRY_PATTERN = "^[A-Z]{2}$"
CARD_BRANDS = ["Visa", "Mastercard", "Maestro", "CB"]


class ResponseObject(StrictSerializer):
    """Base of the documented response objects: every key present, no other key."""


def list_of(item, name):
    """The component `name`: a page of `item` objects (spec §5)."""
    return type(
        name,
        (ResponseObject,),
        {
            "__doc__": f"A page of {item.__name__} objects, newest first (spec §5).",
            "object": Constant("list", "ListObjectType"),
            "type": Constant("list", "ListObjectType"),
            "page": serializers.IntegerField(min_value=0),
            "per_page": serializers.IntegerField(min_value=1, max_value=100),
            "count": serializers.IntegerField(min_value=0, help_text="Number of items in `data` (not a total)."),
            "has_more": serializers.BooleanField(),
            "data": item(many=True),
        },
    )


# --- request bodies and parameters ----------------------------------------------------------------


def set_property(schema, name, **keywords):
    """Add `keywords` to the property `name` of a request-body schema (beside a `$ref`: in an `allOf`)."""
    prop = schema["properties"][name]
    if "$ref" in prop:  # keywords beside a $ref are ignored in OpenAPI 3.0
        schema["properties"][name] = {"allOf": [prop], **keywords}
    else:
        prop.update(keywords)


def path_parameter(name, prefix, what):
    """The path parameter `name`: the id `<prefix>_...` of a `what`."""
    return OpenApiParameter(
        name,
        str,
        OpenApiParameter.PATH,
        pattern="^[a-z]+_[0-9A-Za-z]+$",
        description=f"Id of the {what} (`{prefix}_...`). An id the caller may not see (another merchant's, the "
        "other mode's, or none) → 404.",
    )
