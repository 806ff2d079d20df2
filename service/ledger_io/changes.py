"""What an import creates and changes, row by row: the preview's "what will change".

While an import decides its rows (:func:`~service.ledger_io.importer.write_ledger`), a
:class:`ChangeList` keeps, in file order, each instrument it creates (sheet row, management
number, name) and each one it updates with every changed field before → after. The values are
kept as a reader sees them, not as the database holds them: the department and a linked
custodian by name (what the ledger shows), dates as ISO strings, codes (status, conclusion, …) as
codes, translated when shown. Plain tuples and dicts: a 100,000-row file keeps 100,000 of them.

The lists are stored apart from the report (``LedgerImport.changes``), so that the page reads the
report's counts without them; a page of them is cut out with :func:`page_of`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from service.ledger_io.writing import Decision

#: The changes' kinds, as the page's tabs and the API's ``kind`` name them.
KINDS = ("created", "updated")
#: Rows per page on the page and, by default, in the API.
PER_PAGE = 50
#: Fields the ledger computes from others: shown, but marked as calculated.
DERIVED_FIELDS = frozenset({"next_due_on"})
#: Fields whose change the page makes conspicuous: the instrument is renamed.
RENAMING_FIELDS = frozenset({"name", "management_no"})
#: Stored columns shown under another field: the department's id as its name. The custodian's
#: three columns are shown as ``custodian`` and ``custodian_mobile``, as the ledger shows them.
_SHOWN_AS = {"department_id": "department"}
_CUSTODIAN = ("custodian_user_id", "custodian_name", "custodian_mobile")


def _shown(value: Any) -> Any:
    """Return a stored value as JSON data to display: dates as ISO strings."""
    return value.isoformat() if isinstance(value, date) else value


class ChangeList:
    """The instruments an import creates and updates, in file order, with their values for display.

    ``departments`` maps the firm's department ids to names (departments the import creates are
    added as it goes); ``users`` maps user ids to ``(name, mobile)``, for a linked custodian.
    """

    def __init__(
        self,
        departments: dict[int, str] | None = None,
        users: dict[int, tuple[str, str | None]] | None = None,
    ):
        self.departments = dict(departments or {})
        self.users = dict(users or {})
        #: ``(row, management_no, name)`` per created instrument.
        self.created: list[tuple[int, str, str | None]] = []
        #: ``(row, management_no, name, {field: [before, after]})`` per updated instrument.
        self.updated: list[tuple[int, str, str | None, dict[str, list]]] = []

    def note(self, row: int, decision: Decision) -> None:
        """Keep one decided row: created, updated, or (unchanged) nothing."""
        values = decision.values
        if decision.new_department is not None:
            self.departments[values["department_id"]] = decision.new_department
        if decision.outcome == "created":
            self.created.append((row, values["management_no"], values["name"]))
        elif decision.outcome == "updated":
            fields = self._fields(values, decision.changes)
            self.updated.append((row, values["management_no"], values["name"], fields))

    def _fields(self, values: dict, changes: dict) -> dict[str, list]:
        """Return the changed fields as shown, in the ledger's column order (the changes' own)."""
        shown = {}
        for column, (before, after) in changes.items():
            if column in _CUSTODIAN:
                if "custodian" not in shown and "custodian_mobile" not in shown:
                    shown.update(self._custodian(values, changes))
                continue
            if column == "department_id":
                before, after = self.departments.get(before, before), self.departments.get(after, after)
            shown[_SHOWN_AS.get(column, column)] = [_shown(before), _shown(after)]
        return shown

    def _custodian(self, values: dict, changes: dict) -> dict[str, list]:
        """Return the custodian's change as the ledger shows it (a linked user's name and mobile).

        Unlinking a user whose name and mobile the file repeats changes nothing a reader sees.
        """
        sides = {column: changes.get(column, [values[column]] * 2) for column in _CUSTODIAN}
        name, mobile = [None, None], [None, None]
        for side in (0, 1):
            user = sides["custodian_user_id"][side]
            if user is not None:
                name[side], mobile[side] = self.users.get(user, (None, None))
            else:
                name[side], mobile[side] = sides["custodian_name"][side], sides["custodian_mobile"][side]
        shown = {}
        if name[0] != name[1]:
            shown["custodian"] = name
        if mobile[0] != mobile[1]:
            shown["custodian_mobile"] = mobile
        return shown

    def dump(self) -> dict:
        """Return the lists as JSON data, for ``LedgerImport.changes``."""
        return {"created": [list(c) for c in self.created], "updated": [list(u) for u in self.updated]}


def created_item(entry: list) -> dict:
    """Return a stored created row as ``{"row", "management_no", "name"}``."""
    row, number, name = entry[:3]
    return {"row": row, "management_no": number, "name": name}


def updated_item(entry: list) -> dict:
    """Return a stored updated row with its changes as ``[{"field", "before", "after", "derived"}]``.

    The changes keep the order they were stored in: the ledger's columns'.
    """
    row, number, name, changed = entry
    return {
        "row": row,
        "management_no": number,
        "name": name,
        "changes": [
            {"field": field, "before": before, "after": after, "derived": field in DERIVED_FIELDS}
            for field, (before, after) in changed.items()
        ],
    }


def items(stored: dict | None, kind: str) -> list[dict]:
    """Return every stored row of ``kind`` as items (the CLI prints them all)."""
    entries = (stored or {}).get(kind) or []
    convert = created_item if kind == "created" else updated_item
    return [convert(entry) for entry in entries]


@dataclass(frozen=True)
class ChangesPage:
    """One page of an import's created or updated rows, as stored (see :meth:`ChangeList.dump`)."""

    kind: str
    page: int
    per_page: int
    total: int
    #: ``[row, management_no, name]`` or ``[row, management_no, name, {field: [before, after]}]``.
    entries: list[list]

    @property
    def pages(self) -> int:
        """Return how many pages there are (at least one, so that an empty list has its page)."""
        return max(1, -(-self.total // self.per_page))

    @property
    def next_page(self) -> int | None:
        """Return the next page's number, or None on the last."""
        return self.page + 1 if self.page < self.pages else None

    def items(self) -> list[dict]:
        """Return the page's entries as JSON objects (see :func:`created_item`, :func:`updated_item`)."""
        convert = created_item if self.kind == "created" else updated_item
        return [convert(entry) for entry in self.entries]


def page_of(stored: dict | None, kind: str, page: int = 1, per_page: int = PER_PAGE) -> ChangesPage:
    """Return page ``page`` (1-based) of the stored rows of ``kind``; past the end, an empty page."""
    entries = (stored or {}).get(kind) or []
    start = (page - 1) * per_page
    return ChangesPage(kind, page, per_page, len(entries), entries[start : start + per_page])
