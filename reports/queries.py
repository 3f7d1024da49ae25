"""The reports' SQL: set-based aggregates over the appointments of a period, for PostgreSQL and SQLite.

Why hand-written SQL: the figures need joins the ORM only writes as correlated subqueries (one index
probe per appointment, about 7 µs each on PostgreSQL, i.e. seconds for a clinic quarter), a grouping by
time bucket, and a few vendor functions. There are two statements, `figures()` and `booked()`; each reads
the period's appointments once (and `figures()` the completed visits up to the period's end once, in index
order), joined by hash to small sets or probing partial indexes (appointments/migrations/0006); no
intermediate result is read twice (PostgreSQL would materialize it, and misjudge its size). Nothing in
Python touches an appointment row except the rare ones `booked()` leaves to interval arithmetic.

The vendor differences are confined to `Dialect`: PostgreSQL's `AT TIME ZONE`, interval arithmetic and
`percentile_cont`; on SQLite the same meanings are Python functions registered on each connection
(`register_sqlite_functions`), so both databases give identical figures. `session()` turns JIT off and
gives the statements 32 MB of work_mem on PostgreSQL (why: its docstring). `in_parallel()` runs `booked()` on a
second connection while `figures()` and the availability arithmetic run on the request's (PostgreSQL, outside a
transaction).
"""

import datetime as dt
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TypeVar
from zoneinfo import ZoneInfo

from django.db import DatabaseError, connection

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

    def day_number(self, instant: str, zone: str, *, closed_right: bool = False) -> str:
        """Days from 2000-01-03 to the local date of `instant` (of the instant just before it: closed_right)."""
        if closed_right:
            instant = f"({instant} - INTERVAL '1 microsecond')"
        return f"({self.date(self.local(instant, zone))} - DATE '2000-01-03')"

    def time(self, local: str) -> str:
        return f"CAST({local} AS time)"

    def weekday(self, local_date: str) -> str:
        return f"(({local_date} - DATE '2000-01-03') %% 7)"  # 3 January 2000 was a Monday

    def wall(self, local_date: str, time: str) -> str:
        return f"({local_date} + {time})"


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

    def day_number(self, instant: str, zone: str, *, closed_right: bool = False) -> str:
        return f"reports_day_number({instant}, {zone}, {int(closed_right)})"

    def time(self, local: str) -> str:
        return f"substr({local}, 12)"

    def weekday(self, local_date: str) -> str:
        return f"((CAST(strftime('%%w', {local_date}) AS integer) + 6) %% 7)"

    def wall(self, local_date: str, time: str) -> str:
        return f"({local_date} || ' ' || {time})"


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


_MONDAY = dt.date(2000, 1, 3)


def _day_number(instant: str | None, zone: str | None, closed_right: int) -> int | None:
    if instant is None or zone is None:
        return None
    moment = _parse(instant) - (dt.timedelta(microseconds=1) if closed_right else dt.timedelta())
    return (moment.astimezone(ZoneInfo(zone)).date() - _MONDAY).days


class _Median:
    """PostgreSQL's percentile_cont(0.5): the middle value, or lo + (hi - lo) * 0.5 of the middle two."""

    def __init__(self) -> None:
        self.values: list[float] = []

    def step(self, value: float | None) -> None:
        if value is not None:
            self.values.append(value)

    def finalize(self) -> float | None:
        return median(self.values)


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
    raw.create_function("reports_day_number", 3, _day_number, deterministic=True)
    raw.create_aggregate("reports_median", 1, _Median)


# The statements ----------------------------------------------------------------------------------
# Parameters are appended to a list as the SQL text is written, left to right (f-strings evaluate in that
# order), so a fragment holding placeholders is written where it stands, never built early and reused.

STATUSES = tuple(s.value for s in Status)


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
    daily: ZoneInfo | None = None  # the zone whose local dates the buckets are, when they are days

    def scope(self, alias: str, params: list) -> str:
        sql = ""
        if self.doctor_id is not None:
            sql += f" AND {alias}.doctor_id = %s"
            params.append(self.doctor_id)
        if self.specialty_id is not None:
            sql += f" AND {alias}.doctor_id IN (SELECT user_id FROM {PROFILE} WHERE specialty_id = %s)"
            params.append(self.specialty_id)
        return sql

    def where(self, alias: str, params: list) -> str:
        params += [param(self.start), param(self.end)]
        return f"{alias}.start >= %s AND {alias}.start < %s" + self.scope(alias, params)

    def bucket(self, column: str, params: list, *, closed_right: bool = False) -> str:
        """The bucket index of `column`: a binary tree of comparisons with the inner edges ("0": one bucket).

        Daily buckets are the local dates themselves: the index is arithmetic, one expression whatever the
        number of days (a year's tree is 365 parameters and nine comparisons per use).
        """
        inner = list(self.edges[1:-1])
        if self.daily is not None and inner:
            d = dialect()
            first = (self.edges[0].astimezone(self.daily).date() - _MONDAY).days
            params += [self.daily.key, first]
            return f"({d.day_number(column, '%s', closed_right=closed_right)} - %s)"
        op = "<=" if closed_right else "<"

        def tree(lo: int, hi: int) -> str:  # buckets lo..hi
            if lo == hi:
                return str(lo)
            mid = (lo + hi) // 2
            params.append(param(inner[mid]))
            left = tree(lo, mid)
            return f"CASE WHEN {column} {op} %s THEN {left} ELSE {tree(mid + 1, hi)} END"

        if not inner:
            return "0"
        return tree(0, len(inner))


