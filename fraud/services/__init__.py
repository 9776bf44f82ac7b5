"""Fraud services: what the fraud app does, one module per job (callers import the module they need).

- transactions: payments as fraud.features sees them (keys carrying the mode, the sandbox fraud card).
- scoring: the model in use, the rules and lists in force, assessment and the decision after
  authorisation (architecture, flow step 4), carried out through payments.services.
- reviews: the merchant's fraud settings, reviews of held payments and the unreviewed ones at their
  deadline (resolve_due_reviews).
- labels: fraud labels (merchant reports, lost disputes, rejected reviews) and issuer declines fed to
  the online feature store.
- rule_editing: the merchant's own rules (add, edit, move, delete) and dry runs over past decisions.
- lists: allow and block list entries and their canonical values.
- model_versions: activating a trained model version and the training rows it learns from.

Imports run one way: scoring -> reviews -> labels -> transactions; model_versions -> scoring.
"""
