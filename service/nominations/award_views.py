"""Awards pages: the organisers decide the winners and handle objections; the public notice (公示).

``/notice/<public_token>`` needs no sign-in: the campaign's unguessable token is the whole
credential, and the page shows only the notice and its list of winners. Like the certificate check
(``/c/<token>``) it works through a session of its own, confined to the campaign's institute once
the token is found, so whoever may be signed in in the visitor's browser changes nothing. Before the
notice the token is 404; during it the page takes objections (a few per hour from one address);
afterwards it shows the final list. Registered on the nominations blueprint (``views.bp``).
"""

from __future__ import annotations

import hashlib
import hmac

from flask import current_app, flash, redirect, render_template, request, url_for
from flask_babel import force_locale, gettext
from flask_login import login_required

from models import Organization
from service.clock import now_utc, today_in
from service.db import begin_writes_immediately, scope_to_org
from service.errors import DomainError, NotFound, Throttled
from service.i18n import N_
from service.nominations import documents, operations, phases, queries
from service.nominations.views import bp
from service.web.access import open_to_experts
from service.web.context import actor, base_url, db, today
from service.web.downloads import document_download
from service.web.forms import flash_failure, form_data
from service.web.i18n import translate, translate_errors

#: ``?lang=`` on the public page (a visitor has no account to keep a language in).
PUBLIC_LANGUAGES = {"zh": "zh_Hans_CN", "en": "en"}
#: Headers of the public page and of its 404: never cached, never indexed, the token never sent on.
PUBLIC_HEADERS = {
    "Cache-Control": "no-store",
    "X-Robots-Tag": "noindex, nofollow",
    "Referrer-Policy": "no-referrer",
}


def _awards_url(campaign_id: int, anchor: str | None = None) -> str:
    return url_for("nominations.awards", campaign_id=campaign_id, _anchor=anchor)


@bp.get("/institute/campaigns/<int:campaign_id>/awards")
@login_required
def awards(campaign_id: int):
    """The winners (decided among the forwarded nominations while in review) and the objections."""
    who = actor()
    campaign = queries.get_campaign(db(), who, campaign_id)
    awarded = queries.awards_of(db(), campaign)
    return render_template(
        "nominations/awards.html",
        campaign=campaign,
        # The candidates in the reviews' order: the best mean score first.
        standings=queries.ranking(db(), who, campaign_id)[1]
        if campaign.phase == "review" and who.can("org.manage")
        else [],
        awards=awarded,
        chosen={award.nomination_id for award in awarded},
        by_award={award.id: award for award in awarded},
        objections=queries.objections_of(db(), campaign),
        may_organise=who.can("org.manage"),
        public_url=f"{base_url()}{url_for('nominations.public_notice', public_token=campaign.public_token)}",
    )


@bp.post("/institute/campaigns/<int:campaign_id>/winners")
@login_required
def decide_winners(campaign_id: int):
    """Replace the winners with the nominations ticked."""
    try:
        operations.decide_winners(db(), actor(), campaign_id, form_data(multi=("nomination_ids",)), now_utc())
    except DomainError as exc:
        flash_failure(exc)
    else:
        flash(gettext("Winners saved."), "success")
    return redirect(_awards_url(campaign_id), code=303)


@bp.post("/institute/campaigns/<int:campaign_id>/objections/<int:objection_id>/handle")
@login_required
def handle_objection(campaign_id: int, objection_id: int):
    """Record an objection's outcome: upheld removes the winner it names; dismissed keeps it."""
    who = actor()
    campaign = queries.get_campaign(db(), who, campaign_id)
    if queries.get_objection(db(), who, objection_id).campaign_id != campaign.id:
        raise NotFound(N_("Not found."))
    try:
        operations.handle_objection(db(), who, objection_id, form_data(), today(), now_utc(), base_url())
    except DomainError as exc:
        flash_failure(exc)
    else:
        flash(gettext("Outcome recorded."), "success")
    return redirect(_awards_url(campaign_id, f"objection-{objection_id}"), code=303)


def _certificate(data: documents.CertificateData):
    return document_download(
        documents.honour_certificate(data),
        f"荣誉证书-{data.certificate_no}.docx",
        f"certificate-{data.certificate_no}.docx",
    )


@bp.get("/institute/campaigns/<int:campaign_id>/awards/<int:award_id>/certificate.docx")
@login_required
def award_certificate(campaign_id: int, award_id: int):
    """A winner's honour certificate (荣誉证书), once the campaign is decided."""
    who = actor()
    campaign = queries.get_campaign(db(), who, campaign_id)
    award = queries.get_award(db(), who, campaign_id, award_id)
    return _certificate(queries.certificate_data(db(), campaign, award))


@bp.get("/nominations/<int:nomination_id>/certificate.docx")
@login_required
def nomination_certificate(nomination_id: int):
    """The firm's honour certificate for a winning nomination, once the campaign is decided."""
    _award, data = queries.firm_certificate(db(), actor(), nomination_id)
    return _certificate(data)


# The public notice (公示), without sign-in


def sender_hash(address: str) -> str:
    """Return the keyed hash that stands for a sender's address (the address itself is never kept)."""
    key = current_app.config["SECRET_KEY"].encode()
    return hmac.new(key, address.encode(), hashlib.sha256).hexdigest()


def _public_page(template: str, status: int, **context):
    language = PUBLIC_LANGUAGES.get(request.args.get("lang", ""))
    if language:
        with force_locale(language):
            body = render_template(template, lang=language, **context)
    else:
        body = render_template(template, lang=None, **context)
    return body, status, PUBLIC_HEADERS


@bp.route("/notice/<public_token>", methods=["GET", "POST"])
@open_to_experts
def public_notice(public_token: str):
    """The campaign's public notice: its winners and, while it runs, a form to lodge an objection."""
    session = current_app.extensions["calrecall.sessions"]()
    if request.method == "POST":
        begin_writes_immediately(session)
    try:
        try:
            campaign = queries.campaign_by_token(session, public_token)
        except NotFound:
            # Unknown tokens and campaigns not yet on notice answer alike.
            return _public_page("nominations/award_notice_missing.html", 404)
        scope_to_org(session, campaign.org_id)
        institute = session.get(Organization, campaign.org_id)
        local_today = today_in(institute.timezone)
        values, errors, status = {}, {}, 200
        if request.method == "POST":
            values = form_data()
            try:
                operations.lodge_objection(
                    session,
                    campaign,
                    values,
                    sender_hash(request.remote_addr or "-"),
                    local_today,
                    now_utc(),
                    base_url(),
                )
            except Throttled as exc:
                session.rollback()
                return _public_page(
                    "nominations/award_notice_throttled.html",
                    429,
                    campaign=campaign,
                    message=translate(exc.message),
                )
            except DomainError as exc:
                session.rollback()
                errors = translate_errors(exc.field_errors)
                if not errors:
                    errors = {"": [translate(exc.message)]}
                status = 400
            else:
                session.commit()
                # After the post, a plain page: reloading it does not lodge the objection again.
                back = url_for(
                    "nominations.public_notice",
                    public_token=public_token,
                    lodged=1,
                    lang=request.args.get("lang"),
                )
                return redirect(back, code=303), PUBLIC_HEADERS
        return _public_page(
            "nominations/award_notice.html",
            status,
            campaign=campaign,
            institute=institute.name,
            winners=queries.public_winners(session, campaign),
            accepts_objections=phases.accepts_objections(campaign, local_today),
            values=values,
            errors=errors,
            lodged=request.args.get("lodged") == "1" and not errors,
            token=public_token,
        )
    finally:
        session.rollback()
        session.close()