def _rows(sql: str, params: list) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


@contextmanager
def session() -> Iterator[None]:
    """Run a report's statements with settings fit for them (PostgreSQL; nothing on SQLite).

    - jit off: the statements read a table of a million rows, so their estimated cost passes
      `jit_above_cost`, and PostgreSQL then spends 70-700 ms compiling expressions for statements that
      run in about 100 ms;
    - work_mem 32 MB: the sorts and hashes over a quarter's appointments (about 250,000 narrow rows) stay
      in memory instead of spilling to disk at the default 4 MB.

    Set on the connection (a report may run outside a transaction, where SET LOCAL would not last) and put
    back afterwards: two statements.
    """
    if connection.vendor != "postgresql":
        yield
        return
    with connection.cursor() as cursor:
        # The select list is evaluated left to right: the old values are read before they are set.
        cursor.execute(
            "SELECT current_setting('jit'), current_setting('work_mem'), "
            "set_config('jit', 'off', false), set_config('work_mem', '32MB', false)"
        )
        jit, work_mem, *_ = cursor.fetchone()
    restore = "SELECT set_config('jit', %s, false), set_config('work_mem', %s, false)"
    try:
        yield
    except BaseException:
        try:
            with connection.cursor() as cursor:
                cursor.execute(restore, [jit, work_mem])
        except DatabaseError:
            # The failed statement was inside a transaction, now aborted: its rollback undoes the settings
            # anyway, and the statement's own error is the one to see.
            pass
        raise
    with connection.cursor() as cursor:
        cursor.execute(restore, [jit, work_mem])


T = TypeVar("T")


def in_parallel(statement: Callable[..., T], *args: object, worth_it: bool = True) -> Callable[[], T]:
    """Start `statement(*args)` and return the function that waits for its rows.

    On PostgreSQL outside a transaction, the statement runs in a thread of its own on a second connection (with
    `session()`'s settings), so the server works on it on another core while this thread goes on: a report's
    two statements take about the time of the longer one rather than their sum. The thread's connection is
    closed afterwards (or handed back to the pool, with DB_POOL_MAX_SIZE); a report uses at most two at once.

    It runs here and now instead inside a transaction (tests, ATOMIC_REQUESTS, a caller's atomic block, autocommit
    off: another connection would not see the transaction's own rows), on SQLite, and when the caller says it is not
    `worth_it`: the thread and its connection cost about 7 ms, more than one doctor's statements take.
    """
    in_transaction = connection.in_atomic_block or not connection.get_autocommit()
    if not worth_it or connection.vendor != "postgresql" or in_transaction:
        rows = statement(*args)
        return lambda: rows

    def run() -> T:
        try:
            with session():
                return statement(*args)
        finally:
            connection.close()  # this thread's own connection, never the request's

    executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="reports")
    future = executor.submit(run)
    executor.shutdown(wait=False)  # the thread ends with the statement
    return future.result


PATIENTS = "patients"  # marks the new/returning rows of `figures()`


def figures(frame: Frame) -> list[tuple]:
    """One statement, two kinds of rows, each (doctor, bucket, kind, then len(STATUSES) + 2 values):

    - (…, None, a count per status in `STATUSES` order, late cancellations, median lead seconds): one scan
      of the period's appointments, one grouping. Late: a `cancelled` entry of the history less than 24
      hours before the start. The definition reads the latest entry; "the latest is within 24 h" is "one is
      within 24 h": an index-only probe of the partial index on cancelled entries, made for the cancelled
      appointments only (the filter's AND stops before the probe for the others);
    - (…, PATIENTS, new, returning, None…): see `_patients()`.
    """
    d = dialect()
    params: list = []
    doctor = "a.doctor_id" if frame.per_doctor else "0"
    sql = f"SELECT {doctor}, {frame.bucket('a.start', params)}, NULL"
    for status in STATUSES:
        sql += ", count(*) FILTER (WHERE a.status = %s)"
        params.append(status)
    sql += (
        f", count(*) FILTER (WHERE a.status = %s AND EXISTS (SELECT 1 FROM {STATUS_CHANGE} c "
        f"WHERE c.appointment_id = a.id AND c.to_status = %s AND {d.within_24h('a.start', 'c.at')})), "
    )
    params += [Status.CANCELLED, Status.CANCELLED]
    sql += f"{d.median(d.seconds('a.start', 'a.created_at'))} FROM {APPOINTMENT} a WHERE {frame.where('a', params)} "
    sql += f"GROUP BY 1, 2 UNION ALL {_patients(frame, params)}"
    return _rows(sql, params)


