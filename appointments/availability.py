"""The availability engine: pure functions from weekly rules and busy intervals to bookable slots.

Both the slots endpoint and booking validation go through `bookable_slots()` / `grid_slots()`, so
every listed slot can be booked and nothing unlisted can.

Time zone rules (all arithmetic on the wall clock of the doctor's IANA zone, results in UTC):
- A rule "Mon 09:00-12:00" covers, on each local Monday, the instants from the moment the wall clock
  first shows 09:00 to the moment it first shows 12:00. A wall time that does not exist (spring-forward
  gap) resolves to the instant of the jump.
- Slots start every `slot_minutes` on the wall clock from the rule's start and last `slot_minutes` of
  real time. A slot whose wall start does not exist is skipped; an ambiguous wall start (fall-back)
  uses its first occurrence (fold=0). A slot must end inside its rule, and slots never overlap.
"""

import bisect
import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from zoneinfo import ZoneInfo

UTC = dt.UTC

Interval = tuple[dt.datetime, dt.datetime]


@dataclass(frozen=True)
class WeeklyRule:
    weekday: int  # 0 = Monday
    start_time: dt.time
    end_time: dt.time


def wall_time_exists(day: dt.date, time: dt.time, zone: ZoneInfo) -> bool:
    local = dt.datetime.combine(day, time, tzinfo=zone)
    round_trip = local.astimezone(UTC).astimezone(zone)
    return round_trip.replace(tzinfo=None) == local.replace(tzinfo=None)


def resolve_wall_time(day: dt.date, time: dt.time, zone: ZoneInfo) -> dt.datetime:
    """The first instant (UTC) at which the wall clock in `zone` shows `time` or later on `day`."""
    local = dt.datetime.combine(day, time, tzinfo=zone)
    if wall_time_exists(day, time, zone):
        return local.astimezone(UTC)  # fold=0: first occurrence of an ambiguous time
    # Inside a gap: the jump happens between the two readings of `time` (after-offset, before-offset).
    low = local.replace(fold=1).astimezone(UTC)
    high = local.replace(fold=0).astimezone(UTC)
    if low > high:  # pragma: no cover - zoneinfo always orders them this way for gaps
        low, high = high, low
    before = low.astimezone(zone).utcoffset()
    # Transitions happen on whole seconds; bisect for the first instant with the new offset.
    while high - low > dt.timedelta(seconds=1):
        mid = low + (high - low) / 2
        mid = mid.replace(microsecond=0)
        if mid <= low:
            break
        if mid.astimezone(zone).utcoffset() == before:
            low = mid
        else:
            high = mid
    return high


def local_dates(first: dt.date, last: dt.date) -> Iterable[dt.date]:
    day = first
    while day <= last:
        yield day
        day += dt.timedelta(days=1)


def rule_slots(day: dt.date, rule: WeeklyRule, slot_minutes: int, zone: ZoneInfo) -> list[Interval]:
    """Slots of one rule on one local date (the rule's weekday is not checked here)."""
    length = dt.timedelta(minutes=slot_minutes)
    window_end = resolve_wall_time(day, rule.end_time, zone)
    wall = dt.datetime.combine(day, rule.start_time)
    wall_end = dt.datetime.combine(day, rule.end_time)
    slots: list[Interval] = []
    while wall + length <= wall_end:
        if wall_time_exists(day, wall.time(), zone):
            start = wall.replace(tzinfo=zone).astimezone(UTC)
            end = start + length
            if end > window_end:
                break
            if not slots or start >= slots[-1][1]:
                slots.append((start, end))
        wall += length
    return slots


def grid_slots(
    rules: Iterable[WeeklyRule], zone: ZoneInfo, slot_minutes: int, first: dt.date, last: dt.date
) -> list[Interval]:
    """Every slot the rules define on local dates first..last (inclusive), ordered and non-overlapping."""
    by_weekday: dict[int, list[WeeklyRule]] = {}
    for rule in rules:
        by_weekday.setdefault(rule.weekday, []).append(rule)
    candidates: list[Interval] = []
    for day in local_dates(first, last):
        for rule in by_weekday.get(day.weekday(), ()):
            candidates.extend(rule_slots(day, rule, slot_minutes, zone))
    candidates.sort()
    slots: list[Interval] = []
    for slot in candidates:
        if not slots or slot[0] >= slots[-1][1]:
            slots.append(slot)
    return slots


