"""Comparisons (计量比对) and proficiency tests (能力验证) of an instrument of the organisation's ledger."""
