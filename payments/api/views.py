"""The v1 API views: parse, authorise (the key's merchant and mode), call a service, render."""

from __future__ import annotations

import re

from rest_framework.exceptions import NotFound
from rest_framework.response import Response

from payments import representations, services
from payments.acquirers.base import AcquirerUnavailable
from payments.api import schema
from payments.api.docs import PAGE_PARAMETER, WRITE_ERRORS, api_operation, per_page_parameter
from payments.api.idempotency import idempotent
from payments.api.serializers import (
    CardAttachSerializer,
    CustomerSerializer,
    PaymentCreateSerializer,
    PaymentUpdateSerializer,
    RefundCreateSerializer,
    fast_payment_create,
)
from payments.models import Card, Customer, Payment, Refund
from payplug.api import ApiError
from payplug.api_views import ApiView
from payplug.prepared import PreparedSelect

PAGE_PARAMETERS = [PAGE_PARAMETER, per_page_parameter(10)]


def parse_paging(request, default_per_page: int = 10) -> tuple[int, int]:
    values = {}
    for name, default in (("page", 0), ("per_page", default_per_page)):
        raw = request.query_params.get(name)
        if raw is None or raw == "":
            values[name] = default
            continue
        text = raw.strip()
        try:  # ASCII digits only: int() would also take "1_000" and other scripts' digits
            values[name] = int(text) if re.fullmatch(r"-?[0-9]+", text) else None
        except ValueError:  # more digits than Python converts
            values[name] = None
        if values[name] is None or values[name] < 0 or (name == "per_page" and not 1 <= values[name] <= 100):
            rule = "an integer >= 0" if name == "page" else "an integer between 1 and 100"
            raise ApiError("invalid_request", f"{name}: must be {rule}.", details={name: f"must be {rule}."})
    return values["page"], values["per_page"]


MAX_OFFSET = 2**62  # databases take 64-bit offsets: any page further than this is past the end


def paginate(request, queryset, render, default_per_page: int = 10, *, render_page=None) -> dict:
    """A page of `queryset`, newest first; each item rendered by `render`, or the whole page at once
    by `render_page(items)` (a resource whose representation reads other rows, in a few queries)."""
    page, per_page = parse_paging(request, default_per_page)
    start = page * per_page
    items = list(queryset.order_by("-created_at", "-id")[start : start + per_page + 1]) if start <= MAX_OFFSET else []
    has_more = len(items) > per_page
    items = items[:per_page]
    return {
        "object": "list",
        "type": "list",
        "page": page,
        "per_page": per_page,
        "count": len(items),
        "has_more": has_more,
        "data": render_page(items) if render_page is not None else [render(item) for item in items],
    }


# One statement per mode: a boolean is a constant of the statement (payplug.prepared).
_PAYMENT_BY_ID = {
    is_live: PreparedSelect(
        Payment,
        lambda merchant_id, public_id, is_live=is_live: Payment.objects.filter(
            merchant_id=merchant_id, is_live=is_live, public_id=public_id
        ),
        examples=(7_340_033, "\x1fpay\x1f"),
    )
    for is_live in (False, True)
}


class PaymentsApiView(ApiView):
    def handle_exception(self, exc):
        if isinstance(exc, AcquirerUnavailable):
            exc = ApiError(
                "service_unavailable",
                "The card acquirer is unavailable; nothing was changed. Retry later with the same Idempotency-Key.",
                status=503,
                headers={"Retry-After": "5"},
            )
        return super().handle_exception(exc)

    def validated(self, serializer_class, **context):
        return serializer_class.check(
            self.json_body(), {"merchant": self.get_merchant(), "is_live": self.is_live, **context}
        )

    def tenant(self, model):
        return model.objects.for_tenant(self.get_merchant(), self.is_live)

    def get_payment(self, payment_id: str) -> Payment:
        # public_id is unique: no ORDER BY; compiled once per process (payplug.prepared)
        payment = _PAYMENT_BY_ID[self.is_live].first(self.get_merchant().pk, payment_id)
        if payment is None:
            raise NotFound()
        return payment

    def get_customer(self, customer_id: str) -> Customer:
        customer = self.tenant(Customer).alive().filter(public_id=customer_id).first()
        if customer is None:
            raise NotFound()
        return customer

    def actor_label(self) -> str:
        return f"api {self.request.auth.key.prefix}"


# --- payments -------------------------------------------------------------------------------------


