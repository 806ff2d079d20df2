"""The chain of standards above an instrument: its calibration, the standards used, theirs, and so on.

The chain starts at the instrument's newest current renewing record (verification, calibration or
self-check). Intermediate checks (期间核查) are left out: they confirm an instrument between
calibrations and give it no traceability, so their standards are not links of the chain. Each
standard that is an instrument of some ledger continues with the record that was in force for it on
the day it was used (the latest current renewing record on or before that day, as
:func:`service.traceability.operations._validity_on` reads it); an outside standard (a national
standard, another laboratory's) ends its branch.

Crossing into another organisation's ledger (the institute's standards) is allowed only along the
chain: a standard is read because a record already in the chain names it, and of it only its
management number, name, organisation, certificate, validity and laboratory are read. Those nodes
carry no ids and no links unless the viewer may open them.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from models import CalibrationRecord, Instrument, Organization, RecordStandard
from service.actors import Actor
from service.ledger.renewal import RENEWING_KINDS
from service.scoping import get_in_org
from service.traceability.chain_svg import ChainLink, ChainNode

logger = logging.getLogger(__name__)

#: Levels of standards followed above the instrument before the chain is cut.
MAX_DEPTH = 8

#: ``href(org_id, instrument_id)``: an instrument node's page, ``None`` when the viewer may not open it.
HrefFor = Callable[[int, int], str | None]


@dataclass(frozen=True)
class ChainEntry:
    """A node of the chain as plain data: the instrument, a standard of a ledger, or an outside one."""

    key: str
    name: str
    management_no: str | None
    #: The ledger's organisation (``None`` for an outside standard).
    organization: str | None
    #: The certificate of the record used for this node, as it stood on the day of use.
    certificate_no: str | None
    valid_until: date | None
    lab_name: str | None
    is_root: bool = False
    is_external: bool = False
    #: Set only for instruments of the viewer's own ledger (or, for an institute, of its own ledger).
    instrument_id: int | None = None
    href: str | None = None

    def node(self) -> ChainNode:
        """Return the node as :func:`render_chain` draws it."""
        if self.is_external:
            subtitle = " · ".join(p for p in (self.management_no, self.lab_name) if p)
        else:
            subtitle = " · ".join(p for p in (self.management_no, self.organization) if p)
        return ChainNode(
            key=self.key,
            title=self.name,
            subtitle=subtitle,
            certificate=self.certificate_no,
            valid_until=self.valid_until,
            href=self.href,
            external=self.is_external,
        )

    def as_dict(self) -> dict:
        """Return the node for the JSON API."""
        return {
            "key": self.key,
            "name": self.name,
            "management_no": self.management_no,
            "organization": self.organization,
            "certificate_no": self.certificate_no,
            "valid_until": self.valid_until.isoformat() if self.valid_until else None,
            "lab_name": self.lab_name,
            "is_root": self.is_root,
            "is_external": self.is_external,
            "instrument_id": self.instrument_id,
        }


@dataclass(frozen=True)
class ChainStep:
    """A link as plain data: a record of ``child`` (``kind``, on ``used_on``) used the standard ``parent``."""

    child: str
    parent: str
    kind: str
    used_on: date
    #: The standard's certificate, validity and laboratory as copied onto the record on the day.
    certificate_no: str | None
    valid_until: date | None
    lab_name: str | None
    #: The standard's certificate had run out on ``used_on``.
    expired: bool

    def as_dict(self) -> dict:
        """Return the link for the JSON API."""
        return {
            "child": self.child,
            "parent": self.parent,
            "kind": self.kind,
            "used_on": self.used_on.isoformat(),
            "certificate_no": self.certificate_no,
            "valid_until": self.valid_until.isoformat() if self.valid_until else None,
            "lab_name": self.lab_name,
            "expired": self.expired,
        }


@dataclass
class Chain:
    """The chain of standards above one instrument: nodes, links and where it was cut."""

    root: str
    entries: list[ChainEntry] = field(default_factory=list)
    steps: list[ChainStep] = field(default_factory=list)
    #: Some standard at ``max_depth`` had standards of its own that were not followed.
    truncated: bool = False

    @property
    def nodes(self) -> list[ChainNode]:
        """Return the nodes for :func:`render_chain`."""
        return [entry.node() for entry in self.entries]

    def links(self, note: Callable[[ChainStep], str | None] | None = None) -> list[ChainLink]:
        """Return the links for :func:`render_chain`; ``note`` gives the (translated) text beside a link."""
        return [
            ChainLink(
                child=step.child,
                parent=step.parent,
                used_on=step.used_on,
                expired=step.expired,
                note=note(step) if note else None,
            )
            for step in self.steps
        ]

    @property
    def by_key(self) -> dict[str, ChainEntry]:
        """Return the nodes by key."""
        return {entry.key: entry for entry in self.entries}

    @property
    def expired_steps(self) -> list[ChainStep]:
        """Return the links whose standard was out of validity on the day it was used."""
        return [step for step in self.steps if step.expired]

    def as_dict(self) -> dict:
        """Return the chain for the JSON API."""
        return {
            "root": self.root,
            "truncated": self.truncated,
            "nodes": [entry.as_dict() for entry in self.entries],
            "links": [step.as_dict() for step in self.steps],
        }


@dataclass(frozen=True)
class _Record:
    """The columns of a record the chain needs (nothing else of another ledger is read)."""

    id: int
    org_id: int
    kind: str
    performed_on: date
    certificate_no: str | None
    valid_until: date | None
    lab_name: str | None


_RECORD_COLUMNS = (
    CalibrationRecord.id,
    CalibrationRecord.org_id,
    CalibrationRecord.kind,
    CalibrationRecord.performed_on,
    CalibrationRecord.certificate_no,
    # The due date the record gives is the validity the chain shows (as ``_validity_on`` copies it).
    CalibrationRecord.next_due_on,
    CalibrationRecord.valid_until,
    CalibrationRecord.lab_name,
)


def _record(row) -> _Record:
    return _Record(
        row.id,
        row.org_id,
        row.kind,
        row.performed_on,
        row.certificate_no,
        row.next_due_on or row.valid_until,
        row.lab_name,
    )


def _newest_renewing(
    session: Session, org_id: int, instrument_id: int, on_or_before: date | None, kinds=RENEWING_KINDS
):
    """Return the latest current renewing record of an instrument (on or before a day), read across tenants.

    Called only for the viewer's own instrument or for a standard named by a record already in the chain.
    """
    stmt = (
        select(*_RECORD_COLUMNS)
        .where(
            CalibrationRecord.current_of(org_id, instrument_id),
            CalibrationRecord.kind.in_(kinds),
        )
        .order_by(CalibrationRecord.performed_on.desc(), CalibrationRecord.id.desc())
        .limit(1)
        .execution_options(all_tenants=True)
    )
    if on_or_before is not None:
        stmt = stmt.where(CalibrationRecord.performed_on <= on_or_before)
    row = session.execute(stmt).first()
    return _record(row) if row is not None else None


def _standards_of(session: Session, record: _Record) -> list:
    """Return the standards a record names, in the order written (the copies made on the day)."""
    return list(
        session.execute(
            select(
                RecordStandard.standard_org_id,
                RecordStandard.standard_instrument_id,
                RecordStandard.management_no,
                RecordStandard.name,
                RecordStandard.certificate_no,
                RecordStandard.valid_until,
                RecordStandard.lab_name,
            )
            .where(RecordStandard.org_id == record.org_id, RecordStandard.record_id == record.id)
            .order_by(RecordStandard.id)
            .execution_options(all_tenants=True)
        )
    )


def _names_standards(session: Session, record: _Record) -> bool:
    return bool(
        session.scalar(
            select(
                exists().where(RecordStandard.org_id == record.org_id, RecordStandard.record_id == record.id)
            ).execution_options(all_tenants=True)
        )
    )


def _outside_identity(used) -> tuple:
    """Return what identifies an outside standard, so one named on several records is one node."""
    return ("outside", used.name, used.management_no, used.certificate_no, used.lab_name)


def standards_chain(
    session: Session,
    actor: Actor,
    instrument_id: int,
    max_depth: int = MAX_DEPTH,
    href: HrefFor | None = None,
) -> Chain:
    """Return the chain of standards above one of the actor's instruments, up to ``max_depth`` levels.

    Node keys are opaque (``n0`` is the instrument); cycles end where they close (the link is kept,
    the node is not followed twice).
    """
    actor.require("ledger.read")
    instrument = get_in_org(session, Instrument, instrument_id, actor)
    own_orgs = {actor.org_id, actor.home_org_id}
    org_names: dict[int, str | None] = {}

    def org_name(org_id: int) -> str | None:
        if org_id not in org_names:
            org_names[org_id] = session.scalar(select(Organization.name).where(Organization.id == org_id))
        return org_names[org_id]

    def link_to(org_id: int, target_id: int) -> tuple[int | None, str | None]:
        if org_id not in own_orgs:
            return None, None
        return target_id, href(org_id, target_id) if href else None

    # A mandatory instrument's traceability is its verification's (its other work does not renew it).
    kinds = ("verification",) if instrument.is_mandatory else RENEWING_KINDS
    record = _newest_renewing(session, instrument.org_id, instrument.id, None, kinds)
    root_key = "n0"
    root_id, root_href = link_to(instrument.org_id, instrument.id)
    chain = Chain(root=root_key)
    chain.entries.append(
        ChainEntry(
            key=root_key,
            name=instrument.name,
            management_no=instrument.management_no,
            organization=org_name(instrument.org_id),
            certificate_no=record.certificate_no if record else instrument.certificate_no,
            valid_until=record.valid_until if record else (instrument.next_due_on or instrument.valid_until),
            lab_name=record.lab_name if record else instrument.lab,
            is_root=True,
            instrument_id=root_id,
            href=root_href,
        )
    )
    keys: dict[tuple, str] = {("instrument", instrument.org_id, instrument.id): root_key}
    followed: set[str] = {root_key}
    seen_steps: set[ChainStep] = set()
    frontier: list[tuple[str, _Record, int]] = [(root_key, record, 0)] if record and max_depth > 0 else []
    while frontier:
        upper: list[tuple[str, _Record, int]] = []
        for child_key, child_record, depth in frontier:
            for used in _standards_of(session, child_record):
                in_ledger = used.standard_instrument_id is not None and used.standard_org_id is not None
                identity = (
                    ("instrument", used.standard_org_id, used.standard_instrument_id)
                    if in_ledger
                    else _outside_identity(used)
                )
                key = keys.get(identity)
                if key == child_key:
                    continue  # a record naming its own instrument as the standard
                if key is None:
                    key = keys[identity] = f"n{len(keys)}"
                    target_id, target_href = (
                        link_to(used.standard_org_id, used.standard_instrument_id)
                        if in_ledger
                        else (None, None)
                    )
                    chain.entries.append(
                        ChainEntry(
                            key=key,
                            name=used.name,
                            management_no=used.management_no,
                            organization=org_name(used.standard_org_id) if in_ledger else None,
                            certificate_no=used.certificate_no,
                            valid_until=used.valid_until,
                            lab_name=used.lab_name,
                            is_external=not in_ledger,
                            instrument_id=target_id,
                            href=target_href,
                        )
                    )
                step = ChainStep(
                    child=child_key,
                    parent=key,
                    kind=child_record.kind,
                    used_on=child_record.performed_on,
                    certificate_no=used.certificate_no,
                    valid_until=used.valid_until,
                    lab_name=used.lab_name,
                    expired=used.valid_until is not None and used.valid_until < child_record.performed_on,
                )
                if step not in seen_steps:
                    seen_steps.add(step)
                    chain.steps.append(step)
                if not in_ledger or key in followed:
                    continue  # an outside standard ends the branch; a cycle ends where it closes
                followed.add(key)
                in_force = _newest_renewing(
                    session, used.standard_org_id, used.standard_instrument_id, child_record.performed_on
                )
                if in_force is None:
                    continue
                if depth + 2 > max_depth:
                    chain.truncated = chain.truncated or _names_standards(session, in_force)
                    continue
                upper.append((key, in_force, depth + 1))
        frontier = upper
    return chain
