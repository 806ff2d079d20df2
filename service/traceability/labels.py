"""QR labels: the data a record's label carries, its QR code and the label as a 60 × 40 mm SVG.

The QR code encodes the absolute address of the record's public certificate check,
``{base_url}/c/{token}``. It is drawn here from segno's module matrix as filled rectangles (not
segno's stroked lines), so that the same path serves the page's inline code and the label SVG, and
printers have no half-module strokes to smooth.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from html import escape

import segno
from sqlalchemy import select
from sqlalchemy.orm import Session

from models import CalibrationRecord, Instrument, Organization
from service.actors import Actor
from service.errors import Conflict, Invalid, NotFound, invalid_field
from service.i18n import N_
from service.ledger.renewal import RENEWING_KINDS, renews
from service.nonconformity.queries import current_use_limits
from service.scoping import get_in_org, parse_id
from service.traceability.check import outdated_reason
from service.traceability.check_links import check_url

#: The path of an instrument's page in the ledger (``ledger.show_instrument``): a label without a record.
INSTRUMENT_PATH = "/instruments/"
#: Error correction Q (25 % of the code may be dirty or scratched): labels live on the shop floor.
QR_ERROR = "q"
#: Quiet zone around the code, in modules (the label's white margin adds to it).
QR_BORDER = 2
#: Instruments one label sheet may carry (the ledger's largest page).
MAX_SHEET = 500
#: Colours of the three labels, as the ledger's badges show them; text drawn on each.
LABEL_COLOURS = {
    "green": ("#198754", "#fff"),
    "yellow": ("#ffc107", "#000"),
    "pending": ("#ffc107", "#000"),  # yellow, saying 待确认
    "red": ("#dc3545", "#fff"),
}
#: Label size in millimetres.
WIDTH, HEIGHT = 60, 40
FONT = "'Noto Sans CJK SC','Source Han Sans SC','Microsoft YaHei','PingFang SC',sans-serif"


def qr_code(url: str) -> segno.QRCode:
    """Return the QR code of ``url`` (error correction Q, never boosted, so the code is predictable)."""
    return segno.make(url, error=QR_ERROR, boost_error=False, micro=False)


def qr_path(url: str) -> tuple[int, str]:
    """Return the code's size in modules and an SVG path of its dark modules, one rectangle per run."""
    rows = list(qr_code(url).matrix_iter(border=0))
    parts = []
    for y, row in enumerate(rows):
        x = 0
        while x < len(row):
            if not row[x]:
                x += 1
                continue
            start = x
            while x < len(row) and row[x]:
                x += 1
            parts.append(f"M{start} {y}h{x - start}v1h-{x - start}z")
    return len(rows), "".join(parts)


def _qr_group(url: str) -> tuple[int, str]:
    """Return the code with its quiet zone as ``(size, "<rect/><path/>")`` in module units."""
    size, path = qr_path(url)
    full = size + 2 * QR_BORDER
    body = (
        f'<rect width="{full}" height="{full}" fill="#fff"/>'
        f'<path transform="translate({QR_BORDER} {QR_BORDER})" fill="#000" d="{path}"/>'
    )
    return full, body


def qr_svg(url: str, title: str | None = None) -> str:
    """Return the QR code of ``url`` as an inline SVG element, sized by its container (CSS)."""
    full, body = _qr_group(url)
    label = f' role="img" aria-label="{escape(title)}"' if title else ' aria-hidden="true"'
    heading = f"<title>{escape(title)}</title>" if title else ""
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {full} {full}" class="qr"'
        f' shape-rendering="crispEdges"{label}>{heading}{body}</svg>'
    )


@dataclass(frozen=True)
class Label:
    """What one printed label says: the firm, the instrument, its colour and validity, and the QR URL."""

    url: str
    firm_name: str
    management_no: str
    name: str
    #: green, yellow, red or pending (yellow, 待确认): the instrument's label on the day of printing.
    colour: str
    #: The due date the label's certificate gives (the ledger's, while it is the current one).
    valid_until: date | None
    certificate_no: str | None
    limits: str | None
    #: ``None`` while the record is the instrument's current certificate (see ``check.outdated_reason``).
    outdated: str | None


