"""Organise a comparison project: protocol, participants, results, reference, publication.

Publication records each client participant's result on the instrument it measured through
:func:`service.measurement.comparisons.operations.record_comparison`, as the institute working in
the client's ledger on site: an |En| > 1 opens a nonconformity case there as any comparison does.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from models import (
    ComparisonProject,
    Instrument,
    Organization,
    ProjectParticipant,
    ProjectPoint,
    ProjectResult,
)
from service.actors import Actor
from service.db import scoped_to
from service.errors import FIX_FIELDS, Conflict, Invalid, NotFound, invalid_field
from service.history.chain import record_event, records_history
from service.i18n import N_
from service.measurement.comparisons.operations import record_comparison
from service.measurement.projects import queries
from service.measurement.projects.schemas import (
    MAX_PARTICIPANTS,
    ParticipantIn,
    ProjectIn,
    ReferenceIn,
    ResultsIn,
)
from service.schemas import load_or_invalid
from service.scoping import parse_id
from service.tenancy.queries import active_link

LOCKED = N_("The report is published: the project and its results are locked.")


def _require_open(project: ComparisonProject) -> None:
    if project.is_published:
        raise Conflict(LOCKED)


def _check_dates(data: Mapping) -> None:
    if data["results_due_on"] < data["starts_on"]:
        raise invalid_field("results_due_on", N_("Not before the start."))


def _check_lead(kind: str, points: list[dict]) -> None:
    errors = {}
    for index, point in enumerate(points):
        for name in ("lead_value", "lead_uncertainty"):
            if kind == "lead_lab" and point.get(name) is None:
                errors[f"points.{index}.{name}"] = [
                    N_("The lead laboratory's value is the reference: give it.")
                ]
        if point.get("lead_uncertainty") is not None and point["lead_uncertainty"] <= 0:
            errors[f"points.{index}.lead_uncertainty"] = [N_("Must be greater than zero.")]
    if errors:
        raise Invalid(FIX_FIELDS, errors)


@records_history
def create_project(session: Session, actor: Actor, payload: Mapping) -> ComparisonProject:
    """Create a comparison project from its protocol; the institute is its lead laboratory."""
    actor.require_institute("ledger.write")
    data = load_or_invalid(ProjectIn(), payload)
    _check_dates(data)
    points = data.pop("points")
    _check_lead(data["reference_kind"], points)
    project = ComparisonProject(org_id=actor.org_id, **data)
    session.add(project)
    session.flush()
    for position, point in enumerate(points, 1):
        session.add(ProjectPoint(org_id=actor.org_id, project_id=project.id, position=position, **point))
    session.flush()
    record_event(
        session,
        actor,
        "comparison_project.created",
        ("comparison_project", project.id),
        {"title": project.title},
    )
    return project


def update_project(session: Session, actor: Actor, project_id, payload: Mapping) -> ComparisonProject:
    """Change the protocol; points may be added or removed only while no result is in."""
    actor.require_institute("ledger.write")
    project = queries.get_project(session, actor, project_id)
    _require_open(project)
    data = load_or_invalid(ProjectIn(), payload)
    _check_dates(data)
    points = data.pop("points")
    _check_lead(data["reference_kind"], points)
    existing = list(
        session.scalars(
            select(ProjectPoint).where(ProjectPoint.project_id == project.id).order_by(ProjectPoint.position)
        )
    )
    if len(points) != len(existing) and _result_count(session, project) > 0:
        raise invalid_field("points", N_("Results are in: points can be changed but not added or removed."))
    for name, value in data.items():
        setattr(project, name, value)
    for position, values in enumerate(points, 1):
        if position <= len(existing):
            for name, value in values.items():
                setattr(existing[position - 1], name, value)
        else:
            session.add(ProjectPoint(org_id=actor.org_id, project_id=project.id, position=position, **values))
    for point in existing[len(points) :]:
        session.delete(point)
    session.flush()
    return project


def _result_count(session: Session, project: ComparisonProject) -> int:
    return session.scalar(
        select(func.count(ProjectResult.id))
        .join(ProjectParticipant, ProjectParticipant.id == ProjectResult.participant_id)
        .where(ProjectParticipant.project_id == project.id)
    )


def add_participant(session: Session, actor: Actor, project_id, payload: Mapping) -> ProjectParticipant:
    """Add a participant: one of the institute's client firms, or an outside laboratory by name."""
    actor.require_institute("ledger.write")
    project = queries.get_project(session, actor, project_id)
    _require_open(project)
    data = load_or_invalid(ParticipantIn(), payload)
    firm_id = data.get("firm_id")
    if firm_id is not None:
        if parse_id(firm_id) is None or active_link(session, actor.home_org_id, firm_id) is None:
            raise invalid_field("firm_id", N_("Choose one of the institute's clients."))
        taken = session.scalar(
            select(ProjectParticipant.id).where(
                ProjectParticipant.project_id == project.id, ProjectParticipant.firm_id == firm_id
            )
        )
        if taken is not None:
            raise invalid_field("firm_id", N_("This client takes part already."))
        if not data.get("lab_name"):
            data["lab_name"] = session.get(Organization, firm_id).name
    elif not data.get("lab_name"):
        raise invalid_field("lab_name", N_("Name the laboratory, or choose a client."))
    count = session.scalar(
        select(func.count(ProjectParticipant.id)).where(ProjectParticipant.project_id == project.id)
    )
    if count >= MAX_PARTICIPANTS:
        raise invalid_field("lab_name", N_("A project takes at most 60 participants."))
    participant = ProjectParticipant(org_id=actor.org_id, project_id=project.id, **data)
    session.add(participant)
    session.flush()
    return participant


