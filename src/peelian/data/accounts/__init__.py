"""Accounts: who may sign in and how (users and roles, server-side sessions, login throttling).

Kept apart from the records peelian analyses: these tables hold credentials and session state,
never crime or person data.

- :mod:`peelian.data.accounts.users` -- users, roles and the role ladder for pages.
- :mod:`peelian.data.accounts.sessions` -- revocable server-side sessions.
- :mod:`peelian.data.accounts.login_throttle` -- backoff per account and address.
"""
