"""The fraud score explained in the merchant's words: a label per feature, a sentence per reason.

Decision.reasons holds the model's top contributions ([{feature, value, contribution}], raw
feature names and SHAP values): `reasons()` turns each into a sentence ("First payment with this
email in the last 30 days") and how much it raised the risk; the panel never shows feature names,
raw contributions or the card fingerprint. Every name of fraud.features.FEATURE_NAMES has a label
here (tests/fraud/test_explain.py checks it).
"""

from __future__ import annotations

from django.utils import formats
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from payments.amounts import format_money

# How each feature's value reads.
COUNT, EUROS, RATIO, SPREAD, HOURS, DAYS, RATE, BOOL, HOUR_OF_DAY = (
    "count",
    "euros",
    "ratio",
    "spread",
    "hours",
    "days",
    "rate",
    "bool",
    "hour",
)

# feature -> (kind, label). A label is a noun phrase read before the value ("Payments with this
# card in the last hour: 3"); for a BOOL the label is the sentence when the value is true.
FEATURES = {
    "amount": (EUROS, _("Amount of the payment")),
    "hour": (HOUR_OF_DAY, _("Time of the payment (UTC)")),
    "is_night": (BOOL, _("Paid at night (midnight to 6 am, UTC)")),
    "is_weekend": (BOOL, _("Paid at the weekend")),
    "card_count_1h": (COUNT, _("Earlier payments with this card in the last hour")),
    "card_count_1d": (COUNT, _("Earlier payments with this card in the last 24 hours")),
    "card_count_7d": (COUNT, _("Earlier payments with this card in the last 7 days")),
    "card_count_30d": (COUNT, _("Earlier payments with this card in the last 30 days")),
    "card_mean_1d": (EUROS, _("Average payment with this card, last 24 hours")),
    "card_mean_7d": (EUROS, _("Average payment with this card, last 7 days")),
    "card_mean_30d": (EUROS, _("Average payment with this card, last 30 days")),
    "card_amount_ratio_30d": (RATIO, _("This amount compared with the card's average (30 days)")),
    "card_amount_zscore_30d": (SPREAD, _("How unusual this amount is for the card (30 days)")),
    "card_amount_ratio_max_30d": (RATIO, _("This amount compared with the card's largest payment (30 days)")),
    "card_hours_since_previous": (HOURS, _("Time since the card's previous payment")),
    "card_first_use_at_merchant": (BOOL, _("First time this card pays you")),
    "card_declines_1d": (COUNT, _("Declined attempts with this card in the last 24 hours")),
    "card_fraud_reports_30d": (COUNT, _("Fraud reports about this card in the last 30 days")),
    "card_fraud_tx_28d": (COUNT, _("Known fraudulent payments with this card in the last 28 days")),
    "card_days_since_first_fraud_tx": (DAYS, _("Time since this card's first known fraudulent payment")),
    "card_amount_ratio_median_30d": (RATIO, _("This amount compared with the card's usual payment (30 days)")),
    "card_amount_ratio_genuine_30d": (RATIO, _("This amount compared with the card's genuine payments (30 days)")),
    "card_amount_zscore_genuine_30d": (SPREAD, _("How unusual this amount is among the card's genuine payments")),
    "card_fraud_share_30d": (RATE, _("Share of this card's payments known to be fraudulent (30 days)")),
    "card_mature_fraud_rate_7d": (RATE, _("Fraud rate of this card's older payments")),
    "card_days_since_last_fraud_tx": (DAYS, _("Time since this card's latest known fraudulent payment")),
    "merchant_count_1h": (COUNT, _("Payments to you in the last hour")),
    "merchant_count_1d": (COUNT, _("Payments to you in the last 24 hours")),
    "merchant_count_7d": (COUNT, _("Payments to you in the last 7 days")),
    "merchant_count_30d": (COUNT, _("Payments to you in the last 30 days")),
    "merchant_mean_30d": (EUROS, _("Your average payment (30 days)")),
    "merchant_amount_ratio_30d": (RATIO, _("This amount compared with your average payment (30 days)")),
    "merchant_fraud_reports_1d": (COUNT, _("Fraud reports on your payments in the last 24 hours")),
    "merchant_fraud_reports_7d": (COUNT, _("Fraud reports on your payments in the last 7 days")),
    "merchant_fraud_reports_30d": (COUNT, _("Fraud reports on your payments in the last 30 days")),
    "merchant_fraud_rate_30d": (RATE, _("Your fraud report rate (30 days)")),
    "merchant_fraud_tx_28d": (COUNT, _("Your known fraudulent payments in the last 28 days")),
    "merchant_days_since_fraud_tx": (DAYS, _("Time since your latest known fraudulent payment")),
    "merchant_days_since_first_fraud_tx": (DAYS, _("Time since your first known fraudulent payment")),
    "merchant_mature_fraud_rate": (RATE, _("Fraud rate of your older payments")),
    "merchant_fraud_share_since_first_fraud": (
        RATE,
        _("Share of your payments found fraudulent since the first fraud"),
    ),
    "merchant_mature_count_1d": (COUNT, _("Your older payments, 1-day window")),
    "merchant_mature_fraud_rate_1d": (RATE, _("Fraud rate of your older payments, 1-day window")),
    "merchant_mature_count_7d": (COUNT, _("Your older payments, 7-day window")),
    "merchant_mature_fraud_rate_7d": (RATE, _("Fraud rate of your older payments, 7-day window")),
    "merchant_fraud_amount_ratio_30d": (RATIO, _("Size of recent frauds compared with your average payment")),
    "email_count_1h": (COUNT, _("Earlier payments with this email in the last hour")),
    "email_count_1d": (COUNT, _("Earlier payments with this email in the last 24 hours")),
    "email_count_30d": (COUNT, _("Earlier payments with this email in the last 30 days")),
    "email_declines_1d": (COUNT, _("Declined attempts with this email in the last 24 hours")),
    "email_fraud_reports_30d": (COUNT, _("Fraud reports about this email in the last 30 days")),
    "ip_count_1h": (COUNT, _("Earlier payments from this IP address in the last hour")),
    "ip_count_1d": (COUNT, _("Earlier payments from this IP address in the last 24 hours")),
    "ip_count_30d": (COUNT, _("Earlier payments from this IP address in the last 30 days")),
    "ip_declines_1d": (COUNT, _("Declined attempts from this IP address in the last 24 hours")),
    "ip_fraud_reports_30d": (COUNT, _("Fraud reports about this IP address in the last 30 days")),
    "device_count_1h": (COUNT, _("Earlier payments from this device in the last hour")),
    "device_count_1d": (COUNT, _("Earlier payments from this device in the last 24 hours")),
    "device_count_30d": (COUNT, _("Earlier payments from this device in the last 30 days")),
    "device_declines_1d": (COUNT, _("Declined attempts from this device in the last 24 hours")),
    "device_fraud_reports_30d": (COUNT, _("Fraud reports about this device in the last 30 days")),
    "card_ip_country_mismatch": (BOOL, _("The card's country differs from the shopper's connection")),
    "card_billing_country_mismatch": (BOOL, _("The card's country differs from the billing address")),
    "ip_billing_country_mismatch": (BOOL, _("The shopper's connection differs from the billing country")),
    "attempt_failures": (COUNT, _("Failed attempts on this payment before this one")),
    "sandbox_fraud_card": (BOOL, _("Test card that always simulates a fraud")),
}
FEATURE_LABELS = {name: label for name, (_kind, label) in FEATURES.items()}