class PaymentListCreate(PaymentsApiView):
    @api_operation(
        "payments_list",
        "payments",
        "List payments",
        schema.PaymentList,
        description="The caller's payments in its mode, newest first.",
        parameters=PAGE_PARAMETERS,
        errors=(400, 401, 403, 429),
    )
    def get(self, request):
        queryset = self.tenant(Payment).select_related("card")
        return Response(paginate(request, queryset, representations.payment))

    @api_operation(
        "payments_create",
        "payments",
        "Create a payment",
        schema.Payment,
        status=201,
        description="A hosted-page payment (the shopper pays at `hosted_payment.payment_url`), or a "
        "one-click payment with a saved card (`payment_method`).",
        request=PaymentCreateSerializer,
        errors=(400, 401, 403, 409, 413, 429, 503),
        examples=schema.PAYMENT_CREATE_EXAMPLES,
    )
    @idempotent
    def post(self, request):
        data = fast_payment_create(self.json_body(), self.get_merchant(), self.is_live)
        if data is None:
            data = self.validated(PaymentCreateSerializer)
        self._check_features(data)
        hosted = data.get("hosted_payment") or {}
        is_deferred = "authorized_amount" in data
        new = services.NewPayment(
            amount=data["authorized_amount"] if is_deferred else data["amount"],
            is_deferred=is_deferred,
            auto_capture=data.get("auto_capture", False),
            billing=data["billing"],
            shipping=data.get("shipping"),
            return_url=hosted.get("return_url"),
            cancel_url=hosted.get("cancel_url"),
            sent_by=hosted.get("sent_by"),
            notification_url=data.get("notification_url"),
            metadata=data.get("metadata") or {},
            description=data.get("description") or None,
            save_card=data.get("save_card", False),
            allow_save_card=data.get("allow_save_card", False),
            force_3ds=data.get("force_3ds", False),
            saved_card=data.get("payment_method"),
            initiator=data.get("initiator"),
            customer=data.get("customer_id"),
            payment_context=data.get("payment_context"),
        )
        payment = services.create_payment(self.get_merchant(), self.is_live, new)
        return Response(representations.payment(payment), status=201)

    def _check_features(self, data):
        merchant = self.get_merchant()
        wants_saving = data.get("save_card") or data.get("allow_save_card")
        if self.is_live and wants_saving and not merchant.live_save_card_enabled:
            raise ApiError(
                "feature_not_enabled", "Saving cards is not enabled for this account in live mode.", status=403
            )


class PaymentDetail(PaymentsApiView):
    @api_operation(
        "payments_retrieve",
        "payments",
        "Retrieve a payment",
        schema.Payment,
        parameters=[schema.PAYMENT_ID],
        success_examples=[schema.PAYMENT_EXAMPLE],
    )
    def get(self, request, payment_id):
        return Response(representations.payment(self.get_payment(payment_id)))

    @api_operation(
        "payments_update",
        "payments",
        "Abort or capture a payment",
        schema.Payment,
        description='`{"abort": true}` aborts a payment not paid yet; `{"captured": true}` '
        "captures an authorized deferred payment.",
        request=PaymentUpdateSerializer,
        parameters=[schema.PAYMENT_ID],
        errors=(*WRITE_ERRORS, 503),
        examples=schema.PAYMENT_UPDATE_EXAMPLES,
    )
    @idempotent
    def patch(self, request, payment_id):
        payment = self.get_payment(payment_id)
        action = self.validated(PaymentUpdateSerializer)["action"]
        payment = services.capture(payment) if action == "capture" else services.abort(payment)
        return Response(representations.payment(payment))


# --- refunds --------------------------------------------------------------------------------------


class RefundListCreate(PaymentsApiView):
    @api_operation(
        "refunds_list",
        "refunds",
        "List the refunds of a payment",
        schema.RefundList,
        parameters=[schema.PAYMENT_ID, PAGE_PARAMETER, per_page_parameter(100)],
    )
    def get(self, request, payment_id):
        payment = self.get_payment(payment_id)
        queryset = Refund.objects.filter(payment=payment).select_related("payment")
        return Response(paginate(request, queryset, representations.refund, default_per_page=100))

    @api_operation(
        "refunds_create",
        "refunds",
        "Refund a payment",
        schema.Refund,
        status=201,
        description="Refunds a paid payment, partially or (without `amount`) totally.",
        request=RefundCreateSerializer,
        parameters=[schema.PAYMENT_ID],
        errors=(*WRITE_ERRORS, 503),
        examples=schema.REFUND_CREATE_EXAMPLES,
    )
    @idempotent
    def post(self, request, payment_id):
        payment = self.get_payment(payment_id)
        data = self.validated(RefundCreateSerializer)
        refund = services.refund(
            payment,
            data.get("amount"),
            metadata=data.get("metadata"),
            idempotency_key=request.headers.get("Idempotency-Key"),
            created_by=self.actor_label(),
        )
        return Response(representations.refund(refund), status=201)


class RefundDetail(PaymentsApiView):
    @api_operation(
        "refunds_retrieve",
        "refunds",
        "Retrieve a refund",
        schema.Refund,
        parameters=[schema.PAYMENT_ID, schema.REFUND_ID],
    )
    def get(self, request, payment_id, refund_id):
        payment = self.get_payment(payment_id)
        refund = Refund.objects.filter(payment=payment, public_id=refund_id).select_related("payment").first()
        if refund is None:
            raise NotFound()
        return Response(representations.refund(refund))


# --- customers ------------------------------------------------------------------------------------


