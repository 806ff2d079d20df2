"""Nonconforming equipment: cases opened by a failure, their suspect window, assessment and disposition.

- ``operations``: nonconformity cases: open on a failure, assess the impact, close with an approved
  disposition.
- ``queries``: reading nonconformity cases.
- ``schemas``: what a nonconformity case accepts and shows (web forms and API alike).
- ``views``: nonconformity pages: the open cases, one case with its suspect window, assessment and closing.
"""
