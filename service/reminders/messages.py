"""The words of reminders: digests rendered per channel and language from ``templates/reminders/messages``.

Subject and body of each message live in templates; the rendered results are snapshot-tested in
both languages (``tests/snapshots``). An SMS must stay within two segments (``notifications.sms_text``).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from functools import cached_property, lru_cache, partial
from pathlib import Path

from babel.support import Translations
from jinja2 import Environment, FileSystemLoader, pass_eval_context, select_autoescape
from jinja2.nodes import EvalContext
from markupsafe import Markup, escape

from notifications.sms_text import fits
from service import names
from service.i18n import render

#: Instruments listed in a robot's markdown digest; the rest are counted.
ROBOT_ITEMS = 30
#: Characters of the firm's name kept in an SMS, so that a digest fits two segments.
SMS_ORG_CHARS = 16
SMS_MAX_SEGMENTS = 2


@dataclass(frozen=True)
class DigestItem:
    """One instrument in a digest."""

    management_no: str
    name: str
    department: str | None
    due_on: date
    #: ``due`` or ``overdue``, and the days before or after the due date.
    stage: str
    days: int


@dataclass(frozen=True)
class Digest:
    """Everything one recipient is told in one day's message."""

    org_name: str
    recipient_name: str | None
    day: date
    link: str
    items: list[DigestItem] = field(default_factory=list)

    # Kept once computed: each of a digest's four templates asks for them several times.
    @cached_property
    def due(self) -> list[DigestItem]:
        """Return the items not yet due, soonest first."""
        return [i for i in self.items if i.stage == "due"]

    @cached_property
    def overdue(self) -> list[DigestItem]:
        """Return the overdue items, longest overdue first."""
        return sorted((i for i in self.items if i.stage == "overdue"), key=lambda i: -i.days)

    @cached_property
    def within_days(self) -> int:
        """Return the horizon of the due items ("due within N days")."""
        return max((i.days for i in self.due), default=0)

    def summary(self) -> dict:
        """Return the counts kept with the message for the pages."""
        return {"due": len(self.due), "overdue": len(self.overdue), "within_days": self.within_days}


@dataclass(frozen=True)
class Rendered:
    """A message's words."""

    subject: str
    body: str
    html: str | None = None


#: Instruments whose words are kept per language: a day's digests list some 25,000 (1M instruments).
ITEM_WORDS_KEPT = 100_000


def item_words(gettext) -> dict:
    """Return the functions that word a digest's instruments in one language, by template name.

    ``when(item)`` says when it is due, ``line(item)`` is the plain text's line and ``row(item)``
    the HTML email's table row; ``lines(items)`` and ``rows(items)`` are a list's, in one call from
    the template rather than one per instrument. Each item's words are made once: an instrument is
    listed to its custodian, its department's head and the metrology staff, on up to three channels
    each, and these words were most of a day's rendering.
    """

    @lru_cache(maxsize=ITEM_WORDS_KEPT)
    def when(item: DigestItem) -> str:
        if item.stage != "due":
            return gettext("overdue by %(days)s days") % {"days": item.days}
        if item.days == 0:
            return gettext("due today")
        return gettext("due in %(days)s days") % {"days": item.days}

    @lru_cache(maxsize=ITEM_WORDS_KEPT)
    def line(item: DigestItem) -> str:
        words = {"no": item.management_no, "name": item.name, "due_on": item.due_on.isoformat()}
        if item.department:
            text = gettext("%(no)s %(name)s (%(department)s): %(due_on)s, %(when)s")
            return text % {**words, "department": item.department, "when": when(item)}
        return gettext("%(no)s %(name)s: %(due_on)s, %(when)s") % {**words, "when": when(item)}

    @lru_cache(maxsize=ITEM_WORDS_KEPT)
    def row(item: DigestItem) -> str:
        colour = ' style="color:#b02a37"' if item.stage == "overdue" else ""
        cells = (item.management_no, item.name, item.department or "", item.due_on.isoformat(), when(item))
        return f"<tr{colour}>" + "".join(f"<td>{escape(cell)}</td>" for cell in cells) + "</tr>\n"

    def lines(items: Iterable[DigestItem]) -> str:
        return "".join(f"\n- {line(item)}" for item in items)

    def rows(items: Iterable[DigestItem]) -> Markup:
        return Markup("".join(row(item) for item in items))  # noqa: S704  # nosec B704 # cells escaped by row

    return {"when": when, "lines": lines, "rows": rows}


def _name_of(gettext, kind: str, code) -> str:
    """Return the name of ``code`` in the code list ``kind``, as the web's ``name_of`` does."""
    if code is None or code == "":
        return ""
    return render(names.NAMES[kind].get(code, code), gettext)


