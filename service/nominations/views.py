"""Nominations pages: a firm's evidence dossier and what lies behind it; the institute's campaigns."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext, ngettext
from flask_login import login_required

from models.nominations import FILE_KINDS, REQUIRED_FILE_KINDS
from service.clock import now_utc
from service.errors import DomainError
from service.nominations import operations, phases, queries
from service.nominations.schemas import BehindQuery, CampaignIn, DossierQuery
from service.schemas import load_or_invalid
from service.traceability import files
from service.validation import benchmark_industries
from service.web.context import actor, attachments_dir, base_url, db, enter_client, today
from service.web.downloads import commitment_letter_download, recommendation_form_download, send_attachment
from service.web.forms import flash_failure, form_data, query_or_defaults, save_then_submit
from service.web.i18n import translate, translate_errors
from service.web.templating import name_of

bp = Blueprint("nominations", __name__)



@bp.get("/evidence")
@bp.get("/clients/<int:client_id>/evidence")
@login_required
def evidence(client_id: int | None = None):
    """The dossier as of a date, each figure with its parts and a link to the instruments behind it."""
    enter_client(client_id)
    wanted = query_or_defaults(DossierQuery()).get("as_of") or today()
    try:
        found = queries.dossier(db(), actor(), wanted, today())
    except DomainError as exc:
        flash_failure(exc)
        found = queries.dossier(db(), actor(), today(), today())
    return render_template(
        "nominations/evidence.html",
        dossier=found,
        figures=found.as_dict(),
        self_check=queries.self_check_lines(found),
        client_id=client_id,
        is_today=found.as_of == today(),
    )


@bp.get("/evidence/instruments")
@bp.get("/clients/<int:client_id>/evidence/instruments")
@login_required
def behind(client_id: int | None = None):
    """The instruments a figure counts, those short of it first."""
    enter_client(client_id)
    query = load_or_invalid(BehindQuery(), request.args)
    found = queries.figure_sets(db(), actor(), query.get("as_of") or today(), today())
    return render_template(
        "nominations/behind.html",
        behind=queries.instruments_behind(db(), actor(), found, query["figure"], bool(query.get("short"))),
        dossier=found,
        short=bool(query.get("short")),
        client_id=client_id,
        page_size=queries.BEHIND_PAGE,
    )


# Campaigns, for the institute


@bp.get("/institute/campaigns")
@login_required
def campaigns():
    """The institute's award campaigns, newest year first."""
    who = actor()
    return render_template(
        "nominations/campaigns.html",
        campaigns=queries.list_campaigns(db(), who),
        may_organise=who.can("org.manage"),
    )


@bp.route("/institute/campaigns/new", methods=["GET", "POST"])
@login_required
def new_campaign():
    """Announce a campaign: it starts as a draft."""
    who = actor()
    who.require_institute("org.manage")
    if request.method == "GET":
        return _campaign_form(None, CAMPAIGN_DEFAULTS | {"year": today().year}, {})
    try:
        campaign = operations.create_campaign(db(), who, form_data())
    except DomainError as exc:
        db().rollback()
        return _campaign_form(None, form_data(), translate_errors(exc.field_errors), exc, status=400)
    flash(gettext("Campaign saved as a draft."), "success")
    return redirect(url_for("nominations.campaign", campaign_id=campaign.id), code=303)


@bp.get("/institute/campaigns/<int:campaign_id>")
@login_required
def campaign(campaign_id: int):
    """One campaign: its notice, windows, categories and conditions, and its next step."""
    who = actor()
    found = queries.get_campaign(db(), who, campaign_id)
    next_phase = phases.MOVES.get(found.phase)
    awards = queries.awards_of(db(), found)
    unhandled = queries.unhandled_count(db(), found)
    refusal = None
    if next_phase:
        standing = sum(1 for award in awards if not award.is_removed)
        refusal = phases.refusal_to_move(found, next_phase, today(), winners=standing, unhandled=unhandled)
    return render_template(
        "nominations/campaign.html",
        campaign=found,
        may_organise=who.can("org.manage"),
        next_phase=next_phase,
        refusal=refusal,
        awards=awards,
        unhandled=unhandled,
        accepts_nominations=phases.accepts_nominations(found, today()),
        lists=queries.list_states_of(db(), found) if found.phase != "draft" else [],
    )


@bp.route("/institute/campaigns/<int:campaign_id>/edit", methods=["GET", "POST"])
@login_required
def edit_campaign(campaign_id: int):
    """Correct a campaign: everything while a draft, its texts once open."""
    who = actor()
    who.require_institute("org.manage")
    found = queries.get_campaign(db(), who, campaign_id)
    if request.method == "GET":
        values = {name: getattr(found, name) for name in CAMPAIGN_FIELDS}
        return _campaign_form(found, values, {})
    try:
        operations.update_campaign(db(), who, campaign_id, form_data())
    except DomainError as exc:
        db().rollback()
        return _campaign_form(found, form_data(), translate_errors(exc.field_errors), exc, status=400)
    flash(gettext("Campaign saved."), "success")
    return redirect(url_for("nominations.campaign", campaign_id=campaign_id), code=303)


