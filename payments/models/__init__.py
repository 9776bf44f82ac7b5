"""The payments app's models, one module per domain. Django finds them here, and other code imports
them from `payments.models` (every model, and `_link_slug`, which migration 0002 names)."""

from payments.models.connectors import AcquirerConnector, AcquirerRoute
from payments.models.disputes import Dispute, DisputeEvidence
from payments.models.idempotency import IdempotencyRecord
from payments.models.installments import Installment, InstallmentPlan
from payments.models.ledger import (
    AppendOnlyModel,
    AppendOnlyQuerySet,
    LedgerAccount,
    LedgerEntry,
    LedgerTransaction,
    MerchantAccountSettings,
)
from payments.models.links import PaymentLink, _link_slug
from payments.models.paybutton import PayButtonSettings
from payments.models.payments import (
    AUTHORIZATION_LIFETIME,
    MAX_FAILED_ATTEMPTS,
    PAGE_LIFETIME,
    REFUND_WINDOW_DAYS,
    REVIEW_DEADLINE,
    Card,
    Customer,
    LiveQuerySet,
    Payment,
    PaymentAttempt,
    Refund,
)
from payments.models.payouts import Payout, PayoutBatch
from payments.models.reports import AccountingReport
from payments.models.sandbox import SandboxOperation, ScheduledChargeback
from payments.models.subscriptions import Subscription, SubscriptionCharge
from payments.models.vault import VaultEntry

__all__ = [
    "AUTHORIZATION_LIFETIME",
    "MAX_FAILED_ATTEMPTS",
    "PAGE_LIFETIME",
    "REFUND_WINDOW_DAYS",
    "REVIEW_DEADLINE",
    "AccountingReport",
    "AcquirerConnector",
    "AcquirerRoute",
    "AppendOnlyModel",
    "AppendOnlyQuerySet",
    "Card",
    "Customer",
    "Dispute",
    "DisputeEvidence",
    "IdempotencyRecord",
    "Installment",
    "InstallmentPlan",
    "LedgerAccount",
    "LedgerEntry",
    "LedgerTransaction",
    "LiveQuerySet",
    "MerchantAccountSettings",
    "PayButtonSettings",
    "Payment",
    "PaymentAttempt",
    "PaymentLink",
    "Payout",
    "PayoutBatch",
    "Refund",
    "SandboxOperation",
    "ScheduledChargeback",
    "Subscription",
    "SubscriptionCharge",
    "VaultEntry",
    "_link_slug",
]
