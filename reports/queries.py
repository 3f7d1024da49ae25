"""The reports' SQL: set-based aggregates over the appointments of a period, for PostgreSQL and SQLite.

Why hand-written SQL: the figures need joins the ORM only writes as correlated subqueries (one index
probe per appointment, about 7 µs each on PostgreSQL, i.e. seconds for a clinic quarter), a grouping by
time bucket, and a few vendor functions. Each statement here is one scan of the period's appointments
joined (hash, merge or semi join, the planner's choice) to small or indexed sets; nothing in Python
touches an appointment row except the rare ones listed by `booked()` as needing interval arithmetic.

The vendor differences are confined to `Dialect`: PostgreSQL's `AT TIME ZONE`, `percentile_cont` and
`range_agg`; on SQLite the same meanings are Python functions registered on each connection
(`register_sqlite_functions`), so both databases give identical figures.
"""

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from django.db import connection

from appointments.choices import Status
from appointments.models import Appointment, AvailabilityRule, StatusChange, TimeOff
from users.models import DoctorProfile

APPOINTMENT = Appointment._meta.db_table
STATUS_CHANGE = StatusChange._meta.db_table
RULE = AvailabilityRule._meta.db_table
TIME_OFF = TimeOff._meta.db_table
PROFILE = DoctorProfile._meta.db_table
END = '"end"'  # a reserved word, quoted
BOOKED = (Status.PENDING, Status.CONFIRMED, Status.COMPLETED, Status.NO_SHOW)


class Dialect:
    """SQL fragments whose spelling differs between the databases (PostgreSQL here)."""

    def seconds(self, later: str, earlier: str) -> str:
        # Exact epoch seconds of the interval, rounded once to a double (as timedelta.total_seconds()).
        return f"date_part('epoch', {later} - {earlier})"

    def median(self, value: str) -> str:
        return f"percentile_cont(0.5) WITHIN GROUP (ORDER BY {value})"

    def within_24h(self, start: str, at: str) -> str:
        return f"{at} > {start} - INTERVAL '24 hours'"

    def local(self, instant: str, zone: str) -> str:
        """The wall clock (naive timestamp) of `instant` in the named zone."""
        return f"({instant} AT TIME ZONE {zone})"

    def local_end(self, local_start: str, start: str, end: str, zone: str) -> str:
        # Only used on dates without an offset change, where wall time and real time run together.
        return f"({local_start} + ({end} - {start}))"

    def date(self, local: str) -> str:
        return f"CAST({local} AS date)"

    def time(self, local: str) -> str:
        return f"CAST({local} AS time)"

    def weekday(self, local_date: str) -> str:
        return f"(({local_date} - DATE '2000-01-03') %% 7)"  # 3 January 2000 was a Monday

    def wall(self, local_date: str, time: str) -> str:
        return f"({local_date} + {time})"

    def overlap_free(self, start: str, end: str) -> str:
        """An aggregate that is true when no two of the group's intervals overlap (touching is fine)."""
        return (
            f"(SELECT coalesce(sum(upper(piece) - lower(piece)), INTERVAL '0') FROM "
            f"unnest(range_agg(tstzrange({start}, {end})))  AS piece) = sum({end} - {start})"
        )

    def true(self) -> str:
        return "TRUE"


class SQLiteDialect(Dialect):
    def seconds(self, later: str, earlier: str) -> str:
        return f"reports_seconds({later}, {earlier})"

    def median(self, value: str) -> str:
        return f"reports_median({value})"

    def within_24h(self, start: str, at: str) -> str:
        return f"reports_seconds({start}, {at}) < 86400"

    def local(self, instant: str, zone: str) -> str:
        return f"reports_local({instant}, {zone})"

    def local_end(self, local_start: str, start: str, end: str, zone: str) -> str:
        return f"reports_local({end}, {zone})"

    def date(self, local: str) -> str:
        return f"date({local})"

    def time(self, local: str) -> str:
        return f"substr({local}, 12)"

    def weekday(self, local_date: str) -> str:
        return f"((CAST(strftime('%%w', {local_date}) AS integer) + 6) %% 7)"

    def wall(self, local_date: str, time: str) -> str:
        return f"({local_date} || ' ' || {time})"

    def overlap_free(self, start: str, end: str) -> str:
        return f"reports_overlap_free({start}, {end})"

    def true(self) -> str:
        return "1"


