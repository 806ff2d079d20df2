"""Visit planning (上门校准): batch each client's due instruments into as few visits as possible.

A pure function over plain values, so that every rule is tested without a database:

- Only instruments due on or before the horizon's last day are planned; one that cannot be
  calibrated on site, or whose discipline no technician covers, is left unplaced with the reason.
- A visit is dated on a working day, on or before the earliest due date it contains, as late as
  the capacity allows (the client's instruments keep as much of their interval as possible);
  only when no such day has room does it go after the due date, as early as possible.
- A client who already has a visit booked on a day is not proposed a second one that day.
- A day's technicians must cover the disciplines of the visit's instruments, be at work (not a
  day off), and stay within their daily capacity, counting what is already booked.
- Clients are served in order of their earliest due date, small and medium-sized firms first
  (中小企业绿色通道): when capacity is short, they get it.
- When one day cannot take a client's whole batch, the day that takes the most (the earliest-due
  instruments first) gets a visit and the rest is planned again, as another visit.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta

from service.i18n import N_, Msg
from service.reminders.rules import is_working_day
from service.visits.disciplines import DISCIPLINE_NAMES


@dataclass(frozen=True)
class Item:
    """An instrument due for calibration."""

    instrument_id: int
    due_on: date
    discipline: str
    on_site: bool = True


@dataclass(frozen=True)
class Client:
    """A client firm with its due instruments."""

    slug: str
    items: tuple[Item, ...]
    sme: bool = False


@dataclass(frozen=True)
class Technician:
    """A technician: what they calibrate, how many instruments a day, and when they are away."""

    id: int
    name: str
    disciplines: frozenset[str]
    capacity: int
    days_off: frozenset[date] = frozenset()


@dataclass(frozen=True)
class Visit:
    """A proposed visit to one client on one day."""

    client: str
    date: date
    technicians: tuple[str, ...]
    instrument_ids: tuple[int, ...]
    earliest_due_on: date
    #: Which technician takes which instrument.
    assignments: Mapping[int, int] = field(default_factory=dict, compare=False)

    @property
    def late(self) -> bool:
        """Whether the visit comes after a due date it contains (no earlier day had room)."""
        return self.date > self.earliest_due_on


@dataclass(frozen=True)
class Unplaced:
    """An instrument the plan leaves out, and why."""

    instrument_id: int
    client: str
    reason: Msg


@dataclass(frozen=True)
class Plan:
    """The proposed visits, by date, and what could not be placed."""

    visits: tuple[Visit, ...]
    unplaced: tuple[Unplaced, ...]


def plan_visits(
    clients: Iterable[Client],
    technicians: Iterable[Technician],
    start: date,
    days: int,
    *,
    booked: Mapping[tuple[int, date], int] | None = None,
    busy: Mapping[str, frozenset[date]] | None = None,
    working_day: Callable[[date], bool] = is_working_day,
) -> Plan:
    """Propose visits for the ``days`` days from ``start``; ``booked`` is capacity already taken.

    ``busy`` gives each client's days with a visit already booked: none is proposed a second.
    """
    staff = sorted(technicians, key=lambda t: t.id)
    last = start + timedelta(days=days - 1)
    calendar = [start + timedelta(days=n) for n in range(days) if working_day(start + timedelta(days=n))]
    load: dict[tuple[int, date], int] = defaultdict(int, booked or {})
    covered = {d for t in staff for d in t.disciplines}
    taken_days: dict[str, set[date]] = defaultdict(set, {c: set(d) for c, d in (busy or {}).items()})
    visits: list[Visit] = []
    unplaced: list[Unplaced] = []
    batches = []
    for client in clients:
        due = [i for i in client.items if i.due_on <= last]
        placeable = []
        for item in due:
            if not item.on_site:
                unplaced.append(Unplaced(item.instrument_id, client.slug, N_("Not calibrated on site.")))
            elif item.discipline not in covered:
                name = DISCIPLINE_NAMES.get(item.discipline, item.discipline)
                reason = N_("No technician calibrates %(discipline)s.", discipline=name)
                unplaced.append(Unplaced(item.instrument_id, client.slug, reason))
            else:
                placeable.append(item)
        if placeable:
            batches.append((client, sorted(placeable, key=lambda i: (i.due_on, i.instrument_id))))
    batches.sort(key=lambda b: (not b[0].sme, b[1][0].due_on, b[0].slug))
    for client, pending in batches:
        while pending:
            free = [d for d in calendar if d not in taken_days[client.slug]]
            day, assignment = _best_day(pending, staff, free, load)
            if day is None:
                reason = N_(
                    "No technician for its discipline has room in the %(days)s days planned.", days=days
                )
                unplaced.extend(Unplaced(i.instrument_id, client.slug, reason) for i in pending)
                break
            taken_days[client.slug].add(day)
            for tech_id in assignment.values():
                load[(tech_id, day)] += 1
            placed = [i for i in pending if i.instrument_id in assignment]
            names = {t.id: t.name for t in staff}
            visits.append(
                Visit(
                    client=client.slug,
                    date=day,
                    technicians=tuple(names[t] for t in sorted(set(assignment.values()))),
                    instrument_ids=tuple(i.instrument_id for i in placed),
                    earliest_due_on=placed[0].due_on,
                    assignments=dict(assignment),
                )
            )
            pending = [i for i in pending if i.instrument_id not in assignment]
    visits.sort(key=lambda v: (v.date, v.client))
    return Plan(tuple(visits), tuple(unplaced))


def _best_day(
    pending: list[Item], staff: list[Technician], calendar: list[date], load: Mapping
) -> tuple[date | None, dict[int, int]]:
    """Return the day for the next visit and its assignment (instrument → technician).

    Days on or before the earliest due date are tried from the latest back; after it, from the
    earliest on. The first day that takes every instrument wins; failing that, the day that takes
    the most, preferring days before the due date. A day must take the earliest-due instrument:
    a visit that left it out would send it, alone and late, to another day.
    """
    earliest = pending[0].due_on
    before = [d for d in reversed(calendar) if d <= earliest]
    after = [d for d in calendar if d > earliest]
    best: tuple[date | None, dict[int, int]] = (None, {})
    for group in (before, after):
        for day in group:
            assignment = _assign(pending, staff, day, load)
            if pending[0].instrument_id not in assignment:
                continue
            if len(assignment) == len(pending):
                return day, assignment
            if len(assignment) > len(best[1]):
                best = (day, assignment)
        if best[0] is not None:
            return best
    return best


def _assign(pending: list[Item], staff: list[Technician], day: date, load: Mapping) -> dict[int, int]:
    """Give the day's technicians as many instruments as they can take, the earliest due first.

    An instrument is taken if the instruments already taken plus it can still be shared out among
    the technicians at work that day within their disciplines and remaining capacity — a
    bipartite matching of disciplines to technicians, so that a versatile technician's time is
    not spent on work a specialist could have done (a greedy choice can miss a full day).
    """
    room = {t.id: t.capacity - load.get((t.id, day), 0) for t in staff if day not in t.days_off}
    able = [t for t in staff if room.get(t.id, 0) > 0]
    wanted: dict[str, int] = defaultdict(int)
    taken: list[Item] = []
    for item in pending:
        wanted[item.discipline] += 1
        if _share(wanted, able, room) is None:
            wanted[item.discipline] -= 1
        else:
            taken.append(item)
    shares = _share(wanted, able, room) or {}
    assignment: dict[int, int] = {}
    for item in taken:
        technician_id = next(t for t, left in shares[item.discipline].items() if left > 0)
        shares[item.discipline][technician_id] -= 1
        assignment[item.instrument_id] = technician_id
    return assignment


def _share(
    wanted: Mapping[str, int], staff: list[Technician], room: Mapping[int, int]
) -> dict[str, dict[int, int]] | None:
    """Share ``wanted`` instruments per discipline among ``staff`` within ``room``; None if impossible.

    A maximum flow from disciplines to technicians (augmenting paths on a graph of a dozen nodes);
    the result says how many instruments of each discipline each technician takes.
    """
    flow: dict[str, dict[int, int]] = {d: {} for d in wanted}
    used = {t.id: 0 for t in staff}
    covers = {d: [t.id for t in staff if d in t.disciplines] for d in wanted}
    for discipline, count in wanted.items():
        for _ in range(count):
            if not _augment(discipline, flow, used, covers, room, set()):
                return None
    return flow


def _augment(discipline: str, flow: dict, used: dict, covers: dict, room: Mapping, seen: set) -> bool:
    """Find room for one more instrument of ``discipline``, moving others between technicians if need be.

    An augmenting path: a technician with room takes it; a full one takes it by handing one of
    their other instruments to someone else, found the same way (``seen`` keeps the path simple).
    """
    for technician_id in covers[discipline]:
        if technician_id in seen:
            continue
        seen.add(technician_id)
        if used[technician_id] < room[technician_id]:
            used[technician_id] += 1
            flow[discipline][technician_id] = flow[discipline].get(technician_id, 0) + 1
            return True
        for other, shares in flow.items():
            if shares.get(technician_id, 0) > 0 and _augment(other, flow, used, covers, room, seen):
                shares[technician_id] -= 1  # that instrument went to another technician
                flow[discipline][technician_id] = flow[discipline].get(technician_id, 0) + 1
                return True
    return False
