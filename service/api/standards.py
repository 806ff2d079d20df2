"""API: an instrument's chain of standards, and the institute's reverse traceability of its standards."""

from __future__ import annotations

from datetime import date

from flask import jsonify, request
from marshmallow import fields

from service.api import bp
from service.api.helpers import json_body
from service.clock import now_utc
from service.errors import Invalid
from service.i18n import N_
from service.schemas import StrictSchema
from service.traceability import reverse
from service.traceability.chain import standards_chain
from service.web.context import actor, base_url, db


class ChainNodeOut(StrictSchema):
    """A node of the chain: the instrument, a standard of some ledger, or an outside standard.

    Of a standard in another organisation's ledger only what the chain needs is shown, and no id.
    """

    key = fields.String()
    name = fields.String()
    management_no = fields.String(allow_none=True)
    organization = fields.String(allow_none=True)
    certificate_no = fields.String(allow_none=True)
    valid_until = fields.Date(allow_none=True)
    lab_name = fields.String(allow_none=True)
    is_root = fields.Boolean()
    is_external = fields.Boolean()
    instrument_id = fields.Integer(
        allow_none=True, metadata={"description": "Only for your own instruments."}
    )


class ChainLinkOut(StrictSchema):
    """A record of ``child`` that used the standard ``parent``, with the standard's certificate on the day."""

    child = fields.String()
    parent = fields.String()
    kind = fields.String()
    used_on = fields.Date()
    certificate_no = fields.String(allow_none=True)
    valid_until = fields.Date(allow_none=True)
    lab_name = fields.String(allow_none=True)
    expired = fields.Boolean(metadata={"description": "The certificate had run out on the day of use."})


class ChainOut(StrictSchema):
    """The chain of standards above an instrument; ``root`` is the instrument's node."""

    root = fields.String()
    truncated = fields.Boolean()
    nodes = fields.List(fields.Nested(ChainNodeOut))
    links = fields.List(fields.Nested(ChainLinkOut))


class AffectedRecordOut(StrictSchema):
    """A current record that used the standard."""

    record_id = fields.Integer()
    kind = fields.String()
    performed_on = fields.Date()
    certificate_no = fields.String(allow_none=True)


class AffectedInstrumentOut(StrictSchema):
    """An instrument verified or calibrated with the standard."""

    id = fields.Integer()
    management_no = fields.String()
    name = fields.String()
    records = fields.List(fields.Nested(AffectedRecordOut))


class AffectedFirmOut(StrictSchema):
    """A linked client firm, or the institute's own ledger (``is_own``)."""

    org_id = fields.Integer()
    name = fields.String()
    is_own = fields.Boolean()
    instruments = fields.List(fields.Nested(AffectedInstrumentOut))


class AffectedOut(StrictSchema):
    """What one of the institute's standards verified or calibrated since a day, by firm."""

    standard_id = fields.Integer(attribute="standard.id")
    management_no = fields.String(attribute="standard.management_no")
    name = fields.String(attribute="standard.name")
    since = fields.Date(allow_none=True)
    last_good_on = fields.Date(allow_none=True)
    failed_on = fields.Date(allow_none=True)
    firms = fields.List(fields.Nested(AffectedFirmOut))


class FirmNoticeOut(StrictSchema):
    """What one firm was told."""

    org_id = fields.Integer()
    name = fields.String()
    instruments = fields.Integer()
    recipients = fields.Integer()
    created = fields.Integer(metadata={"description": "Messages added now (0 when sent before)."})


class NoticeSummaryOut(StrictSchema):
    """The notices sent about an out-of-tolerance standard."""

    standard_id = fields.Integer()
    since = fields.Date(allow_none=True)
    created = fields.Integer()
    recorded = fields.Boolean(
        metadata={"description": "The finding was written to the standard's history now."}
    )
    firms = fields.List(fields.Nested(FirmNoticeOut))


@bp.get("/instruments/<int:instrument_id>/chain")
def instrument_chain(instrument_id: int):
    """Return the chain of standards above an instrument, from its current verification or calibration.

    ---
    get:
      tags: [records]
      parameters: [instrument_id]
      responses:
        200:
          content:
            application/json:
              schema: ChainOut
        404: NotFound
    """
    return jsonify(standards_chain(db(), actor(), instrument_id).as_dict())


def _since_param():
    value = request.args.get("since", "").strip()
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise Invalid(N_("Please correct the marked fields."), {"since": [N_("Not a valid date.")]}) from None


@bp.get("/standards/<int:instrument_id>/affected")
def standard_affected(instrument_id: int):
    """List what one of the institute's standards verified or calibrated since a day, by linked firm.

    For institute staff and administrators; ``since`` defaults to the standard's last good result.
    ---
    get:
      tags: [records]
      parameters:
        - instrument_id
        - {in: query, name: since, schema: {type: string, format: date}}
      responses:
        200:
          content:
            application/json:
              schema: AffectedOut
        400: Invalid
        403: Forbidden
        404: NotFound
    """
    reverse.get_standard(db(), actor(), instrument_id)
    found = reverse.affected_by_standard(db(), actor(), instrument_id, _since_param())
    return jsonify(AffectedOut().dump(found))


@bp.post("/standards/<int:instrument_id>/notices")
def standard_notices(instrument_id: int):
    """Tell each affected linked firm, through the outbox; the same standard and ``since`` again adds nothing.

    ---
    post:
      tags: [records]
      parameters: [instrument_id]
      requestBody:
        required: true
        content:
          application/json:
            schema: StandardNoticeIn
      responses:
        200:
          content:
            application/json:
              schema: NoticeSummaryOut
        400: Invalid
        403: Forbidden
        404: NotFound
    """
    reverse.get_standard(db(), actor(), instrument_id)  # another ledger's id is 404 whatever the body
    data = reverse.load_notice(json_body())
    summary = reverse.notify_affected(
        db(),
        actor(),
        instrument_id,
        data.get("since"),
        data["reason"],
        now_utc(),
        base_url=base_url(),
    )
    return jsonify(NoticeSummaryOut().dump(summary))
