"""Clinic figures: the one place where the reports' definitions live.

The API (JSON and CSV), the admin's insights page and the dashboard all read from here. Every figure
is over the appointments that *start* inside the period: local dates `first`..`last` inclusive in
the period's zone (a doctor's own zone by default).

- counts by status, and `appointments` = all of them;
- no-show rate = no_show ÷ (completed + no_show); null when nobody was seen or missed;
- cancellation rate = cancelled ÷ all appointments in the period; null when there are none;
- late cancellation = a cancelled appointment whose cancellation (the time of its status change to
  `cancelled` in the history, not `updated_at`) came less than 24 hours before its start;
- booking lead time = start − created_at, the median in hours;
- utilisation = booked minutes ÷ available minutes. Available minutes come from the availability
  engine (the weekly rules on the doctor's local dates in their zone, so DST-correct) minus time
  off; booked minutes are the minutes of pending, confirmed, completed and no-show appointments that
  lie inside that available time (cancelled and referred ones free their time). Null when nothing
  was available;
- new vs returning patients: a patient with a completed appointment in the period is *new* when that
  is their first completed appointment (with this doctor when the report covers one doctor, with the
  clinic otherwise) and *returning* when an earlier completed one exists.

Queries are a fixed handful whatever the range and the number of doctors: the doctors, their rules and
time off, and the two statements of `reports/queries.py` that aggregate the appointments in SQL. Here,
in Python: the available minutes (per zone, bucket and weekday, exact windows only for the dates that
need them) and the booked minutes of the few appointments the SQL leaves to interval arithmetic.
"""

import bisect
import datetime as dt
import functools
import itertools
import operator
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from django.db.models import OuterRef, Q, Subquery

from appointments import availability
from appointments.availability import Interval
from appointments.choices import Status
from appointments.models import AvailabilityRule, TimeOff
from reports import queries
from users.models import DoctorProfile, User

UTC = dt.UTC
MAX_RANGE_DAYS = 366
LATE_CANCELLATION = dt.timedelta(hours=24)
STATUSES = tuple(s.value for s in Status)
BOOKED_STATUSES = frozenset({Status.PENDING, Status.CONFIRMED, Status.COMPLETED, Status.NO_SHOW})
BUCKETS = ("day", "week", "month")
FIGURE_FIELDS = (
    "appointments",
    *STATUSES,
    "no_show_rate",
    "cancellation_rate",
    "late_cancellations",
    "median_lead_time_hours",
    "available_minutes",
    "booked_minutes",
    "utilisation",
    "new_patients",
    "returning_patients",
)


@dataclass(frozen=True)
class Period:
    """Local dates first..last (inclusive) in `zone`."""

    first: dt.date
    last: dt.date
    zone: ZoneInfo

    @functools.cached_property  # a frozen dataclass still has a __dict__ for the cache
    def start(self) -> dt.datetime:
        return local_midnight(self.first, self.zone)

    @functools.cached_property
    def end(self) -> dt.datetime:
        return local_midnight(self.last + dt.timedelta(days=1), self.zone)

    @property
    def days(self) -> int:
        return (self.last - self.first).days + 1

    def previous(self) -> "Period":
        """The period of the same length just before this one."""
        length = dt.timedelta(days=self.days)
        return Period(self.first - length, self.first - dt.timedelta(days=1), self.zone)


@dataclass(frozen=True)
class Scope:
    """Which doctors a report covers: one doctor, one specialty, or (neither) the whole clinic."""

    doctor_id: int | None = None
    specialty_id: int | None = None

    @property
    def one_doctor(self) -> bool:
        return self.doctor_id is not None

    def q(self, prefix: str = "") -> Q:
        q = Q()
        if self.doctor_id is not None:
            q &= Q(**{f"{prefix}doctor_id": self.doctor_id})
        if self.specialty_id is not None:
            q &= Q(**{f"{prefix}doctor__doctor_profile__specialty_id": self.specialty_id})
        return q


def local_midnight(day: dt.date, zone: ZoneInfo) -> dt.datetime:
    # Where midnight does not exist (a DST jump at 00:00), the day starts at the jump.
    return availability.resolve_wall_time(day, dt.time(), zone)


@dataclass(slots=True)  # one object per tally for the garbage collector, not two (see `_compute`)
class _Tally:
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(STATUSES, 0))
    late_cancellations: int = 0
    median_lead_seconds: float | None = None
    available: float = 0.0
    booked: float = 0.0
    new: int = 0
    returning: int = 0

    def figures(self) -> dict:
        counts = self.counts
        total = sum(counts.values())
        seen = counts[Status.COMPLETED] + counts[Status.NO_SHOW]
        return {
            "appointments": total,
            **counts,
            "no_show_rate": _ratio(counts[Status.NO_SHOW], seen),
            "cancellation_rate": _ratio(counts[Status.CANCELLED], total),
            "late_cancellations": self.late_cancellations,
            "median_lead_time_hours": (
                round(self.median_lead_seconds / 3600, 2) if self.median_lead_seconds is not None else None
            ),
            "available_minutes": round(self.available / 60),
            "booked_minutes": round(self.booked / 60),
            "utilisation": _ratio(self.booked, self.available),
            "new_patients": self.new,
            "returning_patients": self.returning,
        }


