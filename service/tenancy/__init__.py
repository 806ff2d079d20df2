"""Organisations, client links, users, invitations and departments.

- ``operations``: changing organisations, client links, users, invitations and departments.
- ``queries``: reading organisations and the links between a firm and its institutes.
- ``schemas``: input and output schemas of organisations, users and departments.
- ``views``: organisation pages: profile, users and invitations, departments, client links, sign-in audit.
"""
