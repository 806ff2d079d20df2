"""Language selection and translation of domain messages at the boundary."""

from __future__ import annotations

from types import SimpleNamespace

from flask import Flask, g, session
from flask_babel import Babel, get_domain, get_locale, get_translations, gettext

from models.tenancy import LOCALES
from service.web.context import signed_in_user

babel = Babel()


def select_locale() -> str:
    """Use the user's chosen language, else the visitor's choice, else Simplified Chinese."""
    user = signed_in_user()
    if user is not None:
        return user.locale
    chosen = session.get("locale")
    return chosen if chosen in LOCALES else "zh_Hans_CN"


def translate(message) -> str:
    """Translate a domain message (an English msgid, maybe with parameters) for this request."""
    render = getattr(message, "render", None)
    return render(gettext) if render else gettext(str(message))


def translate_errors(field_errors: dict) -> dict[str, list[str]]:
    """Translate every message of a ``{field: [message]}`` mapping."""
    return {field: [translate(m) for m in messages] for field, messages in field_errors.items()}


def current_language() -> SimpleNamespace:
    """The request's language: its ``translations`` and a ``tables`` dict its helpers may fill.

    Looked up once per request and language. Flask-Babel finds the request's translations anew for
    every message (several context lookups and the locale's name built again): a hundred times a
    page, a tenth of a ledger page's CPU. :func:`flask_babel.force_locale` and
    :func:`flask_babel.refresh` put a new locale object in place, which starts a new language here.
    """
    if not g:  # outside an application context there is nothing to keep
        return SimpleNamespace(translations=get_translations(), tables={})
    ctx = g.get("_flask_babel")
    locale, domain = getattr(ctx, "babel_locale", None), getattr(ctx, "babel_domain", None)
    if locale is None or domain is None:  # the context's first message: Flask-Babel fills it
        locale, domain, ctx = get_locale(), get_domain(), g._flask_babel
    language = getattr(ctx, "calrecall_language", None)
    if language is None or language.locale is not locale or language.domain is not domain:
        language = ctx.calrecall_language = SimpleNamespace(
            locale=locale, domain=domain, translations=get_translations(), tables={}
        )
    return language


def _install_template_gettext(app: Flask) -> None:
    """Templates' ``_``/``gettext``/``ngettext`` through :func:`current_language` (same answers)."""
    app.jinja_env.install_gettext_callables(
        gettext=lambda s: current_language().translations.ugettext(s),
        ngettext=lambda s, p, n: current_language().translations.ungettext(s, p, n),
        newstyle=True,
        pgettext=lambda c, s: current_language().translations.upgettext(c, s),
        npgettext=lambda c, s, p, n: current_language().translations.unpgettext(c, s, p, n),
    )


def init_i18n(app: Flask) -> None:
    """Bind Flask-Babel with the locale selector."""
    babel.init_app(app, locale_selector=select_locale, default_translation_directories="translations")
    _install_template_gettext(app)
    app.jinja_env.globals.update(translate=translate, get_locale=get_locale)