def rule_windows(rules: Iterable[WeeklyRule], zone: ZoneInfo, first: dt.date, last: dt.date) -> list[Interval]:
    """The instants the rules cover on local dates first..last, merged where they touch or overlap."""
    by_weekday: dict[int, list[WeeklyRule]] = {}
    for rule in rules:
        by_weekday.setdefault(rule.weekday, []).append(rule)
    windows: list[Interval] = []
    for day in local_dates(first, last):
        for rule in by_weekday.get(day.weekday(), ()):
            start = resolve_wall_time(day, rule.start_time, zone)
            end = resolve_wall_time(day, rule.end_time, zone)
            if end > start:
                windows.append((start, end))
    return merge(windows)


def merge(intervals: Iterable[Interval]) -> list[Interval]:
    merged: list[Interval] = []
    for start, end in sorted(intervals):
        if merged and start <= merged[-1][1]:
            if end > merged[-1][1]:
                merged[-1] = (merged[-1][0], end)
        else:
            merged.append((start, end))
    return merged


def clip(intervals: Iterable[Interval], start: dt.datetime, end: dt.datetime) -> list[Interval]:
    """The parts of `intervals` inside [start, end)."""
    return [(max(a, start), min(b, end)) for a, b in intervals if b > start and a < end]


def subtract(windows: Sequence[Interval], busy: Sequence[Interval]) -> list[Interval]:
    """`windows` minus `busy` (both merged)."""
    result: list[Interval] = []
    for start, end in windows:
        cursor = start
        for busy_start, busy_end in busy:
            if busy_end <= cursor or busy_start >= end:
                continue
            if busy_start > cursor:
                result.append((cursor, busy_start))
            cursor = max(cursor, busy_end)
        if cursor < end:
            result.append((cursor, end))
    return result


def intersect(a: Sequence[Interval], b: Sequence[Interval]) -> list[Interval]:
    """The overlap of two merged interval lists."""
    result: list[Interval] = []
    i = j = 0
    while i < len(a) and j < len(b):
        start, end = max(a[i][0], b[j][0]), min(a[i][1], b[j][1])
        if start < end:
            result.append((start, end))
        if a[i][1] < b[j][1]:
            i += 1
        else:
            j += 1
    return result


def seconds_per_bucket(intervals: Iterable[Interval], edges: Sequence[dt.datetime]) -> list[float]:
    """Seconds of `intervals` falling in each bucket [edges[k], edges[k + 1]) (edges ascending)."""
    seconds = [0.0] * (len(edges) - 1)
    for start, end in intervals:
        k = max(bisect.bisect_right(edges, start) - 1, 0)
        while k < len(seconds) and edges[k] < end:
            overlap = (min(end, edges[k + 1]) - max(start, edges[k])).total_seconds()
            if overlap > 0:
                seconds[k] += overlap
            k += 1
    return seconds


def overlaps_any(interval: Interval, busy: Sequence[Interval]) -> bool:
    """Whether `interval` overlaps any of `busy`, which must be merged (sorted, disjoint)."""
    start, end = interval
    # The last busy interval starting before `end` is the only candidate once they are disjoint.
    index = bisect.bisect_left(busy, (end,)) - 1
    return index >= 0 and busy[index][1] > start


def covered_by(interval: Interval, windows: Sequence[Interval]) -> bool:
    """Whether `interval` lies entirely inside one of `windows` (merged)."""
    start, end = interval
    index = bisect.bisect_right(busy_key(windows), start) - 1
    return index >= 0 and windows[index][0] <= start and end <= windows[index][1]


def busy_key(intervals: Sequence[Interval]) -> list[dt.datetime]:
    return [start for start, _ in intervals]


def bookable_slots(grid: Iterable[Interval], busy: Iterable[Interval], now: dt.datetime) -> list[Interval]:
    """Grid slots that start after `now` and overlap nothing busy (time off, active appointments)."""
    merged = merge(busy)
    return [slot for slot in grid if slot[0] > now and not overlaps_any(slot, merged)]


def local_date_range_utc(first: dt.date, last: dt.date, zone: ZoneInfo) -> Interval:
    """UTC instants from the start of local date `first` to the end of local date `last`, padded by a day
    so that nothing a rule on those dates can touch is missed."""
    start = dt.datetime.combine(first - dt.timedelta(days=1), dt.time(), tzinfo=zone).astimezone(UTC)
    end = dt.datetime.combine(last + dt.timedelta(days=2), dt.time(), tzinfo=zone).astimezone(UTC)
    return start, end
