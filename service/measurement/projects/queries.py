"""Reading comparison projects, as each side sees them.

The institute reads its own projects (tenant rows). A participating firm reads a project across
tenants, always through its participant row (``firm_id`` = the firm): the protocol and its own
results, and everyone's results and the figures only once the report is published.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from models import ComparisonProject, Instrument, ProjectParticipant, ProjectPoint, ProjectResult
from service.actors import Actor
from service.errors import NotFound
from service.i18n import N_
from service.measurement.projects import rules
from service.scoping import get_in_org, parse_id

ACROSS = {"all_tenants": True}


def side_of(actor: Actor) -> str:
    """Which side the actor reads from: "institute" or "firm" (404 through a client link)."""
    if actor.via_client_link:
        raise NotFound(N_("Not found."))
    return "institute" if actor.home_org_kind == "institute" else "firm"


@dataclass
class Row:
    """A participant as the report shows it: its results and degrees of equivalence per point."""

    participant: ProjectParticipant
    management_no: str | None
    results: list[ProjectResult | None]
    degrees: list[rules.Degree | None] = field(default_factory=list)

    @property
    def has_results(self) -> bool:
        """Whether the participant has entered its results."""
        return any(r is not None for r in self.results)


@dataclass
class ProjectView:
    """A project with what the reader may see: points, rows and (when allowed) each point's figures."""

    project: ComparisonProject
    points: list[ProjectPoint]
    rows: list[Row]
    #: Per point; empty when the reader may not see the figures (a participant before publication).
    figures: list[rules.PointFigures]
    side: str
    #: The reader's own participant row (a firm), or None.
    own: Row | None = None

    @property
    def problems(self) -> list[tuple[ProjectPoint, str]]:
        """The points whose reference cannot be used yet, with the reason."""
        return [(p, f.problem) for p, f in zip(self.points, self.figures, strict=True) if f.problem]

    @property
    def ready(self) -> bool:
        """Whether every point has a usable reference and someone has results: the report may go out."""
        return bool(self.figures) and not self.problems and any(r.has_results for r in self.rows)


def list_projects(
    session: Session, actor: Actor
) -> list[tuple[ComparisonProject, ProjectParticipant | None]]:
    """Return the institute's projects, or the firm's (with its participant row), newest first."""
    if side_of(actor) == "institute":
        actor.require_institute("ledger.read")
        rows = session.scalars(
            select(ComparisonProject)
            .where(ComparisonProject.org_id == actor.org_id)
            .order_by(ComparisonProject.starts_on.desc(), ComparisonProject.id.desc())
        )
        return [(project, None) for project in rows]
    pairs = session.execute(
        select(ComparisonProject, ProjectParticipant)
        .join(
            ProjectParticipant,
            and_(
                ProjectParticipant.project_id == ComparisonProject.id,
                ProjectParticipant.org_id == ComparisonProject.org_id,
            ),
        )
        .where(ProjectParticipant.firm_id == actor.org_id)
        .order_by(ComparisonProject.starts_on.desc(), ComparisonProject.id.desc())
        .execution_options(**ACROSS)
    ).all()
    return [(project, participant) for project, participant in pairs]


def takes_part(session: Session, actor: Actor) -> bool:
    """Whether the actor's firm takes part in any comparison project (the navigation shows them then)."""
    if actor.via_client_link or actor.home_org_kind != "firm":
        return False
    found = session.scalar(
        select(ProjectParticipant.id)
        .where(ProjectParticipant.firm_id == actor.org_id)
        .limit(1)
        .execution_options(**ACROSS)
    )
    return found is not None


def get_project(session: Session, actor: Actor, project_id) -> ComparisonProject:
    """Return one project of the institute (NotFound for anyone else)."""
    actor.require_institute("ledger.read")
    return get_in_org(session, ComparisonProject, project_id, actor)


