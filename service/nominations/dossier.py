"""The evidence dossier: what a firm's own ledger and history show, as of a date.

Each figure comes with the numbers it was computed from, and the instrument figures with the
instruments behind them, so that a reviewer (or the firm) can open what a rate counts. The
window of the period figures is the on-time rate's: the 12 months up to the date.
"""

from __future__ import annotations

import statistics
from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import Select, distinct, func, select
from sqlalchemy.orm import Session

from models import (
    CalibrationRecord,
    Event,
    HistoryHead,
    Instrument,
    NonconformityCase,
    Notification,
    Organization,
    RecordReading,
    RecordStandard,
    StatusRequest,
)
from models.ledger import ABC_CLASSES
from service import figures
from service.figures import DueDate, InstrumentFacts, InstrumentSet, Rate
from service.history.chain import verify_chain
from service.ledger.renewal import RENEWING_KINDS
from service.measurement.stability import queries as stability_queries

#: The instrument figures a page can open (the instruments behind each).
INSTRUMENT_FIGURES = ("coverage", "inspection", "household", "other_mandatory", "on_time", "unclassified")
#: Kinds of work a certificate traceable to standards comes from (not a self-check or check).
CERTIFIED_KINDS = ("verification", "calibration")


@dataclass
class FigureSets:
    """The instrument figures as of ``as_of``, with the instruments behind each (``facts``)."""

    as_of: date
    facts: list[InstrumentFacts]
    coverage: InstrumentSet
    inspection: InstrumentSet
    household: InstrumentSet
    other_mandatory: InstrumentSet
    due_dates: list[DueDate]

    @classmethod
    def of(cls, facts: list[InstrumentFacts], as_of: date) -> FigureSets:
        """Return the figures of ``facts`` as of ``as_of``."""
        return cls(
            as_of=as_of,
            facts=facts,
            coverage=figures.coverage(facts, as_of),
            inspection=figures.inspection(facts, as_of),
            household=figures.inspection(facts, as_of, household=True),
            other_mandatory=figures.inspection(facts, as_of, household=False),
            due_dates=figures.due_dates(facts, as_of),
        )

    @property
    def on_time(self) -> Rate:
        """Return the on-time rate of the window."""
        return Rate(sum(1 for due in self.due_dates if due.met), len(self.due_dates))

    def instruments_behind(self, figure: str) -> tuple[list[int], list[int]]:
        """Return the instruments a figure counts and, of them, those that fall short of it."""
        if figure == "on_time":
            counted = list(dict.fromkeys(due.instrument_id for due in self.due_dates))
            late = list(dict.fromkeys(due.instrument_id for due in self.due_dates if not due.met))
            return counted, late
        if figure == "unclassified":
            in_use = [fact for fact in self.facts if fact.in_use_on(self.as_of)]
            return [fact.id for fact in in_use], [fact.id for fact in in_use if fact.abc_class is None]
        found: InstrumentSet = getattr(self, figure)
        return found.counted, found.failing


@dataclass
class Dossier(FigureSets):
    """The dossier as of ``as_of``: the instrument figures, and the counts of the period and the history."""

    window: tuple[date, date]
    instruments: dict
    certificates: dict
    as_found: Rate
    standards: Rate
    complete_records: Rate
    confirmations: Rate
    nonconformity: dict
    interval_reviews: dict
    status_changes: dict
    reminders: dict
    history: dict
    #: Repeatability tests and stability assessments (JJF 1033) of the window: done and passed.
    stability_checks: dict

    def as_dict(self) -> dict:
        """Return every figure as plain data: rates as fractions with their parts."""
        inspection = self.inspection.rate
        return {
            "as_of": self.as_of,
            "window": {"from_": self.window[0], "to": self.window[1]},
            "instruments": self.instruments,
            "coverage": self.coverage.rate.as_dict(),
            "on_time": self.on_time.as_dict(),
            "inspection": inspection.as_dict()
            | _against(inspection, figures.INSPECTION_TARGET)
            | {
                "household": self.household.rate.as_dict()
                | _against(self.household.rate, figures.HOUSEHOLD_METER_TARGET),
                "other": self.other_mandatory.rate.as_dict()
                | _against(self.other_mandatory.rate, figures.INSPECTION_TARGET),
            },
            "certificates": self.certificates,
            "as_found": self.as_found.as_dict(),
            "standards": self.standards.as_dict(),
            "complete_records": self.complete_records.as_dict(),
            "confirmations": self.confirmations.as_dict(),
            "nonconformity": self.nonconformity,
            "interval_reviews": self.interval_reviews,
            "status_changes": self.status_changes,
            "reminders": self.reminders,
            "history": self.history,
            "stability_checks": self.stability_checks,
        }


