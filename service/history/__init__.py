"""The per-organisation, append-only, hash-chained event log.

- ``chain``: appending events to an organisation's hash chain and verifying the chain.
- ``queries``: reading the history: an instrument's timeline.
"""
