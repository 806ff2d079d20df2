"""Backups: one archive holding the database and the attachment files, and its restore.

- ``archive``: the archive's layout and manifest; writing it, and reading it back into a staging
  folder with every name, size and checksum checked (nothing lands outside that folder).
- ``databases``: dumping and restoring SQLite (its online backup API) and PostgreSQL (``pg_dump``
  custom format, ``pg_restore``), and telling whether a target database is empty.
- ``operations``: ``create_backup`` and ``restore_backup``, which the ``backup`` commands call.
"""