def _against(rate: Rate, target: float) -> dict:
    return {"target": target, "meets_target": rate.meets(target)}


def compute(session: Session, org: Organization, as_of: date) -> Dossier:
    """Return the dossier of ``org`` as of the end of ``as_of`` (its local day)."""
    facts = figures.read_facts(session, org.id, org.timezone)
    window = figures.on_time_window(as_of)
    in_use = figures.in_use(facts, as_of)
    zone = ZoneInfo(org.timezone)
    period = Period(org.id, window[0], window[1], zone)
    report = verify_chain(session, org.id)
    head = session.get(HistoryHead, org.id)
    return Dossier(
        **vars(FigureSets.of(facts, as_of)),
        window=window,
        instruments=_instrument_counts(facts, in_use, as_of),
        certificates=_certificates(session, period),
        as_found=_as_found(session, period),
        standards=_standards(session, period),
        complete_records=_complete_records(session, period),
        confirmations=_confirmations(session, period),
        nonconformity=_nonconformity(session, period),
        interval_reviews=_interval_reviews(session, period),
        status_changes=_status_changes(session, period),
        reminders=_reminders(session, period),
        history={
            "events": report.checked,
            "verified": report.ok,
            "head_hash": head.last_hash if head is not None else None,
        },
        stability_checks=stability_queries.window_counts(session, org.id, window[0], window[1]),
    )


def _instrument_counts(facts: list[InstrumentFacts], in_use: list[InstrumentFacts], as_of: date) -> dict:
    classes = Counter(fact.abc_class for fact in in_use)
    return {
        "total": sum(1 for fact in facts if fact.entered_on <= as_of),
        "in_use": len(in_use),
        "by_abc": {cls: classes.get(cls, 0) for cls in ABC_CLASSES} | {"none": classes.get(None, 0)},
        "periodic": sum(1 for fact in in_use if fact.is_periodic),
        "scheduled": sum(1 for fact in in_use if fact.is_periodic and fact.next_due_on is not None),
        "mandatory": sum(1 for fact in in_use if fact.is_mandatory),
        # A complete ledger row: the department that keeps it and, under periodic control, its interval.
        "complete": sum(
            1
            for fact in in_use
            if fact.department_id is not None and (not fact.is_periodic or fact.interval_months is not None)
        ),
    }


@dataclass(frozen=True)
class Period:
    """The dossier's window for one organisation: local days, and the UTC moments that bound them."""

    org_id: int
    first: date
    last: date
    zone: ZoneInfo

    @property
    def starts(self) -> datetime:
        """Return the first moment of the window."""
        return datetime.combine(self.first, time(), self.zone)

    @property
    def ends(self) -> datetime:
        """Return the first moment after the window."""
        return datetime.combine(self.last + timedelta(days=1), time(), self.zone)

    def records(self, *columns) -> Select:
        """Return a select of the current records performed in the window."""
        return select(*columns).where(
            CalibrationRecord.org_id == self.org_id,
            CalibrationRecord.superseded_by_id.is_(None),
            CalibrationRecord.performed_on.between(self.first, self.last),
        )


def _certificates(session: Session, period: Period) -> dict:
    lab = func.coalesce(CalibrationRecord.lab_name, "")
    rows = session.execute(
        period.records(lab.label("lab"), func.count())
        .where(CalibrationRecord.certificate_no.is_not(None))
        .group_by(lab)
        .order_by(func.count().desc(), lab)
    ).all()
    return {
        "total": sum(count for _lab, count in rows),
        "by_lab": [{"lab": lab or None, "count": n} for lab, n in rows],
    }


def _as_found(session: Session, period: Period) -> Rate:
    renewing = CalibrationRecord.kind.in_(RENEWING_KINDS)
    with_as_found = (
        select(RecordReading.id)
        .where(
            RecordReading.org_id == period.org_id,
            RecordReading.record_id == CalibrationRecord.id,
            RecordReading.phase == "as_found",
        )
        .exists()
    )
    return Rate(
        session.scalar(period.records(func.count()).where(renewing, with_as_found)),
        session.scalar(period.records(func.count()).where(renewing)),
    )


