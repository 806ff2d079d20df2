"""QR labels and the public certificate check their code opens.

``/c/<token>`` needs no sign-in: the unguessable token is the whole credential, and the page
shows only the instrument's current status and certificate validity. It reads through a session
of its own, confined to the record's firm once the token is found, so whoever may be signed in in
the inspector's browser changes nothing. Printing labels needs a sign-in; the institute prints a
client's labels under ``/clients/<client_id>/`` through an active client link.
"""

from __future__ import annotations

from flask import Blueprint, current_app, redirect, render_template, request
from flask_babel import force_locale
from flask_login import login_required
from markupsafe import Markup

from service.errors import Invalid, NotFound
from service.traceability import check, labels
from service.web.context import actor, base_url, db, enter_client, today
from service.web.forms import flash_failure, form_data, safe_next

bp = Blueprint("check", __name__)

#: ``?lang=`` on the public page (an inspector's phone has no account to keep a language in).
PUBLIC_LANGUAGES = {"zh": "zh_Hans_CN", "en": "en"}
#: Headers of the public page and of its 404: never cached, never indexed, the token never sent on.
PUBLIC_HEADERS = {
    "Cache-Control": "no-store",
    "X-Robots-Tag": "noindex, nofollow",
    "Referrer-Policy": "no-referrer",
}


def _public_page(template: str, status: int, **context):
    language = PUBLIC_LANGUAGES.get(request.args.get("lang", ""))
    if language:
        with force_locale(language):
            body = render_template(template, lang=language, **context)
    else:
        body = render_template(template, lang=None, **context)
    return body, status, PUBLIC_HEADERS


@bp.get("/c/<token>")
@bp.get("/c/<path:token>")  # a damaged or forged code with slashes gets the same answer as any other miss
def public_check(token: str):
    """Show an instrument's current status and certificate validity to whoever scanned its label."""
    session = current_app.extensions["calrecall.sessions"]()
    try:
        summary = check.check_summary(session, token)
    except NotFound:
        # Unknown and malformed tokens answer alike: the same page, status and headers.
        return _public_page("check/not_found.html", 404)
    finally:
        session.rollback()
        session.close()
    return _public_page("check/public.html", 200, summary=summary, token=token)


def _qr(label: labels.Label) -> Markup:
    # Only numbers and an escaped title: safe to place in the page as it is.
    svg = labels.qr_svg(label.url)
    return Markup(svg)  # nosec B704 # QR path numbers only, no text


@bp.get("/records/<int:record_id>/label")
@bp.get("/clients/<int:client_id>/records/<int:record_id>/label")
@login_required
def record_label(record_id: int, client_id: int | None = None):
    """A record's printable label (about 60 × 40 mm): firm, instrument, colour, validity and QR code."""
    enter_client(client_id)
    label = labels.record_label(db(), actor(), record_id, today(), base_url())
    return render_template(
        "labels/label.html",
        label=label,
        qr=_qr(label),
        record_id=record_id,
        client_id=client_id,
    )


@bp.post("/instruments/labels")
@login_required
def label_sheet():
    """An A4 sheet of the selected instruments' labels; those without a record are listed below it."""
    values = form_data(multi=("ids",))
    try:
        sheet = labels.label_sheet(db(), actor(), values.get("ids", []), today(), base_url())
    except Invalid as exc:
        flash_failure(exc)
        return redirect(safe_next(request.form.get("back"), "ledger.list_instruments"), code=303)
    return render_template(
        "labels/sheet.html",
        sheet=sheet,
        qrs=[_qr(label) for label in sheet.labels],
        back=safe_next(request.form.get("back"), "ledger.list_instruments"),
    )
