"""Suggesting a new calibration interval from an instrument's own as-found history: pure functions.

The rule is the "staircase" (simple response, calendar-time) method of ILAC-G24:2022 / OIML D 10:2022,
*Guidelines for the determination of recalibration intervals of measuring equipment*: each time an
instrument is calibrated, the next interval is reduced if it was found out of tolerance and extended
if it was found comfortably within tolerance. The guideline's example extends after a single result
within 80 % of the MPE; this module is more cautious and extends only after a run of results:

- The latest as-found result out of tolerance: shorten to ``SHORTEN_FACTOR`` of the interval, rounded
  down to whole months (so always at least a month shorter), never below ``MIN_MONTHS``.
- The last ``LENGTHEN_AFTER`` results all in tolerance *with margin* (every point's error at most
  ``MARGIN_RATIO`` of the MPE): lengthen to ``LENGTHEN_FACTOR`` of the interval, rounded half up to
  whole months (so always at least a month longer), never above ``MAX_MONTHS``.
- Anything else keeps the interval, and says why: too little history, a result without margin, one
  without recorded errors, or one close to its limit (above ``NEAR_LIMIT_RATIO`` of the MPE).

Mandatory verification (强制检定) is different: its period is fixed by the verification regulation
(JJG), so a suggestion never goes beyond the regulation's maximum; when that maximum is not known the
current period is taken as the maximum, so the interval can be shortened but not lengthened. For
other instruments ``regulation_max_months`` is ignored: a calibration specification's (JJF) interval
is only a recommendation, and the firm sets its own.

Decisions:

- Records without as-found data (``within_tolerance is None``) are skipped: they neither count
  towards a run of good results nor break one, and the reasons say how many were skipped.
- A result is "with margin" only if its ``worst_ratio`` is known: an in-tolerance verdict without
  recorded errors cannot show margin, so it breaks a run (but does not shorten).
- The verdict is ``within_tolerance``; ``worst_ratio`` only grades it (a guard band may make the two
  disagree, and the verdict wins). A ratio that is not a finite, non-negative number counts as unknown.
- Percentages in messages are rounded *up* to whole percents, so a figure shown never understates an
  error (0.504 of the MPE is shown as 51 %, not as a misleading 50 % next to the 50 % margin).
- An interval of 0 months (no periodic calibration) is kept as 0: it is the one suggestion outside
  ``[MIN_MONTHS, MAX_MONTHS]``. A current interval above the bounds (or above the regulation's
  maximum) is brought down to them, whatever the history says.

Intermediate checks (期间核查) between calibrations count too (:func:`with_check_findings`): a
control-chart signal, or a check reading outside the MPE, from a check done after the last
calibration is not resolved yet — the instrument is flagged **calibrate early**, each finding is
named in words, and the interval is never lengthened (a suggestion to lengthen becomes one to keep;
one to shorten stands). A calibration after the check resolves it: its own as-found result speaks.

A person accepts or rejects the suggestion; recording that decision is the caller's business.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date

from service.i18n import N_, Msg

#: After an out-of-tolerance as-found result the interval is cut to this fraction (rounded down).
SHORTEN_FACTOR = 0.5
#: After ``LENGTHEN_AFTER`` consecutive in-tolerance results with margin the interval grows by this
#: factor (rounded half up).
LENGTHEN_FACTOR = 1.5
#: How many consecutive in-tolerance results with margin it takes to lengthen the interval.
LENGTHEN_AFTER = 3
#: "With margin": every point's error within this fraction of the MPE (``worst_ratio <= 0.5``).
MARGIN_RATIO = 0.5
#: An in-tolerance result above this fraction of the MPE is "close to its limit" (ILAC-G24's 80 %).
NEAR_LIMIT_RATIO = 0.8
#: The shortest interval this review suggests, in months.
MIN_MONTHS = 1
#: The longest interval this review suggests, in months (five years).
MAX_MONTHS = 60


@dataclass(frozen=True)
class AsFound:
    """One calibration's as-found verdict, oldest to newest in a history."""

    performed_on: date
    #: ``None`` when the record had no as-found data.
    within_tolerance: bool | None
    #: max |error| / MPE over the points (0.4 = 40 % of the MPE); ``None`` if unknown.
    worst_ratio: float | None


@dataclass(frozen=True)
class Reason:
    """One step of the reasoning behind a suggestion, as a translatable message."""

    message: Msg


#: Kinds of intermediate-check finding: a control-chart signal, a reading outside the MPE.
SIGNAL = "signal"
OUT_OF_MPE = "out_of_mpe"


@dataclass(frozen=True)
class CheckFinding:
    """What an intermediate check done since the last calibration found, in words."""

    checked_on: date
    #: :data:`SIGNAL` or :data:`OUT_OF_MPE`.
    kind: str
    words: Msg


