"""Nonconforming equipment: cases opened by a failure, their suspect window, assessment and disposition."""
