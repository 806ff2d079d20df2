"""API: ledger exports to xlsx as background jobs.

Ask for one with the ledger list's filters and sort as a JSON body (or, as for the list, in the
query string; an empty body exports the whole ledger): the answer is 202 with the job. Poll it
until ``state`` is ``done`` (``download_url`` is then set, for a day) or ``failed`` (``error``
says why). The CSV export (``GET /instruments/export.csv``) needs no job: it is streamed as it is
read.
"""

from __future__ import annotations

from flask import jsonify, request, url_for
from flask_babel import gettext

from service.api import bp
from service.api.docs import File, doc, items_of
from service.api.helpers import optional_json_body
from service.clock import now_utc
from service.errors import Conflict
from service.i18n import N_
from service.ledger.queries import InstrumentFilter
from service.ledger_io import operations as import_ops
from service.ledger_io import queries as import_queries
from service.ledger_io.schemas import ExportOut
from service.web.background import start_export_after_commit
from service.web.context import actor, db
from service.web.downloads import exported_file_download

#: The query string of an export: the list's filters and sort, without its paging.
EXPORT_QUERY = InstrumentFilter(exclude=("cursor", "limit"))
_NOT_READY = N_("The export is not ready: poll it until its state is done.")
_EXPIRED = N_("The export's file has expired; ask for a new export.")


def _out(job, many: bool = False):
    schema = ExportOut(
        now=now_utc(),
        url_for=lambda j: url_for("api.download_export", export_id=j.id, _external=False),
        gettext=gettext,
        many=many,
    )
    return schema.dump(job)


@bp.post("/exports")
@doc(
    tags=["exports"],
    summary="Export the ledger to xlsx in the background; the list's filters and sort apply, not paging.",
    description="The filters as a JSON object (or in the query string, as the list takes them); "
    "an empty body exports the whole ledger.",
    body=EXPORT_QUERY,
    body_required=False,
    responses={202: ExportOut},
    errors=(400, 403, 409),
)
def start_export():
    """Ask for an xlsx export of the ledger; poll the job it returns."""
    body = optional_json_body()
    job = import_ops.queue_export(db(), actor(), body or request.args)
    start_export_after_commit(job.id)
    response = jsonify(_out(job))
    response.status_code = 202
    response.headers["Location"] = url_for("api.get_export", export_id=job.id)
    return response


@bp.get("/exports")
@doc(tags=["exports"], responses={200: items_of(ExportOut)}, errors=(403,))
def list_exports():
    """List the firm's latest exports, newest first."""
    return jsonify({"items": _out(import_queries.list_exports(db(), actor()), many=True)})


@bp.get("/exports/<int:export_id>")
@doc(tags=["exports"], responses={200: ExportOut}, errors=(404,))
def get_export(export_id: int):
    """Return an export: poll it until its state is done or failed."""
    return jsonify(_out(import_queries.get_export(db(), actor(), export_id)))


@bp.get("/exports/<int:export_id>/download")
@doc(
    tags=["exports"],
    responses={200: File("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")},
    errors=(404, 409),
)
def download_export(export_id: int):
    """Download a finished export's workbook (409 while it is written, once failed or expired)."""
    job = import_queries.get_export(db(), actor(), export_id)
    if not import_queries.export_ready(job, now_utc()):
        raise Conflict(_EXPIRED if job.state == "done" else _NOT_READY)
    return exported_file_download(job)