@dataclass(frozen=True)
class Suggestion:
    """A suggested calibration interval and the reasons for it, for a person to accept or reject."""

    current_months: int
    suggested_months: int
    reasons: tuple[Reason, ...]
    #: Intermediate checks since the last calibration call for calibrating before the due date.
    calibrate_early: bool = False
    #: What those checks found, oldest first.
    check_findings: tuple[CheckFinding, ...] = ()

    @property
    def direction(self) -> str:
        """Return ``"shorten"``, ``"lengthen"`` or ``"keep"``."""
        if self.suggested_months < self.current_months:
            return "shorten"
        if self.suggested_months > self.current_months:
            return "lengthen"
        return "keep"


def suggest_interval(
    history: Sequence[AsFound],
    current_months: int,
    *,
    is_mandatory: bool,
    regulation_max_months: int | None = None,
) -> Suggestion:
    """Suggest a calibration interval from an instrument's as-found history, with the reasons."""
    if current_months < 0:
        raise ValueError(f"current_months must not be negative, got {current_months}")
    if regulation_max_months is not None and regulation_max_months < MIN_MONTHS:
        raise ValueError(f"regulation_max_months must be at least {MIN_MONTHS}, got {regulation_max_months}")
    if current_months == 0:
        return Suggestion(
            0, 0, (Reason(N_("The instrument has no periodic calibration interval to review.")),)
        )

    reasons: list[Reason] = []
    usable = [
        entry for entry in sorted(history, key=lambda e: e.performed_on) if entry.within_tolerance is not None
    ]
    skipped = len(history) - len(usable)
    if skipped:
        reasons.append(
            Reason(
                N_(
                    "Calibration records without as-found data, left out of the review: %(count)s.",
                    count=skipped,
                )
            )
        )

    if not usable:
        reasons.append(Reason(N_("No as-found results are recorded yet.")))
        proposed = current_months
    elif not usable[-1].within_tolerance:
        proposed = _shorten(usable[-1], current_months, reasons)
    else:
        proposed = _lengthen_or_keep(usable, current_months, reasons)

    return Suggestion(
        current_months,
        _bounded(proposed, current_months, is_mandatory, regulation_max_months, reasons),
        tuple(reasons),
    )


def with_check_findings(suggestion: Suggestion, findings: Sequence[CheckFinding]) -> Suggestion:
    """Return ``suggestion`` weighed against the unresolved findings of intermediate checks.

    None: the suggestion as it is. Any: flagged to calibrate early, with the findings (oldest first)
    and a reason counting them; a longer interval is withdrawn (the current one is kept).
    """
    if not findings:
        return suggestion
    ordered = tuple(sorted(findings, key=lambda f: f.checked_on))
    signals = sum(1 for f in ordered if f.kind == SIGNAL)
    reasons = [
        Reason(
            N_(
                "Intermediate checks since the last calibration call for calibrating early "
                "(control-chart signals: %(signals)s; readings outside the MPE: %(out)s).",
                signals=signals,
                out=len(ordered) - signals,
            )
        )
    ]
    suggested = suggestion.suggested_months
    if suggested > suggestion.current_months:
        reasons.append(
            Reason(
                N_(
                    "While the checks' findings are unresolved the interval is not lengthened: "
                    "%(current)s months are kept instead of %(suggested)s.",
                    current=suggestion.current_months,
                    suggested=suggested,
                )
            )
        )
        suggested = suggestion.current_months
    return replace(
        suggestion,
        suggested_months=suggested,
        reasons=(*suggestion.reasons, *reasons),
        calibrate_early=True,
        check_findings=ordered,
    )


def _shorten(latest: AsFound, current: int, reasons: list[Reason]) -> int:
    """Return the shortened interval after an out-of-tolerance result, explaining it in ``reasons``."""
    on = latest.performed_on.isoformat()
    ratio = _ratio(latest)
    if ratio is None:
        reasons.append(Reason(N_("The last as-found result (%(date)s) was out of tolerance.", date=on)))
    else:
        reasons.append(
            Reason(
                N_(
                    "The last as-found result (%(date)s) was out of tolerance (%(percent)s%% of the MPE).",
                    date=on,
                    percent=_percent(ratio),
                )
            )
        )
    if current <= MIN_MONTHS:
        reasons.append(Reason(N_("The interval is already the shortest this review suggests.")))
        return current
    # Rounded down, and at least a month shorter whatever the factor, so the step is never lost.
    shortened = max(MIN_MONTHS, min(current - 1, math.floor(current * SHORTEN_FACTOR)))
    reasons.append(
        Reason(
            N_(
                "After an out-of-tolerance result the rule suggests %(suggested)s months "
                "(%(factor)s%% of %(current)s, rounded down to whole months).",
                factor=_percent(SHORTEN_FACTOR),
                current=current,
                suggested=shortened,
            )
        )
    )
    return shortened


