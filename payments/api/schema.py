"""Response shapes for the OpenAPI document (drf-spectacular). Documentation only: the objects
themselves are built by payments.representations, and tests check both agree."""

from rest_framework import serializers


class _Address(serializers.Serializer):
    title = serializers.CharField(allow_null=True)
    first_name = serializers.CharField(allow_null=True)
    last_name = serializers.CharField(allow_null=True)
    email = serializers.CharField(allow_null=True)
    company_name = serializers.CharField(allow_null=True)
    mobile_phone_number = serializers.CharField(allow_null=True)
    landline_phone_number = serializers.CharField(allow_null=True)
    address1 = serializers.CharField(allow_null=True)
    address2 = serializers.CharField(allow_null=True)
    postcode = serializers.CharField(allow_null=True)
    city = serializers.CharField(allow_null=True)
    state = serializers.CharField(allow_null=True)
    country = serializers.CharField(allow_null=True)
    language = serializers.CharField(allow_null=True)


class Billing(_Address):
    pass


class Shipping(_Address):
    delivery_type = serializers.CharField(allow_null=True)


class PaymentCard(serializers.Serializer):
    id = serializers.CharField(allow_null=True)
    last4 = serializers.CharField(allow_null=True)
    country = serializers.CharField(allow_null=True)
    exp_month = serializers.IntegerField(allow_null=True)
    exp_year = serializers.IntegerField(allow_null=True)
    brand = serializers.CharField(allow_null=True)
    metadata = serializers.DictField(allow_null=True)


class Authorization(serializers.Serializer):
    authorized_amount = serializers.IntegerField()
    authorized_at = serializers.IntegerField(allow_null=True)
    expires_at = serializers.IntegerField(allow_null=True)


class HostedPayment(serializers.Serializer):
    payment_url = serializers.CharField(allow_null=True)
    return_url = serializers.CharField(allow_null=True)
    cancel_url = serializers.CharField(allow_null=True)
    paid_at = serializers.IntegerField(allow_null=True)
    sent_by = serializers.CharField(allow_null=True)


class Notification(serializers.Serializer):
    url = serializers.CharField(allow_null=True)
    response_code = serializers.IntegerField(allow_null=True)


class Failure(serializers.Serializer):
    code = serializers.CharField()
    message = serializers.CharField()


class Dispute(serializers.Serializer):
    amount = serializers.IntegerField()
    reason = serializers.CharField()
    created_at = serializers.IntegerField()


class PaymentObject(serializers.Serializer):
    id = serializers.CharField()
    object = serializers.CharField()
    is_live = serializers.BooleanField()
    amount = serializers.IntegerField()
    amount_refunded = serializers.IntegerField()
    currency = serializers.CharField()
    created_at = serializers.IntegerField()
    is_paid = serializers.BooleanField()
    paid_at = serializers.IntegerField(allow_null=True)
    is_refunded = serializers.BooleanField()
    is_3ds = serializers.BooleanField()
    save_card = serializers.BooleanField()
    allow_save_card = serializers.BooleanField()
    refundable_after = serializers.IntegerField(allow_null=True)
    refundable_until = serializers.IntegerField(allow_null=True)
    authorization = Authorization(allow_null=True)
    card = PaymentCard()
    billing = Billing()
    shipping = Shipping(allow_null=True)
    hosted_payment = HostedPayment()
    notification = Notification()
    failure = Failure(allow_null=True)
    description = serializers.CharField(allow_null=True)
    metadata = serializers.DictField()
    payment_method = serializers.CharField(allow_null=True)
    installment_plan_id = serializers.CharField(allow_null=True)
    customer_id = serializers.CharField(allow_null=True)
    payment_context = serializers.DictField(allow_null=True)
    dispute = Dispute(allow_null=True)


class RefundObject(serializers.Serializer):
    id = serializers.CharField()
    object = serializers.CharField()
    is_live = serializers.BooleanField()
    payment_id = serializers.CharField()
    amount = serializers.IntegerField()
    currency = serializers.CharField()
    created_at = serializers.IntegerField()
    metadata = serializers.DictField()


class CustomerObject(serializers.Serializer):
    id = serializers.CharField()
    object = serializers.CharField()
    is_live = serializers.BooleanField()
    created_at = serializers.IntegerField()
    email = serializers.CharField()
    first_name = serializers.CharField(allow_null=True)
    last_name = serializers.CharField(allow_null=True)
    address1 = serializers.CharField(allow_null=True)
    address2 = serializers.CharField(allow_null=True)
    postcode = serializers.CharField(allow_null=True)
    city = serializers.CharField(allow_null=True)
    country = serializers.CharField(allow_null=True)
    metadata = serializers.DictField()


class CardObject(serializers.Serializer):
    id = serializers.CharField()
    object = serializers.CharField()
    is_live = serializers.BooleanField()
    created_at = serializers.IntegerField()
    customer_id = serializers.CharField(allow_null=True)
    last4 = serializers.CharField()
    brand = serializers.CharField()
    exp_month = serializers.IntegerField()
    exp_year = serializers.IntegerField()
    country = serializers.CharField(allow_null=True)
    metadata = serializers.DictField()


class Deleted(serializers.Serializer):
    id = serializers.CharField()
    object = serializers.CharField()
    deleted = serializers.BooleanField()


def _list_of(item, name):
    return type(
        name,
        (serializers.Serializer,),
        {
            "object": serializers.CharField(),
            "type": serializers.CharField(),
            "page": serializers.IntegerField(),
            "per_page": serializers.IntegerField(),
            "count": serializers.IntegerField(),
            "has_more": serializers.BooleanField(),
            "data": item(many=True),
        },
    )


PaymentList = _list_of(PaymentObject, "PaymentList")
RefundList = _list_of(RefundObject, "RefundList")
CustomerList = _list_of(CustomerObject, "CustomerList")
CardList = _list_of(CardObject, "CardList")
