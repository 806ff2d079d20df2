"""The instrument ledger (台账): instruments, due dates, labels, status requests."""
