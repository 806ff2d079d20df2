"""Reminders: the policy, planning digests into the outbox, and dispatching them."""