# A count of zero reads better as a "first time" (the features count what came *before* this
# payment, so 0 earlier payments means this is the first).
FIRST_TIME = {
    "card_count_1h": _("First payment with this card in the last hour"),
    "card_count_1d": _("First payment with this card in the last 24 hours"),
    "card_count_7d": _("First payment with this card in the last 7 days"),
    "card_count_30d": _("First payment with this card in the last 30 days"),
    "email_count_1h": _("First payment with this email in the last hour"),
    "email_count_1d": _("First payment with this email in the last 24 hours"),
    "email_count_30d": _("First payment with this email in the last 30 days"),
    "ip_count_1h": _("First payment from this IP address in the last hour"),
    "ip_count_1d": _("First payment from this IP address in the last 24 hours"),
    "ip_count_30d": _("First payment from this IP address in the last 30 days"),
    "device_count_1h": _("First payment from this device in the last hour"),
    "device_count_1d": _("First payment from this device in the last 24 hours"),
    "device_count_30d": _("First payment from this device in the last 30 days"),
}
# For a BOOL feature whose value is false (rarely a reason, but possible).
NOT_TRUE = {
    "is_night": _("Paid in the daytime"),
    "is_weekend": _("Paid on a weekday"),
    "card_first_use_at_merchant": _("The card has paid you before"),
    "card_ip_country_mismatch": _("The card and the shopper's connection are in the same country"),
    "card_billing_country_mismatch": _("The card and the billing address are in the same country"),
    "ip_billing_country_mismatch": _("The shopper's connection and the billing address are in the same country"),
    "sandbox_fraud_card": _("Not the sandbox fraud card"),
}

