"""The OpenAPI 3 document of the v1 API (`GET /v1/schema`, drf-spectacular), one module per resource.

Documentation only: requests are validated by `payments.api.serializers` and responses are built
by `payments.representations`; tests check that the objects the views return validate against
the components declared here (tests/payments/api/test_openapi.py) and run schemathesis against a
live server (tests/payments/api/test_schemathesis.py).

What this package adds to drf-spectacular's inference:
* `document`: the `SecretKey` bearer security scheme (an extension for `SecretKeyAuthentication`)
  and the hook that shows the canonical routes without a trailing slash;
* `requests`: request bodies that say what the serializers accept: `additionalProperties: false` on
  every `StrictSerializer` (unknown keys → 400), nullability, enums, bounds, the billing address's
  required names (each resource module adjusts its own bodies);
* `payments`, `refunds`, `customers`, `cards`, `accounting_reports`, `account`: response components for
  every resource object, exact (every key required, no other key), its path parameter and its examples
  (`account` also has the plugin login's body, error responses and description);
* `common`: the field types these are built from; `errors`: the shared `Error` component and the
  error responses.

The operations themselves (error responses, headers, `Idempotency-Key` on POST and PATCH,
`PayPlug-Version` on every operation) are declared on the views with `payments.api.docs.api_operation`,
which imports this package: the extensions are registered whenever the URLconf (and therefore the
schema generator) is loaded.
"""

from __future__ import annotations

from payments.api.schema.account import (
    ACCOUNT_EXAMPLES,
    KEYS_LOGIN_DESCRIPTION,
    KEYS_LOGIN_EXAMPLES,
    Account,
    PublishableKey,
    SecretKeys,
    keys_login_responses,
)
from payments.api.schema.accounting_reports import ACCOUNTING_REPORT_CREATE_EXAMPLES, REPORT_ID, AccountingReport
from payments.api.schema.cards import CARD_ID, Card, CardDeleted, CardList
from payments.api.schema.customers import (
    CUSTOMER_CREATE_EXAMPLES,
    CUSTOMER_ID,
    Customer,
    CustomerDeleted,
    CustomerList,
)
from payments.api.schema.document import SecretKeyScheme, strip_trailing_slashes
from payments.api.schema.errors import ERRORS, Error
from payments.api.schema.payments import (
    PAYMENT_CREATE_EXAMPLES,
    PAYMENT_EXAMPLE,
    PAYMENT_ID,
    PAYMENT_UPDATE_EXAMPLES,
    Payment,
    PaymentList,
)
from payments.api.schema.refunds import REFUND_CREATE_EXAMPLES, REFUND_ID, Refund, RefundList
from payments.api.schema.requests import StrictSerializerSchema

__all__ = [
    "ACCOUNTING_REPORT_CREATE_EXAMPLES",
    "ACCOUNT_EXAMPLES",
    "CARD_ID",
    "CUSTOMER_CREATE_EXAMPLES",
    "CUSTOMER_ID",
    "ERRORS",
    "KEYS_LOGIN_DESCRIPTION",
    "KEYS_LOGIN_EXAMPLES",
    "PAYMENT_CREATE_EXAMPLES",
    "PAYMENT_EXAMPLE",
    "PAYMENT_ID",
    "PAYMENT_UPDATE_EXAMPLES",
    "REFUND_CREATE_EXAMPLES",
    "REFUND_ID",
    "REPORT_ID",
    "Account",
    "AccountingReport",
    "Card",
    "CardDeleted",
    "CardList",
    "Customer",
    "CustomerDeleted",
    "CustomerList",
    "Error",
    "Payment",
    "PaymentList",
    "PublishableKey",
    "Refund",
    "RefundList",
    "SecretKeyScheme",
    "SecretKeys",
    "StrictSerializerSchema",
    "keys_login_responses",
    "strip_trailing_slashes",
]
