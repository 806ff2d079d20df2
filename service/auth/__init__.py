"""Sign-in, password resets, sessions and API tokens.

- ``operations``: signing in with throttling, password resets and changes, and API tokens.
- ``queries``: reading what sign-in leaves behind: one's own API tokens, the organisation's sign-in log.
- ``secrets``: password hashing (argon2) and opaque tokens stored only as hashes.
- ``views``: sign-in, sign-out, password reset, invitations, one's own account and API tokens: the pages.
"""
