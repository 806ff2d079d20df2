"""The instrument ledger (台账): instruments, due dates, status requests.

- ``catalogue``: the uses that make verification compulsory, as ledgers write them and as the catalogue
  implies them.
- ``dates``: due-date rules: pure functions over calendar dates.
- ``operations``: changing the ledger: instruments, bulk edits and maker-checker status requests.
- ``queries``: reading the ledger: filtered, sorted, keyset-paged lists; counts; the due calendar.
- ``renewal``: which work renews an instrument's validity, and whether a result is the one the ledger shows.
- ``schemas``: input and output schemas of the instrument resource (field names of DESIGN.md §5).
- ``status``: the status lifecycle: which changes are direct and which need an approved request.
- ``views``: ledger pages: the list with recall views and bulk edit, the calendar, one instrument,
  approvals.
"""
