"""Associations: donation campaigns (issue 15). Sits above payments: it creates payments and
subscriptions through their services and reads the ledger; payments never imports it."""
