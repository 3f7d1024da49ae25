"""The reports' figures computed the straightforward way, to check the SQL of `reports/queries.py` against.

This is the implementation the reports had before the figures moved to SQL: every appointment of the
period loaded as a row, each doctor's available windows built by the availability engine, everything
counted in Python. It is slow (seconds for a clinic quarter) but reads like the definitions in
docs/reports.md, and shares nothing with `reports/queries.py` or the per-weekday arithmetic of
`reports/selectors.py` (only `Period`, `Scope`, the bucket dates and the engine).
"""

import bisect
import datetime as dt
import statistics
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field

from django.db.models import Case, Exists, OuterRef, Subquery, Value, When

from appointments import availability
from appointments.availability import Interval, WeeklyRule
from appointments.choices import Status
from appointments.models import Appointment, AvailabilityRule, StatusChange, TimeOff
from reports import selectors
from reports.selectors import Period, Scope, bucket_starts, local_midnight
from users.models import DoctorProfile

STATUSES = tuple(s.value for s in Status)
LATE_CANCELLATION = dt.timedelta(hours=24)
BOOKED_STATUSES = frozenset({Status.PENDING, Status.CONFIRMED, Status.COMPLETED, Status.NO_SHOW})


@dataclass
class _Tally:
    """What is collected per group, the straightforward way (every lead time, patients as sets); the figures
    are then the product's own (`selectors._Tally.figures`: the definitions are stated once, and checked by
    the hand-computed fixtures), so that the reference checks how the SQL collects, not the formulas twice."""

    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(STATUSES, 0))
    late_cancellations: int = 0
    lead_seconds: list[float] = field(default_factory=list)
    available: float = 0.0
    booked: float = 0.0
    new: set[int] = field(default_factory=set)
    returning: set[int] = field(default_factory=set)

    def figures(self) -> dict:
        return selectors._Tally(
            counts=self.counts,
            late_cancellations=self.late_cancellations,
            median_lead_seconds=statistics.median(self.lead_seconds) if self.lead_seconds else None,
            available=self.available,
            booked=self.booked,
            new=len(self.new),
            returning=len(self.returning - self.new),
        ).figures()


@dataclass(frozen=True)
class _Row:
    doctor_id: int
    patient_id: int
    start: dt.datetime
    end: dt.datetime
    status: str
    created_at: dt.datetime
    cancelled_at: dt.datetime | None
    returning: bool  # completed, with an earlier completed visit (with the doctor, or the clinic)


@dataclass
class _Data:
    profiles: list[DoctorProfile]
    rows: list[_Row]
    available: dict[int, list[Interval]]  # per doctor: merged, clipped to the period, time off removed


def _profiles(scope: Scope) -> list[DoctorProfile]:
    qs = DoctorProfile.objects.select_related("user", "specialty")
    if scope.doctor_id is not None:
        qs = qs.filter(user_id=scope.doctor_id)
    if scope.specialty_id is not None:
        qs = qs.filter(specialty_id=scope.specialty_id)
    return list(qs.order_by("user__last_name", "user__first_name", "user_id"))


def _load(scope: Scope, period: Period, *, by_doctor: bool) -> _Data:
    start, end = period.start, period.end
    profiles = _profiles(scope)
    cancelled_at = (
        StatusChange.objects.filter(appointment=OuterRef("pk"), to_status=Status.CANCELLED)
        .order_by("-at", "-id")
        .values("at")[:1]
    )
    earlier = Appointment.objects.filter(patient_id=OuterRef("patient_id"), status=Status.COMPLETED, start__lt=start)
    if by_doctor:
        earlier = earlier.filter(doctor_id=OuterRef("doctor_id"))
    rows = [
        _Row(*values)
        for values in Appointment.objects.filter(scope.q(), start__gte=start, start__lt=end)
        .annotate(
            cancelled_at=Case(When(status=Status.CANCELLED, then=Subquery(cancelled_at)), default=None),
            returning=Case(When(status=Status.COMPLETED, then=Exists(earlier)), default=Value(False)),
        )
        .order_by("start", "id")
        .values_list("doctor_id", "patient_id", "start", "end", "status", "created_at", "cancelled_at", "returning")
    ]
    rules: dict[int, list[WeeklyRule]] = defaultdict(list)
    for doctor_id, weekday, start_time, end_time in AvailabilityRule.objects.filter(scope.q()).values_list(
        "doctor_id", "weekday", "start_time", "end_time"
    ):
        rules[doctor_id].append(WeeklyRule(weekday, start_time, end_time))
    time_off: dict[int, list[Interval]] = defaultdict(list)
    for doctor_id, off_start, off_end in TimeOff.objects.filter(scope.q(), start__lt=end, end__gt=start).values_list(
        "doctor_id", "start", "end"
    ):
        time_off[doctor_id].append((off_start, off_end))
    available = {}
    for profile in profiles:
        doctor_rules = rules.get(profile.user_id)
        if not doctor_rules:
            continue
        zone = profile.zone
        windows = availability.rule_windows(
            doctor_rules,
            zone,
            start.astimezone(zone).date() - dt.timedelta(days=1),
            end.astimezone(zone).date() + dt.timedelta(days=1),
        )
        windows = availability.subtract(
            availability.clip(windows, start, end), availability.merge(time_off.get(profile.user_id, ()))
        )
        available[profile.user_id] = windows
    return _Data(profiles, rows, available)


