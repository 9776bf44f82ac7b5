"""What each team role may do. Every dashboard view names the permission it needs."""

from merchants.models import Membership

Role = Membership.Role

VIEW_PAYMENTS = "payments.view"
REFUND = "payments.refund"
VIEW_CUSTOMERS = "customers.view"
VIEW_BALANCE = "balance.view"
EXPORT = "exports"
MANAGE_LINKS = "links.manage"
MANAGE_KEYS = "keys.manage"
MANAGE_WEBHOOKS = "webhooks.manage"
VIEW_FRAUD = "fraud.view"
REVIEW_FRAUD = "fraud.review"
MANAGE_FRAUD = "fraud.manage"
MANAGE_SETTINGS = "settings.manage"
VIEW_SETTINGS = "settings.view"
MANAGE_TEAM = "team.manage"
VIEW_TEAM = "team.view"
VIEW_AUDIT = "audit.view"
VIEW_DEVELOPERS = "developers.view"

_READ = {VIEW_PAYMENTS, VIEW_CUSTOMERS, VIEW_BALANCE, VIEW_FRAUD, VIEW_SETTINGS, VIEW_TEAM}

PERMISSIONS: dict[str, frozenset[str]] = {
    Role.OWNER: frozenset(
        _READ
        | {
            REFUND,
            EXPORT,
            MANAGE_LINKS,
            MANAGE_KEYS,
            MANAGE_WEBHOOKS,
            REVIEW_FRAUD,
            MANAGE_FRAUD,
            MANAGE_SETTINGS,
            MANAGE_TEAM,
            VIEW_AUDIT,
            VIEW_DEVELOPERS,
        }
    ),
    Role.ADMIN: frozenset(
        _READ
        | {
            REFUND,
            EXPORT,
            MANAGE_LINKS,
            MANAGE_KEYS,
            MANAGE_WEBHOOKS,
            REVIEW_FRAUD,
            MANAGE_FRAUD,
            MANAGE_SETTINGS,
            MANAGE_TEAM,
            VIEW_AUDIT,
            VIEW_DEVELOPERS,
        }
    ),
    # Developers integrate: keys, webhooks, and read access to what their code produces.
    Role.DEVELOPER: frozenset(
        {VIEW_PAYMENTS, VIEW_CUSTOMERS, MANAGE_KEYS, MANAGE_WEBHOOKS, VIEW_DEVELOPERS, VIEW_TEAM}
    ),
    # Support serves shoppers: payments, refunds, customers, payment links, fraud reviews.
    Role.SUPPORT: frozenset({VIEW_PAYMENTS, REFUND, VIEW_CUSTOMERS, MANAGE_LINKS, VIEW_FRAUD, REVIEW_FRAUD, VIEW_TEAM}),
    # Accountants read and export, never change anything.
    Role.ACCOUNTANT: frozenset({VIEW_PAYMENTS, VIEW_CUSTOMERS, VIEW_BALANCE, EXPORT, VIEW_TEAM}),
}


def role_allows(role: str, permission: str) -> bool:
    return permission in PERMISSIONS.get(role, frozenset())


# Roles an inviter may hand out: only owners create owners.
def assignable_roles(role: str) -> list[str]:
    if role == Role.OWNER:
        return [r.value for r in Role]
    if role == Role.ADMIN:
        return [r.value for r in Role if r != Role.OWNER]
    return []
