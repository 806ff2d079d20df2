"""The per-organisation, append-only, hash-chained event log."""