def _ratio(part: float, whole: float) -> float | None:
    return round(part / whole, 4) if whole else None


@dataclass(frozen=True, slots=True)  # slots: one object for the garbage collector, not two (see `_compute`)
class ReportDoctor:
    """What a report needs of a doctor (plain values: 2,000 model instances cost about 400 ms, most of it
    parsing phone numbers nobody reads here)."""

    user_id: int
    timezone: str
    name: str  # full name, else the email (as User.get_full_name() or email)
    specialty: str

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


def report_doctors(*, scope: Scope) -> list[ReportDoctor]:
    """The doctors a report covers, by name."""
    qs = DoctorProfile.objects.all()
    if scope.doctor_id is not None:
        qs = qs.filter(user_id=scope.doctor_id)
    if scope.specialty_id is not None:
        qs = qs.filter(specialty_id=scope.specialty_id)
    # The names come from a probe of the users' primary key per doctor (a few ms for 2,000 doctors). Joined instead,
    # PostgreSQL hashes the doctors and reads the whole users table, patients included (200,000 rows, ~17 ms).
    user = User.objects.filter(pk=OuterRef("user_id"))
    rows = (
        qs.annotate(
            first=Subquery(user.values("first_name")),
            last=Subquery(user.values("last_name")),
            mail=Subquery(user.values("email")),
        )
        .order_by("last", "first", "user_id")
        .values_list("user_id", "timezone", "first", "last", "mail", "specialty__name")
    )
    return [
        ReportDoctor(user_id, timezone, f"{first} {last}".strip() or email, specialty or "")
        for user_id, timezone, first, last, email, specialty in rows
    ]


# Availability -------------------------------------------------------------------------------------
# Available time is counted per local date of each doctor. On a date whose UTC offset is the same all
# day ("plain"), a rule's window lasts exactly its wall-clock length, so every plain date that lies
# inside the period and inside one bucket adds the weekday's wall-clock minutes: those dates are only
# counted (per zone, bucket and weekday), never turned into instants. The other dates (an offset
# change, the period's first and last dates, dates cut by a bucket edge in another zone, dates with
# time off or with booked time to check) get the availability engine's exact windows, cached per zone,
# rules and date since many doctors share both.
_DAY = dt.timedelta(days=1)
_TICK = dt.timedelta(microseconds=1)


@functools.lru_cache(maxsize=65536)
def _day_windows(zone: ZoneInfo, rules: tuple[tuple[dt.time, dt.time], ...], day: dt.date) -> tuple[Interval, ...]:
    """The merged windows of one weekday's rules on one local date (exact: DST as the engine reads it)."""
    windows = []
    for start_time, end_time in rules:
        start = availability.resolve_wall_time(day, start_time, zone)
        end = availability.resolve_wall_time(day, end_time, zone)
        if end > start:
            windows.append((start, end))
    return tuple(availability.merge(windows))


def _overlap(rules: Sequence[tuple[dt.time, dt.time]]) -> bool:
    """Whether two of the (sorted) rules of one weekday overlap (touching is fine)."""
    return any(rules[i + 1][0] < rules[i][1] for i in range(len(rules) - 1))


@functools.lru_cache(maxsize=4096)
def _wall_seconds(rules: Sequence[tuple[dt.time, dt.time]]) -> float:
    """Wall-clock seconds covered by the rules of one weekday (overlaps counted once)."""

    def seconds(t: dt.time) -> float:
        return t.hour * 3600 + t.minute * 60 + t.second + t.microsecond / 1e6

    total, reach = 0.0, None
    for start, end in sorted((seconds(a), seconds(b)) for a, b in rules):
        if reach is not None and start < reach:
            start = reach
        if end > start:
            total += end - start
            reach = end if reach is None else max(reach, end)
    return total


@dataclass
class _ZoneDates:
    """The local dates of one zone that a period can touch, sorted out once for all its doctors."""

    plain: dict[tuple[int, int], int]  # (bucket, weekday) -> number of plain dates wholly inside it
    exact: list[dt.date]  # dates computed as windows
    irregular: list[Interval]  # instants around dates with an offset change (booked time checked exactly)


