"""Translatable messages for code that must not import Flask.

Domain code marks user-facing messages with :func:`N_`; the web and API boundaries translate them
into the user's language with :func:`service.web.i18n.translate`. A message is a ``str`` (its
English msgid) carrying its interpolation parameters, so libraries that expect strings (such as
marshmallow) pass it through untouched.
"""

from __future__ import annotations

from collections.abc import Callable


class Msg(str):
    """An English msgid with the parameters to interpolate after translation."""

    params: dict

    def __new__(cls, msgid: str, params: dict | None = None) -> Msg:  # noqa: D102
        obj = super().__new__(cls, msgid)
        obj.params = params or {}
        return obj

    def render(self, gettext=lambda s: s) -> str:
        """Return the message translated by ``gettext`` and interpolated."""
        text = gettext(str(self))
        if not self.params:
            return text
        # A parameter that is itself a message (a discipline's name) is translated too.
        params = {k: v.render(gettext) if isinstance(v, Msg) else v for k, v in self.params.items()}
        return text % params


#: How a code of a code list reads at the boundary (the web front end names them; codes otherwise).
_code_namer: Callable[[str], str] = str


class CodeList(Msg):
    """Codes (the choices a field accepts) that render as their names, never as codes."""

    def __new__(cls, codes) -> CodeList:  # noqa: D102
        obj = super().__new__(cls, ", ".join(codes))
        obj.params = {}
        obj.codes = tuple(codes)
        return obj

    def render(self, gettext=lambda s: s) -> str:
        """Return the names of the codes, joined as the language lists things."""
        separator = gettext(str(_SEPARATOR))
        return separator.join(_code_namer(code) for code in self.codes)


def set_code_namer(namer: Callable[[str], str]) -> None:
    """Say how codes read at the boundary (the web front end registers its display names)."""
    global _code_namer
    _code_namer = namer


#: What translates a msgid into the reader's language: Flask-Babel's ``gettext`` in a request,
#: a Babel catalogue's outside one (a job, the command line).
Gettext = Callable[[str], str]


def render(message, gettext: Gettext = str) -> str:
    """Return a message translated by ``gettext``: a :class:`Msg` with its parameters, or a plain msgid."""
    return message.render(gettext) if isinstance(message, Msg) else gettext(str(message))


def N_(msgid: str, **params) -> Msg:  # noqa: N802 (the conventional name that pybabel extracts)
    """Mark ``msgid`` for translation at the boundary."""
    return Msg(msgid, params)


#: marshmallow's own messages, listed so that the catalog carries their translations.
LIBRARY_MESSAGES = (
    N_("Missing data for required field."),
    N_("Unknown field."),
    N_("Field may not be null."),
    N_("Not a valid string."),
    N_("Not a valid integer."),
    N_("Not a valid number."),
    N_("Not a valid boolean."),
    N_("Not a valid date."),
    N_("Not a valid datetime."),
    N_("Not a valid email address."),
    N_("Not a valid list."),
    N_("Invalid input type."),
    N_("Invalid value."),
)


#: How the language separates the items of a list ("、" in Chinese).
_SEPARATOR = N_(", ")