def dialect() -> Dialect:
    return SQLiteDialect() if connection.vendor == "sqlite" else Dialect()


def param(instant: dt.datetime) -> object:
    """A datetime as the database compares it (SQLite: the stored UTC text)."""
    return connection.ops.adapt_datetimefield_value(instant)


# SQLite functions --------------------------------------------------------------------------------


def _parse(text: str | None) -> dt.datetime | None:
    # Django stores aware datetimes on SQLite as naive UTC ISO text.
    return None if text is None else dt.datetime.fromisoformat(text).replace(tzinfo=dt.UTC)


def _seconds(later: str | None, earlier: str | None) -> float | None:
    a, b = _parse(later), _parse(earlier)
    return None if a is None or b is None else (a - b) / dt.timedelta(seconds=1)


def _local(instant: str | None, zone: str | None) -> str | None:
    if instant is None or zone is None:
        return None
    return _parse(instant).astimezone(ZoneInfo(zone)).replace(tzinfo=None).isoformat(sep=" ")


class _Median:
    """PostgreSQL's percentile_cont(0.5): the middle value, or lo + (hi - lo) * 0.5 of the middle two."""

    def __init__(self) -> None:
        self.values: list[float] = []

    def step(self, value: float | None) -> None:
        if value is not None:
            self.values.append(value)

    def finalize(self) -> float | None:
        return median(self.values)


class _OverlapFree:
    def __init__(self) -> None:
        self.intervals: list[tuple[str, str]] = []

    def step(self, start: str, end: str) -> None:
        self.intervals.append((start, end))

    def finalize(self) -> int:
        ordered = sorted((_parse(a), _parse(b)) for a, b in self.intervals)
        return int(all(ordered[i][1] <= ordered[i + 1][0] for i in range(len(ordered) - 1)))


