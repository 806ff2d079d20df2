"""Organisations, client links, users, invitations and departments."""
