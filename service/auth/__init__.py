"""Sign-in, password resets, sessions and API tokens (the pages are in ``service/web/auth.py``).

- ``operations``: signing in with throttling, password resets and changes, and API tokens.
- ``secrets``: password hashing (argon2) and opaque tokens stored only as hashes.
"""