@bp.post("/institute/campaigns/<int:campaign_id>/phase")
@login_required
def move_campaign(campaign_id: int):
    """Move the campaign to its next phase."""
    try:
        found = operations.move_campaign(
            db(), actor(), campaign_id, form_data(), today(), base_url(), now_utc()
        )
    except DomainError as exc:
        flash_failure(exc)
    else:
        flash(
            gettext("The campaign is now: %(phase)s.", phase=name_of("campaign_phase", found.phase)),
            "success",
        )
    return redirect(url_for("nominations.campaign", campaign_id=campaign_id), code=303)


#: What a new campaign's form starts with: the categories and conditions of the institute's notice.
CAMPAIGN_DEFAULTS = {
    "kind": "traceability_advanced",
    "categories": "计量体系建设\n计量文化建设\n计量数据积累与应用",
    "conditions": "近三年未发生重大计量违法行为\n无不良信用记录",
    "notice_days": 3,
    "notice_in_working_days": True,
    "large_quota": 5,
    "sme_quota": 5,
    "no_fee_statement": "评选活动不收取任何费用。",
}
CAMPAIGN_FIELDS = tuple(CampaignIn().fields)


def _campaign_form(found, values, errors, exc: DomainError | None = None, status: int = 200):
    shown = dict(values)
    for name in ("categories", "conditions"):
        if isinstance(shown.get(name), list):
            shown[name] = "\n".join(shown[name])
    if isinstance(shown.get("notice_in_working_days"), bool):  # the select's values
        shown["notice_in_working_days"] = "true" if shown["notice_in_working_days"] else "false"
    message = translate(exc.message) if exc is not None and not errors else None
    body = render_template(
        "nominations/campaign_form.html", campaign=found, values=shown, errors=errors, message=message
    )
    return body, status


# Recommenders, for the institute


@bp.get("/institute/recommenders")
@login_required
def recommenders():
    """The institute's recommenders (its departments and industry alliances) with their members."""
    who = actor()
    return render_template(
        "nominations/recommenders.html",
        recommenders=queries.list_recommenders(db(), who),
        users=queries.institute_users(db(), who),
        may_organise=who.can("org.manage"),
    )


@bp.post("/institute/recommenders")
@bp.post("/institute/recommenders/<int:recommender_id>")
@login_required
def save_recommender(recommender_id: int | None = None):
    """Add a recommender, or change one and its members."""
    try:
        operations.save_recommender(db(), actor(), recommender_id, form_data(multi=("member_ids",)))
    except DomainError as exc:
        flash_failure(exc)
    else:
        flash(gettext("Recommender saved."), "success")
    return redirect(url_for("nominations.recommenders"), code=303)


# Nominations, for a client firm


@bp.get("/nominations")
@login_required
def nominations():
    """The campaigns open to the firm today, and its nominations."""
    who = actor()
    campaigns = queries.open_campaigns(db(), who, today())
    mine = queries.list_nominations(db(), who)
    started = {n.campaign_id for n in mine}
    return render_template(
        "nominations/nominations.html",
        nominations=mine,
        campaigns=[(c, queries.recommenders_of(db(), c.org_id)) for c in campaigns if c.id not in started],
        may_write=who.can("ledger.write"),
    )


@bp.post("/nominations")
@login_required
def start_nomination():
    """Start a nomination in an open campaign."""
    try:
        nomination = operations.start_nomination(db(), actor(), form_data(), today())
    except DomainError as exc:
        flash_failure(exc)
        return redirect(url_for("nominations.nominations"), code=303)
    flash(
        gettext("Nomination started: fill in the form, then submit it before the window closes."), "success"
    )
    return redirect(url_for("nominations.nomination", nomination_id=nomination.id), code=303)


@bp.get("/nominations/<int:nomination_id>")
@login_required
def nomination(nomination_id: int):
    """The recommendation form beside the evidence, with the pre-filled self-check."""
    who = actor()
    found = queries.get_nomination(db(), who, nomination_id)
    evidence = queries.dossier(db(), who, today(), today()) if found.state == "draft" else None
    open_today = phases.accepts_nominations(found.campaign, today())
    return render_template(
        "nominations/nomination.html",
        nomination=found,
        award=queries.award_of_nomination(db(), found),
        dossier=evidence,
        self_check=queries.self_check_lines(evidence) if evidence is not None else None,
        frozen_lines=queries.frozen_self_check(found),
        recommenders=queries.recommenders_of(db(), found.institute_id),
        industries=benchmark_industries(),
        open_today=open_today,
        on_submitted_list=found.recommendation == "accepted"
        and queries.list_of(db(), found.institute_id, found.campaign_id, found.recommender_id) is not None,
        may_write=who.can("ledger.write"),
        readonly=found.state != "draft" or not open_today or not who.can("ledger.write"),
        file_kinds=FILE_KINDS,
        required_file_kinds=REQUIRED_FILE_KINDS,
        max_upload_mb=files_max_mb(),
    )