def _label(
    session: Session,
    record: CalibrationRecord,
    instrument: Instrument,
    firm: Organization,
    today: date,
    base_url: str,
) -> Label:
    outdated = outdated_reason(record, instrument)
    return Label(
        url=check_url(base_url, record.check_token),
        firm_name=firm.name,
        management_no=instrument.management_no,
        name=instrument.name,
        colour=instrument.label_state(today),
        valid_until=instrument.next_due_on if outdated is None else record.next_due_on,
        certificate_no=record.certificate_no,
        limits=current_use_limits(session, instrument),
        outdated=outdated,
    )


def ledger_label(
    session: Session, instrument: Instrument, firm: Organization, today: date, base_url: str
) -> Label:
    """Return the label of an instrument with no record yet (e.g. just imported), from its ledger columns.

    There is no public check without a record, so the code opens the instrument in the ledger.
    """
    return Label(
        url=f"{base_url.rstrip('/')}{INSTRUMENT_PATH}{instrument.id}",
        firm_name=firm.name,
        management_no=instrument.management_no,
        name=instrument.name,
        colour=instrument.label(today),
        valid_until=instrument.next_due_on,
        certificate_no=instrument.certificate_no,
        limits=current_use_limits(session, instrument),
        outdated=None,
    )


def record_label(session: Session, actor: Actor, record_id, today: date, base_url: str) -> Label:
    """Return the label of one record of the actor's organisation (404 otherwise).

    Only results that renew validity (verification, calibration, self-check) carry a label: an
    intermediate check is a :class:`Conflict`.
    """
    actor.require("ledger.read")
    record = get_in_org(session, CalibrationRecord, record_id, actor)
    if record.kind not in RENEWING_KINDS or not record.check_token:
        raise Conflict(N_("Only a verification, calibration or self-check carries a label."))
    instrument = get_in_org(session, Instrument, record.instrument_id, actor)
    return _label(session, record, instrument, session.get(Organization, actor.org_id), today, base_url)


@dataclass(frozen=True)
class Sheet:
    """The labels of the selected instruments, and the instruments left without one (with why)."""

    labels: list[Label]
    #: ``(instrument, reason)``: the reason is a message to translate at the boundary.
    unlabelled: list[tuple[Instrument, str]]


def label_sheet(
    session: Session, actor: Actor, instrument_ids: Sequence, today: date, base_url: str
) -> Sheet:
    """Return the instruments' labels: each one's newest current renewing record, else its ledger data.

    Ids are taken in the order given; one id that is not an instrument of the actor's organisation
    makes the whole sheet a 404, like a bulk edit.
    """
    actor.require("ledger.read")
    ids = list(dict.fromkeys(parse_id(i) or 0 for i in instrument_ids))  # 0 is nobody's: a 404
    if not ids:
        raise Invalid(N_("Select at least one instrument."), {"ids": [N_("Select at least one instrument.")]})
    if len(ids) > MAX_SHEET:
        raise invalid_field("ids", N_("At most %(limit)s instruments at once.", limit=MAX_SHEET))
    found = {
        i.id: i
        for i in session.scalars(
            select(Instrument).where(Instrument.org_id == actor.org_id, Instrument.id.in_(ids))
        )
    }
    if len(found) != len(ids):
        raise NotFound(N_("Not found."))
    newest: dict[int, CalibrationRecord] = {}
    for record in session.scalars(
        select(CalibrationRecord)
        .where(
            CalibrationRecord.org_id == actor.org_id,
            CalibrationRecord.instrument_id.in_(ids),
            CalibrationRecord.superseded_by_id.is_(None),
            CalibrationRecord.kind.in_(RENEWING_KINDS),
        )
        .order_by(CalibrationRecord.performed_on.desc(), CalibrationRecord.id.desc())
    ):
        if renews(
            found[record.instrument_id], record.kind
        ):  # a 强检 instrument's label is its verification's
            newest.setdefault(record.instrument_id, record)
    firm = session.get(Organization, actor.org_id)
    labels = []
    for instrument_id in ids:
        instrument, record = found[instrument_id], newest.get(instrument_id)
        if record is None:  # a freshly imported ledger: the label says what the ledger says
            labels.append(ledger_label(session, instrument, firm, today, base_url))
        else:
            labels.append(_label(session, record, instrument, firm, today, base_url))
    return Sheet(labels, [])