STRONG, MODERATE = 1.0, 0.3
BUILT_IN_MODEL = "default"


def _number(value: float, places: int) -> str:
    return formats.number_format(round(value, places), decimal_pos=places, use_l10n=True)


def _value(kind: str, value: float) -> str:
    if kind == COUNT:
        return _number(value, 0)
    if kind == EUROS:
        return format_money(round(value * 100), "EUR")
    if kind == RATIO:
        return gettext("%(ratio)s times") % {"ratio": _number(value, 1)}
    if kind == SPREAD:
        return gettext("%(spread)s times the usual spread") % {"spread": _number(abs(value), 1)}
    if kind == HOURS:
        if value < 1:
            return gettext("less than an hour")
        return gettext("%(hours)s hours") % {"hours": _number(value, 0)}
    if kind == DAYS:
        if value < 1:
            return gettext("less than a day")
        return gettext("%(days)s days") % {"days": _number(value, 0)}
    if kind == RATE:
        return f"{_number(value * 100, 1)} %"
    if kind == HOUR_OF_DAY:
        return gettext("%(hour)s h") % {"hour": _number(value, 0)}
    return _number(value, 2)


def sentence(feature: str, value) -> str:
    """One reason as a sentence in the active language."""
    kind, label = FEATURES.get(feature, (None, None))
    if label is None:
        # A feature a newer model knows and this module does not yet: a neutral sentence.
        return gettext("Another signal of the payment's history")
    if kind == BOOL:
        if value is None or value:
            return str(label)
        return str(NOT_TRUE.get(feature, label))
    if value is None:
        return gettext("%(label)s: no history yet") % {"label": label}
    if kind == COUNT and not value and feature in FIRST_TIME:
        return str(FIRST_TIME[feature])
    return f"{label}: {_value(kind, float(value))}"


def effect(contribution) -> str:
    try:
        contribution = float(contribution)
    except (TypeError, ValueError):
        contribution = 0.0
    if contribution >= STRONG:
        return gettext("raises the risk a lot")
    if contribution >= MODERATE:
        return gettext("raises the risk")
    return gettext("raises the risk slightly")


def reasons(raw) -> list[dict]:
    """Decision.reasons as [{text, effect, strength}], the strongest first, in the active language."""
    out = []
    for reason in raw or []:
        if not isinstance(reason, dict):
            continue
        contribution = reason.get("contribution") or 0
        try:
            strength = (
                "strong"
                if float(contribution) >= STRONG
                else "moderate"
                if float(contribution) >= MODERATE
                else "slight"
            )
        except (TypeError, ValueError):
            strength = "slight"
        out.append(
            {
                "text": sentence(str(reason.get("feature", "")), reason.get("value")),
                "effect": effect(contribution),
                "strength": strength,
            }
        )
    return out


def model_label(name: str | None) -> str:
    """The model's name as a merchant reads it: the shipped one is "Built-in model"."""
    if not name:
        return "—"
    if name == BUILT_IN_MODEL:
        return gettext("Built-in model")
    return name


def card_seen(features) -> int | None:
    """On how many payments the card was seen over the 30 days up to this one (from the features
    recorded with the decision: no query), or None when they were not recorded."""
    if not isinstance(features, dict):
        return None
    earlier = features.get("card_count_30d")
    if not isinstance(earlier, int | float) or earlier != earlier:
        return None
    return int(earlier) + 1


def masked_fingerprint(fingerprint: str | None) -> str:
    """A short token to tell two cards apart without showing the fingerprint: "•••• 0a08"."""
    return f"•••• {fingerprint[-4:]}" if fingerprint else ""


# Decision.Outcome values as a merchant reads them (the model's labels are verbs for rules).
OUTCOMES = {
    "capture": _("Accepted"),
    "review": _("Sent to review"),
    "refuse": _("Refused"),
}


def outcome_label(outcome: str | None) -> str:
    label = OUTCOMES.get(outcome or "")
    return str(label) if label else (outcome or "")