def _new_style_gettext(gettext):
    """Return the templates' ``_``: Jinja's new-style ``gettext`` in one call instead of three.

    Jinja's ``_`` resolves ``gettext`` in the context and calls it, which calls the catalogue
    through the context again; a day's 30,000 digests make some 150,000 such calls. The result is
    the same: the message translated, marked safe where the template autoescapes (so that only the
    variables are escaped), and always formatted with the variables, as Jinja does.
    """
    translated = lru_cache(maxsize=None)(gettext)  # bounded by the catalogue's messages

    @pass_eval_context
    def _(eval_ctx: EvalContext, message: str, **variables) -> str:
        text = translated(message)
        if eval_ctx.autoescape:
            text = Markup(text)  # noqa: S704  # nosec B704 # our catalogue's message; variables escaped by %
        return text % variables

    return _


class MessageTemplates:
    """The message templates, rendered in any language with Jinja and Babel's catalogues (no Flask).

    Jinja is set up as the web's: HTML autoescaped, ``_``/``ngettext`` of the new style, and
    ``name_of`` for the names of codes, so that a message reads the same from a job or a request.
    """

    def __init__(self, templates: Path, translations: Path):
        self._loader = FileSystemLoader(str(templates))
        self._translations = translations
        self._environments: dict[str, Environment] = {}

    def environment(self, locale: str) -> Environment:
        """Return the Jinja environment that speaks ``locale`` (built once per language)."""
        env = self._environments.get(locale)
        if env is None:
            catalogue = Translations.load(str(self._translations), [locale])
            env = Environment(
                loader=self._loader,
                autoescape=select_autoescape(("html", "htm", "xml", "xhtml", "svg")),
                extensions=["jinja2.ext.i18n"],
                # Templates change with a release, not while it runs: no stat of the file per message.
                auto_reload=False,
            )
            env.install_gettext_translations(catalogue, newstyle=True)
            env.globals["_"] = _new_style_gettext(catalogue.gettext)
            env.globals["name_of"] = partial(_name_of, catalogue.gettext)
            env.globals.update(item_words(catalogue.gettext))
            self._environments[locale] = env
        return env

    def render(self, template: str, locale: str, **context) -> str:
        """Render ``templates/reminders/messages/<template>`` in ``locale``, trimmed."""
        return (
            self.environment(locale).get_template(f"reminders/messages/{template}").render(**context).strip()
        )


#: The project's own templates and catalogues; pass another :class:`MessageTemplates` to use others.
TEMPLATES = MessageTemplates(
    Path(__file__).resolve().parents[2] / "templates", Path(__file__).resolve().parents[1] / "translations"
)


def render_digest(
    digest: Digest, channel: str, locale: str, templates: MessageTemplates = TEMPLATES
) -> Rendered:
    """Render ``digest`` for ``channel`` in ``locale``."""
    return render_digests(digest, (channel,), locale, templates)[channel]


def render_digests(
    digest: Digest, channels: Iterable[str], locale: str, templates: MessageTemplates = TEMPLATES
) -> dict[str, Rendered]:
    """Render ``digest`` for each of ``channels`` in ``locale``, each template once.

    A recipient with SMS, email and in-app needs one subject and one plain body for all three:
    planning a day renders some 30,000 messages, and rendering was most of its time.
    """
    _render = templates.render
    context = {"d": digest, "org_short": digest.org_name[:SMS_ORG_CHARS], "robot_items": ROBOT_ITEMS}
    subject = _render("digest.subject.txt", locale, **context)
    rendered: dict[str, Rendered] = {}
    plain = None
    for channel in channels:
        if channel == "sms":
            # The firm's name is shortened until the SMS fits two segments (Chinese text is UCS-2).
            for chars in (SMS_ORG_CHARS, 8, 4, 0):
                body = _render("digest.sms.txt", locale, **{**context, "org_short": digest.org_name[:chars]})
                if fits(body, SMS_MAX_SEGMENTS):
                    break
            rendered[channel] = Rendered(subject, body)
        elif channel in ("wecom", "dingtalk"):
            rendered[channel] = Rendered(subject, _render("digest.robot.md", locale, **context))
        else:
            plain = plain if plain is not None else _render("digest.email.txt", locale, **context)
            html = _render("digest.email.html", locale, **context) if channel == "email" else None
            rendered[channel] = Rendered(subject, plain, html)
    return rendered


def render_notice(
    template: str, channel: str, locale: str, templates: MessageTemplates = TEMPLATES, **context
) -> Rendered:
    """Render a short notice (``test``, ``sms_ceiling``) for ``channel`` in ``locale``."""
    subject = templates.render(f"{template}.subject.txt", locale, **context)
    return Rendered(subject, templates.render(f"{template}.txt", locale, **context))
