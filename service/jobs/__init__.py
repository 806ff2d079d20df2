"""Background jobs: plain functions that the scheduler, the CLI and the tests all call.

- ``exports``: running ledger export jobs: a child process per export as its request commits, or the
  scheduler.
- ``housekeeping``: housekeeping: forget spent credentials, old sign-in records, abandoned uploads and
  orphan files.
- ``imports``: running ledger import jobs: started by the web process at upload, swept up by the scheduler.
- ``reminders``: the reminder jobs: plan each firm's day, dispatch the outbox, release expired leases.
- ``schedule``: the schedule as data, and the APScheduler loop that runs it in its own process.
- ``verify_history``: nightly check of every organisation's hash chain.
"""
