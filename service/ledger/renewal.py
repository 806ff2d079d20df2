"""Which work renews an instrument's validity (a rule shared by records, cases, labels and chains)."""

from __future__ import annotations

from models import Instrument

#: Kinds of work that renew an instrument's validity; an intermediate check (期间核查) does not.
RENEWING_KINDS = ("verification", "calibration", "self_check")


def renews(instrument: Instrument, kind: str) -> bool:
    """Whether work of ``kind`` renews the instrument's validity.

    Mandatory instruments (强检) are renewed only by a verification of a legal metrology
    institution: their self-checks and calibrations are recorded but leave the due date alone.
    """
    return kind in RENEWING_KINDS and (kind == "verification" or not instrument.is_mandatory)