def _lengthen_or_keep(usable: list[AsFound], current: int, reasons: list[Reason]) -> int:
    """Return the interval after an in-tolerance latest result, explaining it in ``reasons``."""
    latest = usable[-1]
    on = latest.performed_on.isoformat()
    ratio = _ratio(latest)
    if ratio is None:
        reasons.append(
            Reason(
                N_(
                    "The last as-found result (%(date)s) was in tolerance, but its errors relative to the "
                    "MPE are not recorded, so its margin cannot be judged.",
                    date=on,
                )
            )
        )
    elif ratio > NEAR_LIMIT_RATIO:
        reasons.append(
            Reason(
                N_(
                    "The last as-found result (%(date)s) was in tolerance but close to its limit "
                    "(%(percent)s%% of the MPE).",
                    date=on,
                    percent=_percent(ratio),
                )
            )
        )
    elif ratio > MARGIN_RATIO:
        reasons.append(
            Reason(
                N_(
                    "The last as-found result (%(date)s) was in tolerance at %(percent)s%% of the MPE; "
                    "lengthening the interval needs every error within %(margin)s%%.",
                    date=on,
                    percent=_percent(ratio),
                    margin=_percent(MARGIN_RATIO),
                )
            )
        )

    streak = 0
    for entry in reversed(usable):
        if not _with_margin(entry):
            break
        streak += 1

    if streak >= LENGTHEN_AFTER:
        window = usable[-LENGTHEN_AFTER:]
        worst = max(_ratio(entry) or 0.0 for entry in window)
        # Rounded half up (not Python's half-to-even), and at least a month longer whatever the factor.
        lengthened = max(current + 1, math.floor(current * LENGTHEN_FACTOR + 0.5))
        reasons.append(
            Reason(
                N_(
                    "The last %(count)s as-found results (%(first)s to %(last)s) were all in tolerance, "
                    "the largest error at %(percent)s%% of the MPE.",
                    count=LENGTHEN_AFTER,
                    first=window[0].performed_on.isoformat(),
                    last=window[-1].performed_on.isoformat(),
                    percent=_percent(worst),
                )
            )
        )
        reasons.append(
            Reason(
                N_(
                    "After %(count)s consecutive in-tolerance results with margin the rule suggests "
                    "%(suggested)s months (%(factor)s%% of %(current)s, rounded to whole months).",
                    count=LENGTHEN_AFTER,
                    factor=_percent(LENGTHEN_FACTOR),
                    current=current,
                    suggested=lengthened,
                )
            )
        )
        return lengthened

    if len(usable) < LENGTHEN_AFTER:
        reasons.append(
            Reason(
                N_(
                    "Not enough as-found history to lengthen the interval: results so far %(count)s, needed "
                    "%(needed)s in a row in tolerance with every error within %(margin)s%% of the MPE.",
                    count=len(usable),
                    needed=LENGTHEN_AFTER,
                    margin=_percent(MARGIN_RATIO),
                )
            )
        )
    elif streak:
        reasons.append(
            Reason(
                N_(
                    "Consecutive in-tolerance results with every error within %(margin)s%% of the MPE: "
                    "%(count)s of the %(needed)s needed to lengthen the interval.",
                    count=streak,
                    needed=LENGTHEN_AFTER,
                    margin=_percent(MARGIN_RATIO),
                )
            )
        )
    return current


def _bounded(
    proposed: int, current: int, is_mandatory: bool, regulation_max: int | None, reasons: list[Reason]
) -> int:
    """Return ``proposed`` within the bounds (and the regulation's maximum), explaining any cap that binds."""
    if is_mandatory and regulation_max is None and proposed > current:
        reasons.append(
            Reason(
                N_(
                    "Under mandatory verification the verification regulation fixes the period, so the "
                    "interval can be shortened but not lengthened."
                )
            )
        )
        proposed = current
    if is_mandatory and regulation_max is not None and proposed > regulation_max:
        reasons.append(
            Reason(
                N_(
                    "The verification regulation allows at most %(months)s months between verifications.",
                    months=regulation_max,
                )
            )
        )
        proposed = regulation_max
    if proposed > MAX_MONTHS:
        reasons.append(Reason(N_("The interval is capped at %(months)s months.", months=MAX_MONTHS)))
        proposed = MAX_MONTHS
    return max(MIN_MONTHS, proposed)


def _ratio(entry: AsFound) -> float | None:
    """Return the entry's worst error as a fraction of the MPE, or ``None`` when it is not usable."""
    ratio = entry.worst_ratio
    if ratio is None or isinstance(ratio, bool) or not math.isfinite(ratio) or ratio < 0:
        return None
    return float(ratio)


def _with_margin(entry: AsFound) -> bool:
    """Tell whether a result was in tolerance with every error within ``MARGIN_RATIO`` of the MPE."""
    ratio = _ratio(entry)
    return bool(entry.within_tolerance) and ratio is not None and ratio <= MARGIN_RATIO


def _percent(ratio: float) -> int:
    """Return ``ratio`` as whole percents, rounded up so an error is never understated."""
    # Rounded to 6 places first so that float noise (0.07 * 100 = 7.000000000000001) does not round up.
    return math.ceil(round(ratio * 100, 6))
