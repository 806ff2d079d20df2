"""Language selection and translation of domain messages at the boundary."""

from __future__ import annotations

from flask import Flask, session
from flask_babel import Babel, get_locale, gettext

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


def init_i18n(app: Flask) -> None:
    """Bind Flask-Babel with the locale selector."""
    babel.init_app(app, locale_selector=select_locale, default_translation_directories="translations")
    app.jinja_env.globals.update(translate=translate, get_locale=get_locale)