def remove_participant(session: Session, actor: Actor, project_id, participant_id) -> None:
    """Take a participant out of an open project, with any results it had."""
    actor.require_institute("ledger.write")
    project = queries.get_project(session, actor, project_id)
    _require_open(project)
    participant = _participant_of(session, project, participant_id)
    for result in session.scalars(
        select(ProjectResult).where(ProjectResult.participant_id == participant.id)
    ):
        session.delete(result)
    session.flush()
    session.delete(participant)
    session.flush()


def _participant_of(session: Session, project: ComparisonProject, participant_id) -> ProjectParticipant:
    """Return the participant ``participant_id`` of the institute's ``project`` (NotFound otherwise)."""
    if parse_id(participant_id) is None:
        raise NotFound(N_("Not found."))
    participant = session.scalar(
        select(ProjectParticipant).where(
            ProjectParticipant.id == participant_id, ProjectParticipant.project_id == project.id
        )
    )
    if participant is None:
        raise NotFound(N_("Not found."))
    return participant


def enter_results(
    session: Session, actor: Actor, project_id, participant_id, payload: Mapping, today: date, now: datetime
) -> ProjectParticipant:
    """Enter a participant's results on its behalf (the institute), replacing any entered before."""
    actor.require_institute("ledger.write")
    project = queries.get_project(session, actor, project_id)
    participant = _participant_of(session, project, participant_id)
    if participant.firm_id is not None and active_link(session, actor.org_id, participant.firm_id) is None:
        # A client that ended its link keeps its ledger to itself: it may still enter its own results.
        raise invalid_field(
            "management_no", N_("This client is no longer linked: it enters its own results.")
        )
    _store_results(session, actor, project, participant, payload, today, now)
    return participant


def enter_own_results(
    session: Session, actor: Actor, project_id, payload: Mapping, today: date, now: datetime
) -> ProjectParticipant:
    """Enter the acting firm's own results in a project it takes part in, replacing its earlier ones."""
    actor.require("ledger.write")
    participant = queries.own_participation(session, actor, project_id)
    project = session.scalar(
        select(ComparisonProject)
        .where(ComparisonProject.id == participant.project_id, ComparisonProject.org_id == participant.org_id)
        .execution_options(**queries.ACROSS)
    )
    _store_results(session, actor, project, participant, payload, today, now)
    return participant


def _store_results(
    session: Session,
    actor: Actor,
    project: ComparisonProject,
    participant: ProjectParticipant,
    payload: Mapping,
    today: date,
    now: datetime,
) -> None:
    _require_open(project)
    data = load_or_invalid(ResultsIn(), payload)
    if data["measured_on"] > today:
        raise invalid_field("measured_on", N_("Not in the future."))
    points = list(
        session.scalars(
            select(ProjectPoint)
            .where(ProjectPoint.org_id == project.org_id, ProjectPoint.project_id == project.id)
            .order_by(ProjectPoint.position)
            .execution_options(**queries.ACROSS)
        )
    )
    results = data["results"]
    if len(results) != len(points):
        raise invalid_field("results", N_("Give one result per point of the protocol."))
    errors = {
        f"results.{index}.uncertainty": [N_("Must be greater than zero.")]
        for index, result in enumerate(results)
        if result["uncertainty"] <= 0
    }
    if errors:
        raise Invalid(FIX_FIELDS, errors)
    instrument_id = None
    if participant.firm_id is not None:
        if not data.get("management_no"):
            raise invalid_field("management_no", N_("Give the management number of the instrument measured."))
        instrument_id = session.scalar(
            select(Instrument.id)
            .where(
                Instrument.org_id == participant.firm_id, Instrument.management_no == data["management_no"]
            )
            .execution_options(**queries.ACROSS)
        )
        if instrument_id is None:
            raise invalid_field(
                "management_no", N_("No instrument of the ledger has this management number.")
            )
    with scoped_to(session, project.org_id):
        old = session.scalars(
            select(ProjectResult).where(
                ProjectResult.org_id == project.org_id, ProjectResult.participant_id == participant.id
            )
        ).all()
        for result in old:
            session.delete(result)
        session.flush()
        for point, result in zip(points, results, strict=True):
            session.add(
                ProjectResult(
                    org_id=project.org_id,
                    participant_id=participant.id,
                    point_id=point.id,
                    value=result["value"],
                    uncertainty=result["uncertainty"],
                )
            )
        participant.instrument_id = instrument_id
        participant.measured_on = data["measured_on"]
        participant.submitted_at = now
        participant.entered_by_name = actor.name


