"""The campaign's figures per region, as pure functions over plain facts (no database).

Rules (tested against worked examples in tests/unit/test_assistance_progress.py):

- A client counts as a small or medium firm (SME) unless its size class is ``large``; a client of
  unknown size (no employees or revenue given) counts, and is shown as "size unknown".
- A firm is *helped* in a year when it has any assistance record in the year, or a visit or
  service order of the year handled through the green channel; a firm helped twice counts once.
- A firm is *trained* when it has a measurement-management-system training record in the year.
- Progress is helped / quota and trained / quota (``service.figures.Rate``); above 100% is kept.
- The counts per kind count records of SMEs; green-channel visits and orders of SMEs have a
  column of their own.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from models.assistance import ASSISTANCE_KINDS
from service.figures import Rate

LARGE = "large"
#: The row of the firms whose region is not one of the plan's (none given, or outside Henan).
NO_REGION = ""


def is_sme(size_class: str | None) -> bool:
    """Whether a firm of ``size_class`` counts in the campaign (unknown size counts)."""
    return size_class != LARGE


@dataclass(frozen=True)
class Firm:
    """What the figures need of a client: its region and its size class."""

    id: int
    region_code: str | None
    size_class: str | None


@dataclass
class RegionProgress:
    """One region's quota and what was done towards it in the year."""

    region_code: str
    smes_to_help: int = 0
    smes_for_mms_training: int = 0
    helped: set[int] = field(default_factory=set)
    trained: set[int] = field(default_factory=set)
    #: The helped firms whose size is unknown (they count, but are shown apart).
    helped_size_unknown: set[int] = field(default_factory=set)
    kinds: dict[str, int] = field(default_factory=lambda: dict.fromkeys(ASSISTANCE_KINDS, 0))
    #: Visits and service orders of the year handled through the green channel.
    green_channel_work: int = 0

    @property
    def help_rate(self) -> Rate:
        """Firms helped against the quota."""
        return Rate(len(self.helped), self.smes_to_help)

    @property
    def training_rate(self) -> Rate:
        """Firms trained in measurement management systems against the quota."""
        return Rate(len(self.trained), self.smes_for_mms_training)

    def add(self, other: RegionProgress) -> None:
        """Add another region's figures to these (the totals row)."""
        self.smes_to_help += other.smes_to_help
        self.smes_for_mms_training += other.smes_for_mms_training
        self.helped |= other.helped
        self.trained |= other.trained
        self.helped_size_unknown |= other.helped_size_unknown
        for kind, count in other.kinds.items():
            self.kinds[kind] += count
        self.green_channel_work += other.green_channel_work


@dataclass
class Progress:
    """The year's progress: a row per region in the regions' order, then the firms of no plan region."""

    year: int
    rows: list[RegionProgress]
    total: RegionProgress


def progress(
    year: int,
    region_codes: Iterable[str],
    quotas: dict[str, tuple[int, int]],
    firms: dict[int, Firm],
    records: Iterable[tuple[int, str]],
    green_channel_work: Iterable[int],
) -> Progress:
    """Return the progress of ``year`` per region.

    ``quotas`` maps a region to (SMEs to help, SMEs for MMS training); ``records`` are the year's
    (firm id, kind); ``green_channel_work`` has a firm id per green-channel visit or order of the
    year. Facts about firms missing from ``firms`` (no longer served) are left out.
    """
    codes = list(region_codes)
    rows = {code: RegionProgress(code, *quotas.get(code, (0, 0))) for code in codes}

    def row_of(firm: Firm) -> RegionProgress:
        code = firm.region_code if firm.region_code in rows else NO_REGION
        if code not in rows:
            rows[code] = RegionProgress(code)
        return rows[code]

    def helped(firm: Firm, row: RegionProgress) -> None:
        row.helped.add(firm.id)
        if firm.size_class is None:
            row.helped_size_unknown.add(firm.id)

    for firm_id, kind in records:
        firm = firms.get(firm_id)
        if firm is None or not is_sme(firm.size_class):
            continue
        row = row_of(firm)
        helped(firm, row)
        row.kinds[kind] += 1
        if kind == "mms_training":
            row.trained.add(firm.id)
    for firm_id in green_channel_work:
        firm = firms.get(firm_id)
        if firm is None or not is_sme(firm.size_class):
            continue
        row = row_of(firm)
        helped(firm, row)
        row.green_channel_work += 1
    ordered = [rows[code] for code in codes] + ([rows[NO_REGION]] if NO_REGION in rows else [])
    total = RegionProgress("total")
    for row in ordered:
        total.add(row)
    return Progress(year, ordered, total)


def ranked(rows: list[RegionProgress]) -> list[RegionProgress]:
    """Return the regions with a quota to help, best progress first (then by region code)."""
    planned = [r for r in rows if r.smes_to_help]
    return sorted(planned, key=lambda r: (-(r.help_rate.rate or 0), r.region_code))