def own_participation(session: Session, actor: Actor, project_id) -> ProjectParticipant:
    """Return the firm's participant row in ``project_id`` (NotFound when it does not take part)."""
    if side_of(actor) != "firm" or parse_id(project_id) is None:
        raise NotFound(N_("Not found."))
    participant = session.scalar(
        select(ProjectParticipant)
        .where(ProjectParticipant.project_id == project_id, ProjectParticipant.firm_id == actor.org_id)
        .execution_options(**ACROSS)
    )
    if participant is None:
        raise NotFound(N_("Not found."))
    return participant


def project_view(session: Session, actor: Actor, project_id) -> ProjectView:
    """Return the project as the actor may see it: the institute all of it, a participant its share."""
    if side_of(actor) == "institute":
        project = get_project(session, actor, project_id)
        return _view(session, project, "institute", None)
    participant = own_participation(session, actor, project_id)
    project = session.scalar(
        select(ComparisonProject)
        .where(ComparisonProject.id == participant.project_id, ComparisonProject.org_id == participant.org_id)
        .execution_options(**ACROSS)
    )
    return _view(session, project, "firm", participant.id)


def report_view(session: Session, actor: Actor, project_id) -> ProjectView:
    """Return the report: the institute's preview at any time, a participant's once published."""
    view = project_view(session, actor, project_id)
    if view.side == "firm" and not view.project.is_published:
        raise NotFound(N_("Not found."))
    return view


def _view(session: Session, project: ComparisonProject, side: str, own_id: int | None) -> ProjectView:
    points = list(
        session.scalars(
            select(ProjectPoint)
            .where(ProjectPoint.org_id == project.org_id, ProjectPoint.project_id == project.id)
            .order_by(ProjectPoint.position)
            .execution_options(**ACROSS)
        )
    )
    participants = list(
        session.scalars(
            select(ProjectParticipant)
            .where(ProjectParticipant.org_id == project.org_id, ProjectParticipant.project_id == project.id)
            .order_by(ProjectParticipant.id)
            .execution_options(**ACROSS)
        )
    )
    # Before publication a participant reads its own row only: nothing of the others leaves the query.
    hidden = side == "firm" and not project.is_published
    if hidden:
        participants = [p for p in participants if p.id == own_id]
    ids = [p.id for p in participants]
    results = (
        session.scalars(
            select(ProjectResult)
            .where(ProjectResult.org_id == project.org_id, ProjectResult.participant_id.in_(ids))
            .execution_options(**ACROSS)
        ).all()
        if ids
        else []
    )
    by_key = {(r.participant_id, r.point_id): r for r in results}
    numbers = _management_nos(session, participants)
    rows = [
        Row(p, numbers.get(p.id), [by_key.get((p.id, point.id)) for point in points]) for p in participants
    ]
    figures: list[rules.PointFigures] = []
    if not hidden:
        for index, point in enumerate(points):
            entries = [_entry(row.results[index]) for row in rows]
            lead = (point.lead_value, point.lead_uncertainty) if point.lead_value is not None else None
            figure = rules.point_figures(project.reference_kind, lead, entries)
            figures.append(figure)
            for row, degree in zip(rows, figure.degrees, strict=True):
                row.degrees.append(degree)
    own = next((row for row in rows if row.participant.id == own_id), None)
    return ProjectView(project, points, rows, figures, side, own)


def _entry(result: ProjectResult | None) -> rules.Entry | None:
    if result is None:
        return None
    return rules.Entry(result.value, result.uncertainty, result.is_in_reference)


def _management_nos(session: Session, participants: list[ProjectParticipant]) -> dict[int, str]:
    """Return each participant's instrument management number (the firms' rows, read across tenants)."""
    pairs = [(p.firm_id, p.instrument_id, p.id) for p in participants if p.instrument_id is not None]
    if not pairs:
        return {}
    rows = session.execute(
        select(Instrument.org_id, Instrument.id, Instrument.management_no)
        .where(or_(*(and_(Instrument.org_id == f, Instrument.id == i) for f, i, _ in pairs)))
        .execution_options(**ACROSS)
    ).all()
    found = {(org, iid): number for org, iid, number in rows}
    return {pid: found[(f, i)] for f, i, pid in pairs if (f, i) in found}