def _zone_dates(zone: ZoneInfo, edges: Sequence[dt.datetime]) -> _ZoneDates:
    start, end = edges[0], edges[-1]
    plain: dict[tuple[int, int], int] = defaultdict(int)
    exact: list[dt.date] = []
    irregular: list[Interval] = []
    day = start.astimezone(zone).date() - _DAY
    last = end.astimezone(zone).date() + _DAY
    midnight = local_midnight(day, zone)
    while day <= last:
        following = local_midnight(day + _DAY, zone) if day < dt.date.max - _DAY else midnight + _DAY
        # One offset all day: 24 hours long and the same offset at both ends. (No zone in the tz database
        # changes its offset twice within one local day and back.)
        regular = (
            following - midnight == _DAY
            and midnight.astimezone(zone).utcoffset() == (following - _TICK).astimezone(zone).utcoffset()
        )
        bucket = bisect.bisect_right(edges, midnight) - 1
        if regular and start <= midnight and following <= end and following <= edges[bucket + 1]:
            plain[(bucket, day.weekday())] += 1
        else:
            exact.append(day)
            if not regular:
                irregular.append((midnight - _DAY, following + _DAY))
        day, midnight = day + _DAY, following
    return _ZoneDates(plain, exact, irregular)


def _windows(
    zone: ZoneInfo, by_weekday: dict[int, tuple], days: Iterable[dt.date], start: dt.datetime, end: dt.datetime
) -> list[Interval]:
    windows = [w for day in sorted(set(days)) for w in _day_windows(zone, by_weekday.get(day.weekday(), ()), day)]
    return availability.clip(availability.merge(windows), start, end)


def _local_days(interval: Interval, zone: ZoneInfo) -> Iterable[dt.date]:
    """The local dates whose windows can touch `interval` (a day of margin each side)."""
    return availability.local_dates(
        interval[0].astimezone(zone).date() - _DAY, interval[1].astimezone(zone).date() + _DAY
    )


# The figures --------------------------------------------------------------------------------------


def _tally(
    scope: Scope, period: Period, edges: Sequence[dt.datetime], *, per_doctor: bool, daily: bool = False
) -> tuple[list, dict]:
    """The profiles covered and the tallies keyed by (doctor id or None, bucket index)."""
    with queries.session():
        return _compute(scope, period, edges, per_doctor=per_doctor, daily=daily)