def _tally(data: _Data, edges: Sequence[dt.datetime], *, per_doctor: bool, one_doctor: bool) -> dict:
    tallies: dict[tuple[int | None, int], _Tally] = defaultdict(_Tally)
    buckets = len(edges) - 1

    def key(doctor_id: int, bucket: int) -> tuple[int | None, int]:
        return (doctor_id if per_doctor else None, bucket)

    def bucket_of(instant: dt.datetime) -> int:
        return min(max(bisect.bisect_right(edges, instant) - 1, 0), buckets - 1)

    booked: dict[int, list[Interval]] = defaultdict(list)
    by_doctor_scope = per_doctor or one_doctor
    first_completed: dict[tuple[int, int], int] = {}
    for row in data.rows:
        tally = tallies[key(row.doctor_id, bucket_of(row.start))]
        tally.counts[row.status] += 1
        tally.lead_seconds.append((row.start - row.created_at).total_seconds())
        if row.status == Status.CANCELLED and row.cancelled_at and row.start - row.cancelled_at < LATE_CANCELLATION:
            tally.late_cancellations += 1
        if row.status in BOOKED_STATUSES:
            booked[row.doctor_id].append((row.start, row.end))
        if row.status == Status.COMPLETED:
            who = (row.doctor_id if by_doctor_scope else 0, row.patient_id)
            if row.returning:
                tally.returning.add(row.patient_id)
            elif who not in first_completed:
                first_completed[who] = row.patient_id
                tally.new.add(row.patient_id)
            else:
                tally.returning.add(row.patient_id)
    for doctor_id, windows in data.available.items():
        for bucket, seconds in enumerate(availability.seconds_per_bucket(windows, edges)):
            tallies[key(doctor_id, bucket)].available += seconds
        inside = availability.intersect(availability.merge(booked.get(doctor_id, ())), windows)
        for bucket, seconds in enumerate(availability.seconds_per_bucket(inside, edges)):
            tallies[key(doctor_id, bucket)].booked += seconds
    return tallies


def summary(*, scope: Scope, period: Period) -> dict:
    data = _load(scope, period, by_doctor=scope.one_doctor)
    tallies = _tally(data, [period.start, period.end], per_doctor=False, one_doctor=scope.one_doctor)
    return tallies[(None, 0)].figures()


def timeseries(*, scope: Scope, period: Period, bucket: str) -> list[dict]:
    data = _load(scope, period, by_doctor=scope.one_doctor)
    starts = bucket_starts(period, bucket)
    edges = [local_midnight(day, period.zone) for day in starts] + [period.end]
    tallies = _tally(data, edges, per_doctor=False, one_doctor=scope.one_doctor)
    return [{"bucket": day, **tallies[(None, k)].figures()} for k, day in enumerate(starts)]


def per_doctor(*, scope: Scope, period: Period) -> list[dict]:
    data = _load(scope, period, by_doctor=True)
    tallies = _tally(data, [period.start, period.end], per_doctor=True, one_doctor=True)
    return [
        {
            "doctor": profile.user_id,
            "doctor_name": profile.user.get_full_name() or profile.user.email,
            "specialty": profile.specialty.name if profile.specialty else "",
            "timezone": profile.timezone,
            **tallies[(profile.user_id, 0)].figures(),
        }
        for profile in data.profiles
    ]
