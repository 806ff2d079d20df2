"""Record a comparison or proficiency-test result; an unsatisfactory point opens a nonconformity case.

Each point's En (comparison) or z (proficiency test) and verdict are computed here by
:mod:`.rules` and stored. An unsatisfactory point opens a case on the instrument (or joins the one
already open); a questionable z tells the metrology staff (in-app and email).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from decimal import ROUND_DOWN, Decimal

from sqlalchemy.orm import Session

from models import Comparison, ComparisonPoint, Instrument
from service.actors import Actor
from service.errors import Invalid
from service.history.chain import record_event, records_history
from service.i18n import N_
from service.measurement.comparisons import rules
from service.measurement.comparisons.schemas import ComparisonIn
from service.nonconformity.operations import open_for_evidence
from service.reminders.notices import notify_people
from service.schemas import load_or_invalid
from service.scoping import get_in_org

#: Who hears of a questionable z: the people who keep the ledger.
STAFF_ROLES = {"firm": ("admin", "metrology"), "institute": ("admin", "staff")}
#: The stored score's range: En or z beyond it is kept at the bound (its verdict is exact).
SCORE_BOUND = Decimal("999999999999")
_SIX = Decimal("0.000001")
#: The fields each kind of point needs.
NEEDED = {
    "comparison": ("reference_value", "reference_uncertainty", "lab_value", "lab_uncertainty"),
    "proficiency": ("assigned_value", "sd_pt", "lab_value"),
}
POSITIVE = ("reference_uncertainty", "lab_uncertainty", "sd_pt")
WORST = {v: i for i, v in enumerate(rules.VERDICTS)}


@records_history
def record_comparison(
    session: Session,
    actor: Actor,
    instrument_id: int,
    payload: Mapping,
    today: date,
    now: datetime,
    base_url: str = "",
) -> Comparison:
    """Record a result of ``instrument_id``; return it with its points, verdicts and case.

    ``base_url`` makes the link to the result in the notice of a questionable z.
    """
    actor.require("ledger.write")
    instrument = get_in_org(session, Instrument, instrument_id, actor)
    data = load_or_invalid(ComparisonIn(), payload)
    if data["performed_on"] > today:
        raise Invalid(N_("Please correct the marked fields."), {"performed_on": [N_("Not in the future.")]})
    kind = data["kind"]
    points = [_point(actor, kind, position, raw) for position, raw in enumerate(data.pop("points"), 1)]
    comparison = Comparison(
        org_id=actor.org_id,
        instrument_id=instrument.id,
        verdict=max((p.verdict for p in points), key=WORST.__getitem__),
        recorded_by_id=actor.user_id,
        recorded_by_name=actor.name,
        **data,
    )
    session.add(comparison)
    session.flush()
    for point in points:
        point.comparison_id = comparison.id
        session.add(point)
    session.flush()
    opened = False
    if comparison.verdict == rules.UNSATISFACTORY:
        description = _description(comparison, points)
        case, opened = open_for_evidence(session, actor, instrument, description, today)
        comparison.case_id = case.id
    record_event(
        session,
        actor,
        "comparison.recorded",
        ("instrument", instrument.id),
        {
            "comparison_id": comparison.id,
            "kind": kind,
            "scheme": comparison.scheme,
            "performed_on": comparison.performed_on,
            "verdict": comparison.verdict,
            "case_id": comparison.case_id,
            "case_opened": opened,
        },
    )
    if any(p.verdict == rules.QUESTIONABLE for p in points):
        _warn(session, actor, instrument, comparison, today, now, base_url)
    session.flush()
    session.expire(comparison, ["points", "case"])
    return comparison


def _point(actor: Actor, kind: str, position: int, raw: Mapping) -> ComparisonPoint:
    errors: dict[str, list] = {}
    prefix = f"points.{position - 1}"
    for name in NEEDED[kind]:
        if raw.get(name) is None:
            errors[f"{prefix}.{name}"] = [N_("Missing data for required field.")]
        elif name in POSITIVE and raw[name] <= 0:
            errors[f"{prefix}.{name}"] = [N_("Must be greater than zero.")]
    other = NEEDED["proficiency" if kind == "comparison" else "comparison"]
    for name in set(other) - set(NEEDED[kind]):
        if raw.get(name) is not None:
            errors[f"{prefix}.{name}"] = [N_("Not part of this kind of result.")]
    if kind == "proficiency" and raw.get("is_lab_in_reference"):
        errors[f"{prefix}.is_lab_in_reference"] = [N_("Not part of this kind of result.")]
    if errors:
        raise Invalid(N_("Please correct the marked fields."), errors)
    try:
        score, verdict = _score(kind, raw)
    except rules.RuleError as exc:
        raise Invalid(
            N_("Please correct the marked fields."), {f"{prefix}.{exc.field}": [exc.message]}
        ) from exc
    # Cut (not rounded) to 6 places: rounding the stored value to 2 places then gives what rounding
    # the exact one would.
    stored = max(-SCORE_BOUND, min(SCORE_BOUND, score.quantize(_SIX, rounding=ROUND_DOWN)))
    return ComparisonPoint(org_id=actor.org_id, position=position, score=stored, verdict=verdict, **raw)


def _score(kind: str, raw: Mapping) -> tuple[Decimal, str]:
    if kind == "comparison":
        score = rules.en_number(
            raw["lab_value"],
            raw["lab_uncertainty"],
            raw["reference_value"],
            raw["reference_uncertainty"],
            correlated=raw.get("is_lab_in_reference", False),
        )
        return score, rules.en_verdict(score)
    score = rules.z_score(raw["lab_value"], raw["assigned_value"], raw["sd_pt"])
    return score, rules.z_verdict(score)


def _description(comparison: Comparison, points: list[ComparisonPoint]) -> str:
    failed = [p for p in points if p.verdict == rules.UNSATISFACTORY]
    label = "En" if comparison.kind == "comparison" else "z"
    scores = ", ".join(f"{label} = {rules.shown(p.score)}" for p in failed)
    return f"{comparison.scheme} ({comparison.performed_on.isoformat()}): {scores}"


def _warn(
    session: Session,
    actor: Actor,
    instrument: Instrument,
    comparison: Comparison,
    today: date,
    now: datetime,
    base_url: str,
) -> None:
    questionable = [p for p in comparison.points if p.verdict == rules.QUESTIONABLE]
    notify_people(
        session,
        actor.org_id,
        STAFF_ROLES.get(actor.home_org_kind, STAFF_ROLES["firm"]),
        "comparison",
        "comparison_questionable",
        f"comparison:{comparison.id}",
        today,
        now,
        instrument=instrument.name,
        management_no=instrument.management_no,
        scheme=comparison.scheme,
        scores=", ".join(f"z = {rules.shown(p.score)}" for p in questionable),
        link=f"{base_url.rstrip('/')}/comparisons/{comparison.id}",
    )
