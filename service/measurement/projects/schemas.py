"""What a comparison project accepts and shows (web forms and API alike)."""

from __future__ import annotations

from marshmallow import fields, validate

from models.projects import PROJECT_STATES, REFERENCE_KINDS
from service.i18n import N_
from service.schemas import Choice, StrictSchema, Text
from service.traceability.schemas import Number

#: Points one protocol may have, and participants one project.
MAX_POINTS = 20
MAX_PARTICIPANTS = 60
DECIMAL_STRING = {"type": "string", "format": "decimal"}


class ProjectPointIn(StrictSchema):
    """A point of the protocol; the lead lab's value and U (k = 2) when it is the reference."""

    nominal = Number(required=True, allow_none=False)
    lead_value = Number()
    lead_uncertainty = Number()


class ProjectIn(StrictSchema):
    """The protocol of a comparison project: quantity, transfer standard, points, schedule, reference."""

    code = Text(40)
    title = Text(200, required=True)
    quantity = Text(100, required=True)
    unit = Text(20)
    transfer_standard = Text(200, required=True)
    protocol = Text(4000, multiline=True)
    starts_on = fields.Date(required=True)
    results_due_on = fields.Date(required=True)
    reference_kind = Choice(REFERENCE_KINDS, load_default="weighted_mean")
    points = fields.List(
        fields.Nested(ProjectPointIn),
        required=True,
        validate=validate.Length(
            min=1, max=MAX_POINTS, error=N_("Give between %(min)s and %(max)s points.", min=1, max=MAX_POINTS)
        ),
    )


class ParticipantIn(StrictSchema):
    """A participant: a linked client firm (``firm_id``) or an outside laboratory by name and CNAS number."""

    firm_id = fields.Integer(allow_none=True)
    lab_name = Text(200)
    cnas_no = Text(40)


class ResultIn(StrictSchema):
    """A participant's value at one point with its expanded uncertainty (k = 2)."""

    value = Number(required=True, allow_none=False)
    uncertainty = Number(required=True, allow_none=False)


class ResultsIn(StrictSchema):
    """A participant's results: one per point, in the protocol's order.

    ``management_no`` names the firm's instrument measured (a client firm's participation): the
    result is recorded on it when the report is published.
    """

    measured_on = fields.Date(required=True)
    management_no = Text(64)
    results = fields.List(
        fields.Nested(ResultIn),
        required=True,
        validate=validate.Length(min=1, max=MAX_POINTS),
    )


class ReferenceIn(StrictSchema):
    """Which results stay out of the weighted mean (ids of results); every other one is in."""

    excluded = fields.List(fields.Integer(), load_default=list)


class PointOut(StrictSchema):
    """A protocol point."""

    id = fields.Integer()
    position = fields.Integer()
    nominal = fields.Decimal(as_string=True, metadata=DECIMAL_STRING)
    lead_value = fields.Decimal(as_string=True, allow_none=True, metadata=DECIMAL_STRING)
    lead_uncertainty = fields.Decimal(as_string=True, allow_none=True, metadata=DECIMAL_STRING)


class ResultOut(StrictSchema):
    """A participant's value at a point, with its degree of equivalence and En once a reference exists."""

    id = fields.Integer()
    position = fields.Integer()
    value = fields.Decimal(as_string=True, metadata=DECIMAL_STRING)
    uncertainty = fields.Decimal(as_string=True, metadata=DECIMAL_STRING)
    in_reference = fields.Boolean()
    d = fields.Decimal(as_string=True, allow_none=True, metadata=DECIMAL_STRING)
    u_d = fields.Float(allow_none=True, metadata={"description": "U(d), k = 2"})
    en = fields.Float(allow_none=True)
    verdict = fields.String(allow_none=True)


class ParticipantOut(StrictSchema):
    """A participant with its results (another participant's only once the report is published)."""

    id = fields.Integer()
    firm_id = fields.Integer(allow_none=True)
    lab_name = fields.String()
    cnas_no = fields.String(allow_none=True)
    management_no = fields.String(allow_none=True)
    measured_on = fields.Date(allow_none=True)
    entered_by_name = fields.String(allow_none=True)
    comparison_id = fields.Integer(allow_none=True)
    results = fields.List(fields.Nested(ResultOut))


class ReferenceOut(StrictSchema):
    """The reference of a point: value, U (k = 2), chi² check, or why it cannot be used yet."""

    position = fields.Integer()
    value = fields.Decimal(as_string=True, allow_none=True, metadata=DECIMAL_STRING)
    uncertainty = fields.Decimal(as_string=True, allow_none=True, metadata=DECIMAL_STRING)
    chi2 = fields.Float(allow_none=True)
    chi2_critical = fields.Float(allow_none=True)
    consistent = fields.Boolean(allow_none=True)
    problem = fields.String(allow_none=True)


class ProjectOut(StrictSchema):
    """A comparison project; ``references`` and the others' results appear as the reader may see them."""

    id = fields.Integer()
    code = fields.String(allow_none=True)
    title = fields.String()
    quantity = fields.String()
    unit = fields.String(allow_none=True)
    transfer_standard = fields.String()
    protocol = fields.String(allow_none=True)
    starts_on = fields.Date()
    results_due_on = fields.Date()
    reference_kind = Choice(REFERENCE_KINDS)
    state = Choice(PROJECT_STATES)
    published_on = fields.Date(allow_none=True)
    points = fields.List(fields.Nested(PointOut))
    participants = fields.List(fields.Nested(ParticipantOut))
    references = fields.List(fields.Nested(ReferenceOut))


def project_out(view) -> dict:
    """Return the JSON of a project as the reader may see it (see :class:`ProjectOut`)."""
    from service.measurement.comparisons.rules import shown

    project = view.project
    computed = ("points", "participants", "references")
    data = {name: getattr(project, name) for name in ProjectOut._declared_fields if name not in computed}
    data["points"] = [{name: getattr(p, name) for name in PointOut._declared_fields} for p in view.points]
    participants = []
    for row in view.rows:
        results = []
        for index, (point, result) in enumerate(zip(view.points, row.results, strict=True)):
            if result is None:
                continue
            degree = row.degrees[index] if row.degrees else None
            results.append(
                {
                    "id": result.id,
                    "position": point.position,
                    "value": result.value,
                    "uncertainty": result.uncertainty,
                    "in_reference": result.is_in_reference,
                    "d": degree.d if degree else None,
                    "u_d": float(degree.u_d_shown) if degree else None,
                    "en": float(shown(degree.en)) if degree else None,
                    "verdict": degree.verdict if degree else None,
                }
            )
        p = row.participant
        participants.append(
            {
                "id": p.id,
                "firm_id": p.firm_id,
                "lab_name": p.lab_name,
                "cnas_no": p.cnas_no,
                "management_no": row.management_no,
                "measured_on": p.measured_on,
                "entered_by_name": p.entered_by_name,
                "comparison_id": p.comparison_id,
                "results": results,
            }
        )
    data["participants"] = participants
    data["references"] = (
        [
            {
                "position": point.position,
                "value": figure.reference.value if figure.reference else None,
                "uncertainty": figure.reference.uncertainty if figure.reference else None,
                "chi2": figure.reference.chi2 if figure.reference else None,
                "chi2_critical": figure.reference.chi2_critical if figure.reference else None,
                "consistent": figure.reference.consistent if figure.reference else None,
                "problem": figure.problem,
            }
            for point, figure in zip(view.points, view.figures, strict=True)
        ]
        if view.figures
        else []
    )
    return _PROJECT_OUT.dump(data)


_PROJECT_OUT = ProjectOut()