def _patients(frame: Frame, params: list) -> str:
    """SELECT doctor, bucket, PATIENTS, new, returning, NULL…

    Per who (the doctor when `frame.by_doctor`, else the clinic) and patient, from their completed visits
    up to the period's end (on PostgreSQL the partial index on completed visits, read in (patient, doctor)
    order, so the grouping needs no sort): *earlier* = a visit before the period; *first* = the first bucket
    with a visit in the period and in scope. In bucket b, for a patient with a visit there: new when not
    earlier and first = b, else returning. A clinic-wide judgement looks at the visits with every doctor
    before the period but only at the visits in scope inside it (the report's patients are those seen in
    scope).
    """
    who = "a.doctor_id" if frame.by_doctor else "0"
    # (patient, doctor): the index's order. A bare 0 in GROUP BY would mean a column number.
    patient = "a.patient_id, a.doctor_id" if frame.by_doctor else "a.patient_id"
    group = "p.who" if frame.per_doctor else "0"
    padding = ", NULL" * len(STATUSES)

    def visits() -> str:
        # A judgement per doctor only needs the scope's visits; a clinic-wide one needs all of them.
        params.append(Status.COMPLETED)
        params.append(param(frame.end))
        scope = frame.scope("a", params) if frame.by_doctor else ""
        return f"FROM {APPOINTMENT} a WHERE a.status = %s AND a.start < %s{scope}"

    def in_period() -> str:
        params.append(param(frame.start))
        return "a.start >= %s" + ("" if frame.by_doctor else frame.scope("a", params))

    if len(frame.edges) == 2:
        # One bucket: new = no visit before the period. One grouping, no window. The patients seen in the period
        # are those whose latest visit (in scope) is in it: a filter on the grouping, so only they are counted
        # (a third of the groups, and no CASE per visit: ~25% less time than testing a `seen` flag outside).
        # The filter's selectivity PostgreSQL guesses at a third, so the outer grouping is still hashed.
        params += [param(frame.start), param(frame.start)]

        def latest() -> str:
            scope = "" if frame.by_doctor else frame.scope("a", params)
            return f"CASE WHEN 1 = 1{scope} THEN a.start END" if scope else "a.start"

        sql = (
            f"SELECT {group}, 0, '{PATIENTS}', count(*) FILTER (WHERE p.first >= %s), "
            f"count(*) FILTER (WHERE p.first < %s){padding} "
            f"FROM (SELECT {who} AS who, a.patient_id, min(a.start) AS first, max({latest()}) AS latest "
            f"{visits()} GROUP BY {patient}) p WHERE p.latest >= %s GROUP BY 1"
        )
        params.append(param(frame.start))
        return sql
    # Several buckets: each visit in the period with its patient's first one (a window over the patient).
    sql = (
        f"SELECT {group}, p.k, '{PATIENTS}', count(*) FILTER (WHERE p.earlier = 0 AND p.k = p.fk), "
        f"count(*) FILTER (WHERE p.earlier = 1 OR p.k > p.fk){padding} "
        f"FROM (SELECT DISTINCT v.who, v.patient_id, {frame.bucket('v.start', params)} AS k, "
        f"{frame.bucket('v.first', params)} AS fk, v.earlier "
        f"FROM (SELECT {who} AS who, a.patient_id, a.start, CASE WHEN {in_period()} THEN 1 ELSE 0 END AS scoped, "
    )
    params.append(param(frame.start))
    return sql + (
        "CASE WHEN min(a.start) OVER w < %s THEN 1 ELSE 0 END AS earlier, "
        f"min(CASE WHEN {in_period()} THEN a.start END) OVER w AS first "
        f"{visits()} WINDOW w AS (PARTITION BY {patient})) v WHERE v.scoped = 1) p GROUP BY 1, 2"
    )