@bp.post("/nominations/<int:nomination_id>")
@login_required
def save_nomination(nomination_id: int):
    """Save the form and, when asked, submit it; what submitting still lacks is shown, the form kept."""
    who = actor()
    return save_then_submit(
        lambda: operations.update_nomination(db(), who, nomination_id, nomination_form(), today()),
        lambda: operations.submit_nomination(db(), who, nomination_id, today(), base_url()),
        redirect(url_for("nominations.nomination", nomination_id=nomination_id), code=303),
        gettext("Nomination saved."),
        gettext("Nomination submitted."),
    )


@bp.post("/nominations/<int:nomination_id>/withdraw")
@login_required
def withdraw_nomination(nomination_id: int):
    """Take a submitted nomination back to a draft while the window is open."""
    try:
        operations.withdraw_nomination(db(), actor(), nomination_id, today())
    except DomainError as exc:
        flash_failure(exc)
    else:
        flash(gettext("Nomination withdrawn: it is a draft again."), "success")
    return redirect(url_for("nominations.nomination", nomination_id=nomination_id), code=303)


@bp.post("/nominations/<int:nomination_id>/files")
@login_required
def add_files(nomination_id: int):
    """Upload scans of one kind (PDF, PNG, JPEG) to a draft nomination."""
    uploads = [(f.stream, f.filename) for f in request.files.getlist("file") if f.filename]
    try:
        added = operations.add_nomination_files(
            db(), actor(), nomination_id, form_data(), uploads, attachments_dir(), today()
        )
    except DomainError as exc:
        flash_failure(exc)
    else:
        flash(ngettext("%(num)s file uploaded.", "%(num)s files uploaded.", len(added)), "success")
    return redirect(url_for("nominations.nomination", nomination_id=nomination_id, _anchor="files"), code=303)


@bp.post("/nominations/<int:nomination_id>/files/<int:file_id>/remove")
@login_required
def remove_file(nomination_id: int, file_id: int):
    """Remove a scan from a draft nomination."""
    try:
        operations.remove_nomination_file(db(), actor(), nomination_id, file_id, today())
    except DomainError as exc:
        flash_failure(exc)
    else:
        flash(gettext("File removed."), "success")
    return redirect(url_for("nominations.nomination", nomination_id=nomination_id, _anchor="files"), code=303)


@bp.get("/nominations/<int:nomination_id>/files/<int:file_id>")
@login_required
def download_file(nomination_id: int, file_id: int):
    """Download a scan of the firm's nomination (images may be shown inline with ``?inline=1``)."""
    found = queries.get_nomination(db(), actor(), nomination_id)
    scan = queries.nomination_file(db(), found, file_id)
    return send_attachment(scan, attachments_dir(), inline=request.args.get("inline") == "1")


@bp.get("/nominations/<int:nomination_id>/recommendation-form.docx")
@login_required
def recommendation_form(nomination_id: int):
    """Download the recommendation form to print, stamp and scan back (frozen once submitted)."""
    return recommendation_form_download(queries.get_nomination(db(), actor(), nomination_id))


@bp.get("/nominations/<int:nomination_id>/commitment-letter.docx")
@login_required
def commitment_letter(nomination_id: int):
    """Download the commitment letter (承诺书) to sign, stamp and scan back."""
    return commitment_letter_download(queries.get_nomination(db(), actor(), nomination_id))


def files_max_mb() -> int:
    """Return the largest upload a scan may be, in MB, as the form tells the user."""
    return files.MAX_BYTES // (1024 * 1024)


#: The unit information fields of the form, as posted.
UNIT_FIELDS = (
    "recommender_id",
    "unit_name",
    "credit_code",
    "address",
    "employees",
    "annual_revenue_wan",
    "industry",
    "contact_name",
    "contact_mobile",
    "contact_email",
)


#: At most this many narratives and declarations are read from a posted form (the schema allows 20 and 30).
MAX_FORM_ITEMS = 30


def nomination_form() -> dict:
    """Return the posted recommendation form as the operation takes it; malformed keys are ignored."""
    form = request.form
    data = {name: form[name] for name in UNIT_FIELDS if name in form}
    narratives = {}
    for key in form:
        index = _index(key, "narratives-")
        if index is not None:
            narratives[index] = form[key]
    if narratives:
        data["narratives"] = [narratives.get(i, "") for i in range(max(narratives) + 1)]
    count = _index(form.get("declaration_count", ""), "")
    if count is not None:
        data["declarations"] = [f"declarations-{i}" in form for i in range(count)]
    answers: dict[str, dict] = {}
    for key in form:
        parts = key.split("-")
        if len(parts) == 3 and parts[0] == "sc" and parts[2] in ("answer", "note", "reason"):
            answers.setdefault(parts[1], {})[parts[2]] = form[key] or None
    if answers:
        data["self_check"] = answers
    return data


def _index(text: str, prefix: str) -> int | None:
    """Return the small number after ``prefix`` in ``text`` (ASCII digits), or None."""
    if not text.startswith(prefix):
        return None
    digits = text[len(prefix) :]
    if not (digits.isascii() and digits.isdigit()) or int(digits) >= MAX_FORM_ITEMS:
        return None
    return int(digits)