class CustomerListCreate(PaymentsApiView):
    @api_operation(
        "customers_list",
        "customers",
        "List customers",
        schema.CustomerList,
        parameters=PAGE_PARAMETERS,
        errors=(400, 401, 403, 429),
    )
    def get(self, request):
        return Response(paginate(request, self.tenant(Customer).alive(), representations.customer))

    @api_operation(
        "customers_create",
        "customers",
        "Create a customer",
        schema.Customer,
        status=201,
        request=CustomerSerializer,
        errors=(400, 401, 403, 409, 413, 429),
        examples=schema.CUSTOMER_CREATE_EXAMPLES,
    )
    @idempotent
    def post(self, request):
        data = dict(self.validated(CustomerSerializer))
        data.setdefault("metadata", {})
        customer = services.create_customer(self.get_merchant(), self.is_live, data)
        return Response(representations.customer(customer), status=201)


class CustomerDetail(PaymentsApiView):
    @api_operation(
        "customers_retrieve", "customers", "Retrieve a customer", schema.Customer, parameters=[schema.CUSTOMER_ID]
    )
    def get(self, request, customer_id):
        return Response(representations.customer(self.get_customer(customer_id)))

    @api_operation(
        "customers_update",
        "customers",
        "Update a customer",
        schema.Customer,
        description="Any subset of the fields; `null` clears an optional field; `metadata` replaces the whole object.",
        request=CustomerSerializer(partial=True),
        parameters=[schema.CUSTOMER_ID],
        errors=WRITE_ERRORS,
    )
    @idempotent
    def patch(self, request, customer_id):
        customer = self.get_customer(customer_id)
        fields = dict(CustomerSerializer.check(self.json_body(), {}, partial=True))
        if "metadata" in fields and fields["metadata"] is None:
            fields["metadata"] = {}
        customer = services.update_customer(customer, fields)
        return Response(representations.customer(customer))

    @api_operation(
        "customers_delete",
        "customers",
        "Delete a customer and its saved cards",
        schema.CustomerDeleted,
        parameters=[schema.CUSTOMER_ID],
    )
    def delete(self, request, customer_id):
        customer = self.get_customer(customer_id)
        services.delete_customer(customer)
        return Response({"id": customer.public_id, "object": "customer", "deleted": True})


# --- cards ----------------------------------------------------------------------------------------


class CustomerCards(PaymentsApiView):
    @api_operation(
        "customer_cards_list",
        "cards",
        "List a customer's saved cards",
        schema.CardList,
        parameters=[schema.CUSTOMER_ID, *PAGE_PARAMETERS],
    )
    def get(self, request, customer_id):
        customer = self.get_customer(customer_id)
        queryset = self.tenant(Card).alive().filter(customer=customer).select_related("customer")
        return Response(paginate(request, queryset, representations.card))

    @api_operation(
        "customer_cards_attach",
        "cards",
        "Attach a saved card to a customer",
        schema.Card,
        status=201,
        description="Attaches a card saved earlier by a payment without a customer.",
        request=CardAttachSerializer,
        parameters=[schema.CUSTOMER_ID],
        errors=WRITE_ERRORS,
    )
    @idempotent
    def post(self, request, customer_id):
        customer = self.get_customer(customer_id)
        data = self.validated(CardAttachSerializer)
        card = self.tenant(Card).alive().filter(public_id=data["card"]).first()
        if card is None or (card.customer_id and card.customer_id != customer.pk):
            raise ApiError(
                "invalid_request",
                "card: no card saved without a customer has this id.",
                details={"card": "no card saved without a customer has this id."},
            )
        card = services.attach_card(card, customer, data.get("metadata"))
        return Response(representations.card(card), status=201)


class CustomerCardDetail(PaymentsApiView):
    def get_card(self, customer_id, card_id) -> Card:
        customer = self.get_customer(customer_id)
        card = self.tenant(Card).alive().filter(public_id=card_id, customer=customer).select_related("customer")
        card = card.first()
        if card is None:
            raise NotFound()
        return card

    @api_operation(
        "customer_cards_retrieve",
        "cards",
        "Retrieve a customer's saved card",
        schema.Card,
        parameters=[schema.CUSTOMER_ID, schema.CARD_ID],
    )
    def get(self, request, customer_id, card_id):
        return Response(representations.card(self.get_card(customer_id, card_id)))

    @api_operation(
        "customer_cards_delete",
        "cards",
        "Delete a customer's saved card",
        schema.CardDeleted,
        parameters=[schema.CUSTOMER_ID, schema.CARD_ID],
    )
    def delete(self, request, customer_id, card_id):
        card = self.get_card(customer_id, card_id)
        services.delete_card(card)
        return Response({"id": card.public_id, "object": "card", "deleted": True})


class CardDetail(PaymentsApiView):
    def get_card(self, card_id) -> Card:
        card = self.tenant(Card).alive().filter(public_id=card_id).select_related("customer").first()
        if card is None:
            raise NotFound()
        return card

    @api_operation("cards_retrieve", "cards", "Retrieve a saved card", schema.Card, parameters=[schema.CARD_ID])
    def get(self, request, card_id):
        return Response(representations.card(self.get_card(card_id)))

    @api_operation("cards_delete", "cards", "Delete a saved card", schema.CardDeleted, parameters=[schema.CARD_ID])
    def delete(self, request, card_id):
        card = self.get_card(card_id)
        services.delete_card(card)
        return Response({"id": card.public_id, "object": "card", "deleted": True})