def booked(
    frame: Frame, irregular: Sequence[tuple[str, dt.datetime, dt.datetime]], overlapping_rules: Sequence[int]
) -> list[tuple]:
    """Booked time, rows (doctor, inside, key, seconds, start, end): inside = 1 when `seconds` is the sum
    over the doctor's appointments in bucket `key` that are known to lie inside available time; inside = 0
    for one other booked appointment (start, end), left to exact arithmetic. One scan of the period's booked
    appointments; no intermediate result is read twice.

    Inside, decided here: the appointment lies within a weekly rule on the wall clock of its doctor's local
    date, that date has no offset change (`irregular`: zone, from, to), it overlaps no time off, ends inside
    its bucket and the period, and it overlaps none of its doctor's other booked appointments (booked time
    is the union of the appointments: overlapping ones all go to exact arithmetic). Rules and time off are
    outer joins (hash joins; an EXISTS outside WHERE would be a subquery per row), so an appointment can
    meet two of them; it is then never inside (two time off overlap it, or it is a doctor's in
    `overlapping_rules`, whose rules on one weekday overlap), and the rows left to arithmetic are grouped by
    id, so a repeat only repeats the same row.
    """
    d = dialect()
    params: list = []
    # Innermost, on few columns (the sort carries them): whether the appointment overlaps another of its
    # doctor's. Sorted by start, it does when it starts before an earlier one ends, or ends after the next
    # one starts (the following ones start later still).
    w = (
        f"SELECT a.id, a.doctor_id, a.start, a.{END}, p.timezone, "
        f"CASE WHEN a.start < max(a.{END}) OVER o OR a.{END} > lead(a.start) OVER o THEN 1 ELSE 0 END AS overlaps "
        f"FROM {APPOINTMENT} a JOIN {PROFILE} p ON p.user_id = a.doctor_id WHERE {frame.where('a', params)} "
        f"AND a.status IN ({', '.join('%s' for _ in BOOKED)}) "
        # One window for both (lead ignores the frame), so one pass over one sort. Ties on start need no
        # order: two appointments starting together overlap, and each is flagged whichever comes first.
        f"WINDOW o AS (PARTITION BY a.doctor_id ORDER BY a.start ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING)"
    )
    params += list(BOOKED)
    w_params, params = params, []
    # Then the wall clock, once per row (OFFSET 0 keeps PostgreSQL from inlining it into each use).
    ls = d.local("w.start", "w.timezone")
    b = (
        f"SELECT w.id, w.doctor_id, w.start, w.{END}, w.overlaps, {ls} AS ls, "
        f"{d.local_end(ls, 'w.start', 'w.' + END, 'w.timezone')} AS le, {frame.bucket('w.start', params)} AS k, "
        f"CASE WHEN {frame.bucket('w.start', params)} = {frame.bucket('w.' + END, params, closed_right=True)} "
        f"AND w.{END} <= %s"
    )
    params.append(param(frame.end))
    for zone, since, until in irregular:
        # The instants first: most rows are outside the few days, and two comparisons of timestamps are cheaper
        # than one of zone names (~5 ms of 250 at 1M).
        b += " AND NOT (w.start >= %s AND w.start < %s AND w.timezone = %s)"
        params += [param(since), param(until), zone]
    b += f" THEN 1 ELSE 0 END AS plain FROM ({w}) w {offset0()}"
    params += w_params
    ld = d.date("b.ls")
    o = (
        f"SELECT b.id, b.doctor_id, b.k, b.start, b.{END}, CASE WHEN b.plain = 1 AND b.overlaps = 0 "
        f"AND r.doctor_id IS NOT NULL AND t.doctor_id IS NULL"
    )
    if overlapping_rules:
        o += f" AND b.doctor_id NOT IN ({', '.join('%s' for _ in overlapping_rules)})"
        # These placeholders stand before `b`'s in the text.
        params[:0] = overlapping_rules
    o += (
        f" THEN 1 ELSE 0 END AS inside FROM ({b}) b "
        f"LEFT JOIN {RULE} r ON r.doctor_id = b.doctor_id AND r.weekday = {d.weekday(ld)} "
        f"AND r.start_time <= {d.time('b.ls')} AND b.le <= {d.wall(ld, 'r.end_time')} "
        f"LEFT JOIN {TIME_OFF} t ON t.doctor_id = b.doctor_id AND t.start < b.{END} AND t.{END} > b.start"
    )
    sql = (
        f"SELECT o.doctor_id, o.inside, CASE WHEN o.inside = 1 THEN o.k ELSE o.id END AS key, "
        f"sum({d.seconds('o.' + END, 'o.start')}), CASE WHEN o.inside = 0 THEN min(o.start) END, "
        f"CASE WHEN o.inside = 0 THEN min(o.{END}) END FROM ({o}) o GROUP BY 1, 2, 3"
    )
    rows = _rows(sql, params)
    if connection.vendor == "sqlite":
        rows = [(*row[:4], _parse(row[4]), _parse(row[5])) for row in rows]
    return rows


def offset0() -> str:
    return "OFFSET 0" if connection.vendor == "postgresql" else ""