def set_reference(session: Session, actor: Actor, project_id, payload: Mapping) -> ComparisonProject:
    """Choose which results stay out of the weighted mean (the discrepant ones); the rest are in."""
    actor.require_institute("ledger.write")
    project = queries.get_project(session, actor, project_id)
    _require_open(project)
    excluded = set(load_or_invalid(ReferenceIn(), payload)["excluded"])
    results = session.scalars(
        select(ProjectResult)
        .join(ProjectParticipant, ProjectParticipant.id == ProjectResult.participant_id)
        .where(ProjectParticipant.project_id == project.id)
    ).all()
    unknown = excluded - {r.id for r in results}
    if unknown:
        raise invalid_field("excluded", N_("Not a result of this project."))
    for result in results:
        result.is_in_reference = result.id not in excluded
    session.flush()
    return project


@records_history
def publish(
    session: Session, actor: Actor, project_id, today: date, now: datetime, base_url: str = ""
) -> ComparisonProject:
    """Publish the report once every point has a usable reference; record each client's result.

    Each participating client firm (still linked) gets the result recorded on the instrument it
    measured, with the reference, as a provincial comparison: En and cases as for any comparison.
    """
    actor.require_institute("ledger.write")
    project = queries.get_project(session, actor, project_id)
    _require_open(project)
    view = queries.project_view(session, actor, project.id)
    if not view.ready:
        problems = [str(problem) for _point, problem in view.problems]
        raise Invalid(
            N_("The report cannot be published yet."), {"reference": problems or [N_("No results yet.")]}
        )
    institute = session.get(Organization, actor.org_id)
    session.flush()
    recorded: list[tuple[ProjectParticipant, int]] = []
    for row in view.rows:
        participant = row.participant
        if participant.firm_id is None or participant.instrument_id is None or not row.has_results:
            continue
        if active_link(session, actor.org_id, participant.firm_id) is None:
            continue
        payload = _comparison_payload(project, institute, view, row)
        lab = actor.on_site(participant.firm_id, institute.name)
        with scoped_to(session, participant.firm_id):
            comparison = record_comparison(
                session, lab, participant.instrument_id, payload, today, now, base_url
            )
        recorded.append((participant, comparison.id))
    for participant, comparison_id in recorded:
        participant.comparison_id = comparison_id
    project.state = "published"
    project.published_on = today
    project.published_by_name = actor.name
    record_event(
        session,
        actor,
        "comparison_project.published",
        ("comparison_project", project.id),
        {"title": project.title, "recorded": [c for _p, c in recorded]},
    )
    session.flush()
    return project


def _comparison_payload(project: ComparisonProject, institute: Organization, view, row) -> dict:
    """The result of one participant as ``record_comparison`` takes it."""
    points = []
    for point, figure, result in zip(view.points, view.figures, row.results, strict=True):
        if result is None:
            continue
        reference = figure.reference
        points.append(
            {
                "nominal": point.nominal,
                "reference_value": reference.value,
                "reference_uncertainty": reference.uncertainty,
                "lab_value": result.value,
                "lab_uncertainty": result.uncertainty,
                "is_lab_in_reference": reference.kind == "weighted_mean" and result.is_in_reference,
            }
        )
    scheme = " ".join(filter(None, [project.code, project.title]))[:200]
    return {
        "kind": "comparison",
        "scheme": scheme,
        "organiser_kind": "provincial",
        "organiser_name": institute.name[:200],
        "quantity": project.quantity[:100],
        "performed_on": (row.participant.measured_on or project.starts_on).isoformat(),
        "points": points,
    }
