"""Background jobs: plain functions that the scheduler, the CLI and the tests all call."""
