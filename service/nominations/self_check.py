"""The enterprise self-check table (企业计量情况自我检查表): its 33 items, pre-filled from the dossier.

Where the firm's own data shows the answer, the item is pre-filled with the evidence named;
the firm answers the rest (and may change a pre-filled answer, with a reason the reviewers see).
An item is pre-filled only when the data says something: no data is not "no".
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cache

from service.figures import Rate, percent
from service.i18n import N_, Msg
from service.nominations.dossier import Dossier
from service.validation import reference_rows

#: 是 / 否 / 不适用 (— on the form).
ANSWERS = ("yes", "no", "na")


@dataclass(frozen=True)
class Item:
    """One question of the table, in the programme's words."""

    seq: int
    category: str
    item: str
    question: str


@dataclass(frozen=True)
class Prefill:
    """An answer the data gives, and the evidence it rests on."""

    answer: str
    evidence: Msg


@cache
def items() -> tuple[Item, ...]:
    """Return the 33 items in the programme's order."""
    return tuple(
        Item(int(row["seq"]), row["category"], row["item"], row["question"])
        for row in reference_rows("self_check_items.csv")
    )


def _all_of(rate: Rate, evidence: Msg) -> Prefill | None:
    """Yes when every counted thing meets the rule, no when some do not, nothing when none was counted."""
    if not rate.denominator:
        return None
    return Prefill("yes" if rate.numerator == rate.denominator else "no", evidence)


def _confirmed(dossier: Dossier) -> Prefill | None:
    rate = dossier.confirmations
    return _all_of(rate, N_("%(n)s of %(d)s calibrations confirmed", n=rate.numerator, d=rate.denominator))


def _unified_ledger(dossier: Dossier) -> Prefill | None:
    counts = dossier.instruments
    return _all_of(
        Rate(counts["complete"], counts["in_use"]),
        N_(
            "%(n)s of %(d)s instruments in use in the ledger with their department and interval",
            n=counts["complete"],
            d=counts["in_use"],
        ),
    )


def _periodic_plan(dossier: Dossier) -> Prefill | None:
    counts = dossier.instruments
    coverage = dossier.coverage.rate
    return _all_of(
        Rate(counts["scheduled"], counts["periodic"]),
        N_(
            "%(scheduled)s of %(periodic)s periodic instruments scheduled; coverage %(coverage)s",
            scheduled=counts["scheduled"],
            periodic=counts["periodic"],
            coverage=percent(coverage.rate),
        ),
    )


def _classified(dossier: Dossier) -> Prefill | None:
    counts = dossier.instruments
    classified = counts["in_use"] - counts["by_abc"]["none"]
    return _all_of(
        Rate(classified, counts["in_use"]),
        N_(
            "%(n)s of %(d)s instruments in use have an ABC class; labels shown on each",
            n=classified,
            d=counts["in_use"],
        ),
    )


def _traceback(dossier: Dossier) -> Prefill | None:
    cases = dossier.nonconformity
    return _all_of(
        Rate(cases["assessed"], cases["opened"]),
        N_(
            "%(opened)s nonconformity cases opened, %(assessed)s with impact assessed, %(closed)s closed",
            opened=cases["opened"],
            assessed=cases["assessed"],
            closed=cases["closed"],
        ),
    )


def _validity_monitoring(dossier: Dossier) -> Prefill | None:
    reminders = dossier.reminders
    if not reminders["sent"]:
        return None
    return Prefill(
        "yes",
        N_(
            "%(sent)s due-date reminders delivered to %(people)s people",
            sent=reminders["sent"],
            people=reminders["recipients"],
        ),
    )


def _stability_checks(dossier: Dossier) -> Prefill | None:
    """Yes when repeatability tests or stability assessments were done in the window, else unanswered."""
    checks = dossier.stability_checks
    tests, assessments = checks["repeatability"]["done"], checks["stability"]["done"]
    if not tests and not assessments:
        return None
    return Prefill(
        "yes",
        N_(
            "%(tests)s repeatability tests and %(assessments)s stability assessments done",
            tests=tests,
            assessments=assessments,
        ),
    )


def _approvals(dossier: Dossier) -> Prefill | None:
    changes = dossier.status_changes
    if not changes["approved"]:
        return None
    by_other = changes["approved_by_other"]["numerator"]
    return Prefill(
        "yes",
        N_(
            "%(n)s status changes approved, %(other)s by someone other than the requester",
            n=changes["approved"],
            other=by_other,
        ),
    )


def _complete_records(dossier: Dossier) -> Prefill | None:
    rate = dossier.complete_records
    return _all_of(
        rate,
        N_(
            "%(n)s of %(d)s verifications and calibrations with certificate number and standards named",
            n=rate.numerator,
            d=rate.denominator,
        ),
    )


#: The items the data can answer, by sequence number.
RULES: dict[int, Callable[[Dossier], Prefill | None]] = {
    11: _confirmed,
    20: _unified_ledger,
    21: _periodic_plan,
    22: _classified,
    23: _traceback,
    24: _validity_monitoring,
    25: _stability_checks,
    26: _approvals,
    29: _complete_records,
}


def prefill(dossier: Dossier) -> dict[int, Prefill]:
    """Return the answers the dossier gives, by item sequence number."""
    answers = {}
    for seq, rule in RULES.items():
        found = rule(dossier)
        if found is not None:
            answers[seq] = found
    return answers