def _compute(
    scope: Scope, period: Period, edges: Sequence[dt.datetime], *, per_doctor: bool, daily: bool
) -> tuple[list, dict]:
    tallies: dict[tuple[int | None, int], _Tally] = defaultdict(_Tally)

    def key(doctor_id: int, bucket: int) -> tuple[int | None, int]:
        return (doctor_id if per_doctor else None, bucket)

    frame = queries.Frame(
        start=period.start,
        end=period.end,
        edges=edges,
        doctor_id=scope.doctor_id,
        specialty_id=scope.specialty_id,
        per_doctor=per_doctor,
        by_doctor=per_doctor or scope.one_doctor,
        daily=period.zone if daily and isinstance(period.zone, ZoneInfo) else None,
    )
    profiles = report_doctors(scope=scope)
    # Each doctor's rules per weekday (sorted), from one ordered query, as tuples; doctors with the same rules share
    # one mapping. Why: a report over 2,000 doctors must leave few containers alive through the young garbage
    # collector generations. A list per doctor and weekday (15,000) and a dict per doctor were enough to bring on
    # a full collection of the process (60-120 ms here) in every other report.
    schedules: dict[tuple, dict[int, tuple]] = {(): {}}
    by_weekday: dict[int, dict[int, tuple]] = {}
    rules = (
        AvailabilityRule.objects.filter(scope.q())
        .order_by("doctor_id", "weekday", "start_time", "end_time")
        .values_list("doctor_id", "weekday", "start_time", "end_time")
    )
    for doctor_id, doctor_rules in itertools.groupby(rules, key=operator.itemgetter(0)):
        days = tuple(
            (weekday, tuple((start_time, end_time) for _, _, start_time, end_time in day))
            for weekday, day in itertools.groupby(doctor_rules, key=operator.itemgetter(1))
        )
        by_weekday[doctor_id] = schedules.setdefault(days, dict(days))
    by_weekday = {profile.user_id: by_weekday.get(profile.user_id, schedules[()]) for profile in profiles}
    time_off: dict[int, list[Interval]] = defaultdict(list)
    for doctor_id, off_start, off_end in TimeOff.objects.filter(
        scope.q(), start__lt=period.end, end__gt=period.start
    ).values_list("doctor_id", "start", "end"):
        time_off[doctor_id].append((off_start, off_end))

    zones: dict[str, _ZoneDates] = {}
    for profile in profiles:
        if profile.timezone not in zones:
            zones[profile.timezone] = _zone_dates(profile.zone, edges)
    irregular = [(name, since, until) for name, dates in zones.items() for since, until in dates.irregular]
    overlapping = [doctor_id for doctor_id, days in by_weekday.items() if any(map(_overlap, days.values()))]
    # The booked time runs alongside the figures and the availability arithmetic below (`in_parallel`).
    booked = queries.in_parallel(queries.booked, frame, irregular, overlapping, worth_it=not scope.one_doctor)

    for doctor_id, bucket, kind, *values in queries.figures(frame):
        tally = tallies[key(doctor_id, bucket)]
        if kind == queries.PATIENTS:
            tally.new, tally.returning = values[0], values[1]
        else:
            tally.counts = dict(zip(queries.STATUSES, values, strict=False))
            tally.late_cancellations, tally.median_lead_seconds = values[-2], values[-1]

    for profile in profiles:
        dates, days = zones[profile.timezone], by_weekday[profile.user_id]
        if not days:
            continue
        wall = {weekday: _wall_seconds(r) for weekday, r in days.items()}
        for (bucket, weekday), count in dates.plain.items():
            if weekday in wall:
                tallies[key(profile.user_id, bucket)].available += count * wall[weekday]
        exact = _windows(profile.zone, days, dates.exact, period.start, period.end)
        for bucket, seconds in enumerate(availability.seconds_per_bucket(exact, edges)):
            if seconds:
                tallies[key(profile.user_id, bucket)].available += seconds
        off = availability.merge(availability.clip(time_off.get(profile.user_id, ()), period.start, period.end))
        if off:
            around = [day for interval in off for day in _local_days(interval, profile.zone)]
            lost = availability.intersect(_windows(profile.zone, days, around, period.start, period.end), off)
            for bucket, seconds in enumerate(availability.seconds_per_bucket(lost, edges)):
                if seconds:
                    tallies[key(profile.user_id, bucket)].available -= seconds

    zone_of = {profile.user_id: profile.zone for profile in profiles}
    left: dict[int, list[Interval]] = defaultdict(list)
    for doctor_id, inside, bucket, seconds, start, end in booked():
        if inside:
            tallies[key(doctor_id, bucket)].booked += seconds
        else:
            left[doctor_id].append((start, end))
    for doctor_id, appointments in left.items():
        zone, days = zone_of[doctor_id], by_weekday.get(doctor_id, {})
        appointments = availability.merge(appointments)
        around = [day for interval in appointments for day in _local_days(interval, zone)]
        windows = _windows(zone, days, around, period.start, period.end)
        windows = availability.subtract(windows, availability.merge(time_off.get(doctor_id, ())))
        for bucket, seconds in enumerate(
            availability.seconds_per_bucket(availability.intersect(appointments, windows), edges)
        ):
            if seconds:
                tallies[key(doctor_id, bucket)].booked += seconds
    return profiles, tallies


def bucket_starts(period: Period, bucket: str) -> list[dt.date]:
    """Local start dates of the buckets covering the period: days, Monday weeks, or calendar months."""
    starts = [period.first]
    day = period.first
    while True:
        if bucket == "day":
            day = day + dt.timedelta(days=1)
        elif bucket == "week":
            day = day + dt.timedelta(days=7 - day.weekday())
        elif day.month < 12:
            day = day.replace(month=day.month + 1, day=1)
        elif day.year < dt.MAXYEAR:
            day = day.replace(year=day.year + 1, month=1, day=1)
        else:
            return starts
        if day > period.last:
            return starts
        starts.append(day)


def summary(*, scope: Scope, period: Period) -> dict:
    """The figures of the whole period for the scope."""
    _, tallies = _tally(scope, period, [period.start, period.end], per_doctor=False)
    return tallies[(None, 0)].figures()


def timeseries(*, scope: Scope, period: Period, bucket: str) -> list[dict]:
    """The figures per bucket (local to the period's zone), empty buckets included, in order."""
    starts = bucket_starts(period, bucket)
    edges = [local_midnight(day, period.zone) for day in starts] + [period.end]
    _, tallies = _tally(scope, period, edges, per_doctor=False, daily=bucket == "day")
    return [{"bucket": day, **tallies[(None, k)].figures()} for k, day in enumerate(starts)]


def per_doctor(*, scope: Scope, period: Period) -> list[dict]:
    """One row of figures per doctor in the scope, by name; doctors without appointments included."""
    profiles, tallies = _tally(scope, period, [period.start, period.end], per_doctor=True)
    return [
        {
            "doctor": profile.user_id,
            "doctor_name": profile.name,
            "specialty": profile.specialty,
            "timezone": profile.timezone,
            **tallies[(profile.user_id, 0)].figures(),
        }
        for profile in profiles
    ]