def _standards(session: Session, period: Period) -> Rate:
    """Standards used in the window: identified, with a known validity that covered the day of use."""
    uses = (
        period.records(
            RecordStandard.standard_instrument_id,
            RecordStandard.certificate_no,
            RecordStandard.valid_until,
            CalibrationRecord.performed_on,
        )
        .select_from(CalibrationRecord)
        .join(
            RecordStandard,
            (RecordStandard.record_id == CalibrationRecord.id)
            & (RecordStandard.org_id == CalibrationRecord.org_id),
        )
    )
    rows = session.execute(uses).all()
    sound = sum(
        1
        for instrument_id, certificate_no, valid_until, used_on in rows
        if (instrument_id is not None or certificate_no)
        and valid_until is not None
        and valid_until >= used_on
    )
    return Rate(sound, len(rows))


def _complete_records(session: Session, period: Period) -> Rate:
    """Verifications and calibrations of the window with a certificate number and their standards named."""
    certified = CalibrationRecord.kind.in_(CERTIFIED_KINDS)
    names_standards = (
        select(RecordStandard.id)
        .where(RecordStandard.org_id == period.org_id, RecordStandard.record_id == CalibrationRecord.id)
        .exists()
    )
    return Rate(
        session.scalar(
            period.records(func.count()).where(
                certified, CalibrationRecord.certificate_no.is_not(None), names_standards
            )
        ),
        session.scalar(period.records(func.count()).where(certified)),
    )


def _confirmations(session: Session, period: Period) -> Rate:
    """Calibrations of the window and, of them, those given their metrological confirmation (计量确认)."""
    calibrations = CalibrationRecord.kind == "calibration"
    return Rate(
        session.scalar(
            period.records(func.count()).where(calibrations, CalibrationRecord.confirmation.is_not(None))
        ),
        session.scalar(period.records(func.count()).where(calibrations)),
    )


def _nonconformity(session: Session, period: Period) -> dict:
    cases = NonconformityCase
    opened = session.execute(
        select(cases.state, cases.impact_assessment.is_not(None)).where(
            cases.org_id == period.org_id, cases.opened_on.between(period.first, period.last)
        )
    ).all()
    closed = session.execute(
        select(cases.disposition, cases.opened_on, cases.closed_on).where(
            cases.org_id == period.org_id,
            cases.state == "closed",
            cases.closed_on.between(period.first, period.last),
        )
    ).all()
    days = [(closed_on - opened_on).days for _disposition, opened_on, closed_on in closed]
    return {
        "opened": len(opened),
        "assessed": sum(1 for _state, assessed in opened if assessed),
        "closed": len(closed),
        "dispositions": dict(sorted(Counter(disposition for disposition, *_ in closed).items())),
        "median_days_to_close": statistics.median(days) if days else None,
    }


def _interval_reviews(session: Session, period: Period) -> dict:
    rows = session.execute(
        select(Event.kind, func.count())
        .where(
            Event.org_id == period.org_id,
            Event.kind.in_(("interval.accepted", "interval.rejected")),
            Event.occurred_at >= period.starts,
            Event.occurred_at < period.ends,
        )
        .group_by(Event.kind)
    ).all()
    counts = dict(rows)
    accepted, rejected = counts.get("interval.accepted", 0), counts.get("interval.rejected", 0)
    return {"decided": accepted + rejected, "accepted": accepted, "rejected": rejected}


def _status_changes(session: Session, period: Period) -> dict:
    """Approved status changes of the window, and how many someone other than the requester approved."""
    rows = session.execute(
        select(StatusRequest.requested_by_id, StatusRequest.decided_by_id).where(
            StatusRequest.org_id == period.org_id,
            StatusRequest.state == "approved",
            StatusRequest.decided_at >= period.starts,
            StatusRequest.decided_at < period.ends,
        )
    ).all()
    by_other = sum(1 for requested_by, decided_by in rows if decided_by != requested_by)
    return {"approved": len(rows), "approved_by_other": Rate(by_other, len(rows)).as_dict()}


def _reminders(session: Session, period: Period) -> dict:
    """Due-date reminders delivered in the window, and to how many people."""
    sent = (
        Notification.org_id == period.org_id,
        Notification.kind == "due_digest",
        Notification.state == "sent",
        Notification.sent_at >= period.starts,
        Notification.sent_at < period.ends,
    )
    return {
        "sent": session.scalar(select(func.count()).where(*sent)),
        "recipients": session.scalar(select(func.count(distinct(Notification.to_address))).where(*sent)),
    }


def instruments_named(session: Session, org_id: int, ids: list[int]) -> list[Instrument]:
    """Return the instruments with ``ids`` of an organisation, in management-number order."""
    if not ids:
        return []
    return list(
        session.scalars(
            select(Instrument)
            .where(Instrument.org_id == org_id, Instrument.id.in_(ids))
            .order_by(Instrument.management_no)
        )
    )