def median(values: list[float]) -> float | None:
    if not values:
        return None
    values = sorted(values)
    n = len(values)
    if n % 2:
        return values[n // 2]
    lo, hi = values[n // 2 - 1], values[n // 2]
    return lo + (hi - lo) * 0.5


def register_sqlite_functions(sender: object, connection: object, **kwargs: object) -> None:
    """connection_created receiver: the SQLite spellings of what PostgreSQL has built in."""
    if connection.vendor != "sqlite":
        return
    raw = connection.connection
    raw.create_function("reports_seconds", 2, _seconds, deterministic=True)
    raw.create_function("reports_local", 2, _local, deterministic=True)
    raw.create_aggregate("reports_median", 1, _Median)
    raw.create_aggregate("reports_overlap_free", 2, _OverlapFree)


# The statements ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Frame:
    """What a statement covers: the period's instants, the scope, and how rows are grouped."""

    start: dt.datetime
    end: dt.datetime
    edges: Sequence[dt.datetime]  # bucket edges, edges[0] == start, edges[-1] == end
    doctor_id: int | None
    specialty_id: int | None
    per_doctor: bool  # one group per doctor (else all doctors together)
    by_doctor: bool  # new patients judged per doctor (else against the clinic)

    def where(self, alias: str, params: list) -> str:
        sql = f"{alias}.start >= %s AND {alias}.start < %s"
        params += [param(self.start), param(self.end)]
        if self.doctor_id is not None:
            sql += f" AND {alias}.doctor_id = %s"
            params.append(self.doctor_id)
        if self.specialty_id is not None:
            sql += f" AND {alias}.doctor_id IN (SELECT user_id FROM {PROFILE} WHERE specialty_id = %s)"
            params.append(self.specialty_id)
        return sql

    def bucket(self, column: str, params: list, *, closed_right: bool = False) -> str:
        """The bucket index of `column`: a binary tree of comparisons with the inner edges."""
        inner = list(self.edges[1:-1])
        op = "<=" if closed_right else "<"

        def tree(lo: int, hi: int) -> str:  # buckets lo..hi
            if lo == hi:
                return str(lo)
            mid = (lo + hi) // 2
            params.append(param(inner[mid]))
            left = tree(lo, mid)
            # `params` must follow the SQL text order: the right subtree's edges come after the left's.
            return f"CASE WHEN {column} {op} %s THEN {left} ELSE {tree(mid + 1, hi)} END"

        if not inner:
            return "0"
        return tree(0, len(inner))

    def group(self, alias: str, params: list) -> tuple[str, str]:
        """SQL for the group's doctor (0 when all doctors are one group) and bucket."""
        doctor = f"{alias}.doctor_id" if self.per_doctor else "0"
        return doctor, self.bucket(f"{alias}.start", params)


def _rows(sql: str, params: list) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


PATIENTS = "patients"  # marks the new/returning rows of `figures()` (not a status)


def figures(frame: Frame) -> list[tuple]:
    """One statement, three kinds of rows, each (doctor, bucket, kind, a, b, c):

    - (…, status, count, late cancellations, None) per status. The cancellation time is the latest
      `cancelled` entry of the history (as the definition reads it), joined as a set for the period's
      cancelled appointments rather than looked up row by row;
    - (…, None, None, None, median lead seconds);
    - (…, PATIENTS, new, returning, None). Per who (the doctor, or the clinic) and patient: `first` = the
      first bucket with a completed visit, and whether one was completed before the period. New in
      bucket b: none before and first = b. Returning in b: a completed visit in b and one before b's
      start (before the period, or in an earlier bucket).
    """
    d = dialect()
    params: list = []
    who = "a.doctor_id" if frame.by_doctor else "0"
    group_doctor = "c.who" if frame.per_doctor else "0"
    bucket = frame.bucket("a.start", params)
    where = frame.where("a", params)
    same_doctor = " AND e.doctor_id = f.who" if frame.by_doctor else ""
    params.append(param(frame.start))
    ctes = (
        f"WITH c AS (SELECT DISTINCT {who} AS who, a.patient_id, {bucket} AS k FROM {APPOINTMENT} a "
        f"  WHERE {where} AND a.status = 'completed'), "
        f"f AS (SELECT who, patient_id, min(k) AS first FROM c GROUP BY who, patient_id), "
        f"e AS (SELECT who, patient_id FROM f WHERE EXISTS (SELECT 1 FROM {APPOINTMENT} e "
        f"  WHERE e.patient_id = f.patient_id{same_doctor} AND e.status = 'completed' AND e.start < %s)) "
    )
    doctor, bucket = frame.group("a", params)
    where_cancelled = frame.where("x", params)
    where = frame.where("a", params)
    late = d.within_24h("a.start", "c.at")
    counts = (
        f"SELECT {doctor}, {bucket}, a.status, count(*), count(c.at) FILTER (WHERE {late}), NULL "
        f"FROM {APPOINTMENT} a LEFT JOIN ("
        f"  SELECT appointment_id, max(at) AS at FROM {STATUS_CHANGE} "
        f"  WHERE to_status = 'cancelled' AND appointment_id IN ("
        f"    SELECT x.id FROM {APPOINTMENT} x WHERE {where_cancelled} AND x.status = 'cancelled') "
        f"  GROUP BY appointment_id) c ON c.appointment_id = a.id "
        f"WHERE {where} GROUP BY 1, 2, 3"
    )
    doctor, bucket = frame.group("a", params)
    where = frame.where("a", params)
    medians = (
        f"SELECT {doctor}, {bucket}, NULL, NULL, NULL, {d.median(d.seconds('a.start', 'a.created_at'))} "
        f"FROM {APPOINTMENT} a WHERE {where} GROUP BY 1, 2"
    )
    patients = (
        f"SELECT {group_doctor}, c.k, '{PATIENTS}', "
        f"  sum(CASE WHEN e.patient_id IS NULL AND c.k = f.first THEN 1 ELSE 0 END), "
        f"  sum(CASE WHEN e.patient_id IS NOT NULL OR f.first < c.k THEN 1 ELSE 0 END), NULL "
        f"FROM c JOIN f ON f.who = c.who AND f.patient_id = c.patient_id "
        f"LEFT JOIN e ON e.who = c.who AND e.patient_id = c.patient_id "
        f"GROUP BY 1, 2"
    )
    return _rows(f"{ctes}{counts} UNION ALL {medians} UNION ALL {patients}", params)


def booked(frame: Frame, irregular: Sequence[tuple[str, dt.datetime, dt.datetime]]) -> list[tuple]:
    """Booked time: ('sum', doctor, bucket, seconds, None, None) for the appointments known to lie inside
    available time, and ('row', doctor, None, None, start, end) for every other booked appointment, left
    to exact arithmetic.

    Inside, decided here: the appointment lies within one weekly rule on the wall clock of its doctor's
    local date, that date has no offset change (`irregular`: zone, from, to), it overlaps no time off,
    ends inside its bucket, and none of its doctor's booked appointments overlap (else the whole doctor
    goes to exact arithmetic: the booked time is the union of the appointments).
    """
    d = dialect()
    params: list = []
    bucket = frame.bucket("a.start", params)
    end_bucket = frame.bucket(f"a.{END}", params, closed_right=True)
    regular = "1 = 1"
    for zone, since, until in irregular:
        regular += " AND NOT (p.timezone = %s AND a.start >= %s AND a.start < %s)"
        params += [zone, param(since), param(until)]
    where = frame.where("a", params)
    statuses = ", ".join("%s" for _ in BOOKED)
    params += [*BOOKED, param(frame.end)]
    ls = d.local("a.start", "p.timezone")
    b = (
        f"SELECT a.id, a.doctor_id, a.start, a.{END}, {bucket} AS k, {end_bucket} AS k_end, "
        f"{ls} AS ls, {d.local_end(ls, 'a.start', 'a.' + END, 'p.timezone')} AS le, "
        f"CASE WHEN {regular} THEN 1 ELSE 0 END AS regular "
        f"FROM {APPOINTMENT} a JOIN {PROFILE} p ON p.user_id = a.doctor_id "
        f"WHERE {where} AND a.status IN ({statuses}) "
        # OFFSET 0: PostgreSQL computes the wall clock once per row instead of inlining it into each use.
        f"{offset0()}"
    )
    ld = d.date("b.ls")
    # The plain conditions are tested on `i`'s rows, not in its WHERE: filtering a CTE on computed columns
    # makes PostgreSQL expect a handful of rows and nest loops over the time off.
    inside = (
        f"SELECT b.id, b.doctor_id, b.k, {d.seconds('b.' + END, 'b.start')} AS seconds, "
        f"CASE WHEN b.regular = 1 AND b.k = b.k_end AND b.{END} <= %s THEN 1 ELSE 0 END AS plain FROM b "
        f"WHERE EXISTS (SELECT 1 FROM {RULE} r WHERE r.doctor_id = b.doctor_id AND r.weekday = {d.weekday(ld)} "
        f"  AND r.start_time <= {d.time('b.ls')} AND b.le <= {d.wall(ld, 'r.end_time')}) "
        f"AND NOT EXISTS (SELECT 1 FROM {TIME_OFF} t WHERE t.doctor_id = b.doctor_id "
        f"  AND t.start < b.{END} AND t.{END} > b.start)"
    )
    crowded = f"SELECT doctor_id FROM b GROUP BY doctor_id HAVING NOT ({d.overlap_free('start', END)})"
    sql = (
        f"WITH b AS {materialized()}({b}), i AS {materialized()}({inside}), x AS ({crowded}) "
        f"SELECT 'sum', i.doctor_id, i.k, sum(i.seconds), NULL, NULL FROM i "
        f"WHERE i.plain = 1 AND NOT EXISTS (SELECT 1 FROM x WHERE x.doctor_id = i.doctor_id) "
        f"GROUP BY i.doctor_id, i.k "
        f"UNION ALL "
        f"SELECT 'row', b.doctor_id, NULL, NULL, b.start, b.{END} FROM b "
        f"LEFT JOIN i ON i.id = b.id LEFT JOIN x ON x.doctor_id = b.doctor_id "
        f"WHERE i.id IS NULL OR i.plain = 0 OR x.doctor_id IS NOT NULL"
    )
    rows = _rows(sql, params)
    if connection.vendor == "sqlite":
        rows = [(*row[:4], _parse(row[4]), _parse(row[5])) for row in rows]
    return rows


def materialized() -> str:
    return "MATERIALIZED " if connection.vendor == "postgresql" else ""


def offset0() -> str:
    return "OFFSET 0" if connection.vendor == "postgresql" else ""
