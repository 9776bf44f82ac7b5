"""Every state change of merchants, teams, keys and accounts. Views and commands call these.

Each caller imports the module it needs:

- `merchants.services.audit`: who did something (`Actor`) and the audit log entry (`audit`).
- `merchants.services.errors`: `MerchantError`, a refused change whose message is safe to show.
- `merchants.services.organisations`: creating a merchant, its profile, review, approval and
  suspension, and whether live mode may be used (`refresh_live_ready...`).
- `merchants.services.keys`: API keys: create, roll, revoke, and `find_api_key` for authentication.
- `merchants.services.team`: invitations, roles and removal of members.
- `merchants.services.accounts`: a user's own account: sign-up, email, language, password and
  second factors.
"""