def _width(text: str) -> float:
    """Return the width of ``text`` in ems, roughly: wide (CJK) characters 1, others 0.58."""
    return sum(1.0 if unicodedata.east_asian_width(c) in "WF" else 0.58 for c in text)


def _printable(text: str | None) -> str:
    """Return ``text`` without control characters (XML cannot carry most of them) on one line."""
    return "".join(" " if unicodedata.category(c) in ("Cc", "Cf", "Zl", "Zp") else c for c in text or "")


def _lines(text: str, width_mm: float, size_mm: float, count: int = 1) -> list[str]:
    """Split ``text`` into at most ``count`` lines that fit ``width_mm``; the last one ends in … if cut."""
    limit = width_mm / size_mm
    lines, current = [], ""
    for char in _printable(text).strip():
        if _width(current + char) > limit:
            lines.append(current)
            current = char
            if len(lines) == count:
                break
        else:
            current += char
    else:
        lines.append(current)
        return lines
    last = lines[-1]
    while last and _width(last + "…") > limit:
        last = last[:-1]
    return [*lines[:-1], last + "…"]


def _text(x: float, y: float, size: float, text: str, weight: str = "normal", fill: str = "#000") -> str:
    bold = ' font-weight="bold"' if weight == "bold" else ""
    return f'<text x="{x}" y="{y}" font-size="{size}" fill="{fill}"{bold}>{escape(text)}</text>'


def label_svg(label: Label, tr: Callable[[str], str], colour_name: str) -> str:
    """Return ``label`` as a standalone 60 × 40 mm SVG document, its words translated by ``tr``.

    ``colour_name`` is the translated name of the label's colour (合格, 准用, 停用).
    """
    background, ink = LABEL_COLOURS.get(label.colour, ("#6c757d", "#fff"))
    qr_size = 20.0
    qr_x, qr_y = WIDTH - qr_size - 1.5, 9.5
    column = qr_x - 3  # the texts left of the code
    full, qr_body = _qr_group(label.url)
    parts = [
        f'<rect width="{WIDTH}" height="{HEIGHT}" fill="#fff"/>',
        f'<rect width="{WIDTH}" height="8" fill="{background}"/>',
        _text(2, 6, 5, _lines(colour_name, WIDTH - 4, 5)[0], "bold", ink),
        _text(2, 12.2, 2.3, _lines(label.firm_name, column, 2.3)[0]),
        _text(2, 16.9, 3.8, _lines(label.management_no, column, 3.8)[0], "bold"),
        _text(2, 20.8, 2.6, _lines(label.name, column, 2.6)[0]),
        _text(2, 24.5, 2.2, _lines(tr(N_("Valid until")), column, 2.2)[0]),
    ]
    if label.valid_until is not None:
        parts.append(_text(2, 28.4, 3.4, label.valid_until.isoformat(), "bold"))
    else:
        parts.append(_text(2, 28.2, 2.4, _lines(tr(N_("No periodic due date")), column, 2.4)[0], "bold"))
    # Below the code, across the whole label: certificate numbers are long, and the limits of use
    # are what the user must not miss.
    y = 32.6
    if label.certificate_no:
        certificate = f"{tr(N_('Certificate no.'))}: {label.certificate_no}"
        parts.append(_text(2, y, 2.2, _lines(certificate, WIDTH - 4, 2.2)[0]))
        y += 2.8
    if label.limits:
        limits = f"{tr(N_('Limits of use'))}: {label.limits}"
        for line in _lines(limits, WIDTH - 4, 2.1, count=2):
            parts.append(_text(2, round(y, 1), 2.1, line, "bold"))
            y += 2.8
    parts.append(
        f'<g transform="translate({qr_x} {qr_y}) scale({qr_size / full:.5f})"'
        f' shape-rendering="crispEdges">{qr_body}</g>'
    )
    title = escape(f"{label.management_no} {colour_name}")
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}mm" height="{HEIGHT}mm"'
        f' viewBox="0 0 {WIDTH} {HEIGHT}" font-family="{FONT}"><title>{title}</title>'
        + "".join(parts)
        + "</svg>"
    )
