"""Typed domain errors, raised by operations and mapped to HTTP in one place."""

from __future__ import annotations

from service.i18n import N_

#: The headline over the messages of the fields an input got wrong.
FIX_FIELDS = N_("Please correct the marked fields.")


class DomainError(Exception):
    """Base of the errors an operation raises for the caller to show."""

    status = 400

    def __init__(self, message: str = "", field_errors: dict[str, list[str]] | None = None):
        super().__init__(message)
        self.message = message
        self.field_errors = field_errors or {}


class NotFound(DomainError):
    """The object does not exist for this actor (another tenant's objects included)."""

    status = 404


class Invalid(DomainError):
    """The input breaks a rule; ``field_errors`` maps each field to its messages."""

    status = 400


def invalid_field(field: str, message) -> Invalid:
    """Return the error that refuses one field of the input with ``message``."""
    return Invalid(FIX_FIELDS, {field: [message]})


class Conflict(DomainError):
    """The input clashes with the current state (a duplicate, an illegal transition)."""

    status = 409


class Forbidden(DomainError):
    """The actor's role does not allow the operation on an object it may see."""

    status = 403


class Throttled(DomainError):
    """Too many attempts; try again later."""

    status = 429
