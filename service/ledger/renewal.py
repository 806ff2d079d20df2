"""Which work renews an instrument's validity, and whether a result is the one the ledger shows.

Pure rules shared by records, cases, labels, the public check and chains.
"""

from __future__ import annotations

from datetime import date

from models import CalibrationRecord, Instrument

#: Kinds of work that renew an instrument's validity; an intermediate check (期间核查) does not.
RENEWING_KINDS = ("verification", "calibration", "self_check")


def renews(instrument: Instrument, kind: str) -> bool:
    """Whether work of ``kind`` renews the instrument's validity.

    Mandatory instruments (强检) are renewed only by a verification of a legal metrology
    institution: their self-checks and calibrations are recorded but leave the due date alone.
    """
    return kind in RENEWING_KINDS and (kind == "verification" or not instrument.is_mandatory)


def is_newest(instrument: Instrument, performed_on: date) -> bool:
    """Whether work done on ``performed_on`` is the instrument's newest (none later is recorded)."""
    return instrument.last_done_on is None or performed_on >= instrument.last_done_on


def is_applied(instrument: Instrument, record: CalibrationRecord) -> bool:
    """Whether the instrument's dates and certificate are this record's."""
    return (
        renews(instrument, record.kind)
        and instrument.last_done_on == record.performed_on
        and (record.certificate_no is None or instrument.certificate_no == record.certificate_no)
    )
