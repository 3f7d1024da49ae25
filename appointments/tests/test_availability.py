"""Unit tests of the pure availability engine (no database)."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from appointments.availability import (
    WeeklyRule,
    bookable_slots,
    covered_by,
    grid_slots,
    merge,
    overlaps_any,
    resolve_wall_time,
    rule_windows,
    wall_time_exists,
)

UTC = dt.UTC
LONDON = ZoneInfo("Europe/London")
NEW_YORK = ZoneInfo("America/New_York")
LAGOS = ZoneInfo("Africa/Lagos")
SPRING_LONDON = dt.date(2026, 3, 29)  # 01:00 GMT -> 02:00 BST
AUTUMN_LONDON = dt.date(2026, 10, 25)  # 02:00 BST -> 01:00 GMT
SPRING_NY = dt.date(2026, 3, 8)  # 02:00 EST -> 03:00 EDT
AUTUMN_NY = dt.date(2026, 11, 1)  # 02:00 EDT -> 01:00 EST
LONG_AGO = dt.datetime(2000, 1, 1, tzinfo=UTC)


def utc(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=UTC)


def local_starts(slots: list, zone: ZoneInfo) -> list[str]:
    return [start.astimezone(zone).strftime("%H:%M%z") for start, _ in slots]


def rule_on(day: dt.date, start: str, end: str) -> WeeklyRule:
    return WeeklyRule(day.weekday(), dt.time.fromisoformat(start), dt.time.fromisoformat(end))


def assert_disjoint_and_ordered(slots: list) -> None:
    for (_, end), (start, _) in zip(slots, slots[1:], strict=False):
        assert end <= start


def test_grid_cuts_rule_into_slots_anchored_at_rule_start():
    day = dt.date(2026, 1, 5)  # a Monday
    slots = grid_slots([rule_on(day, "09:10", "10:40")], UTC, 30, day, day)
    assert slots == [
        (utc(2026, 1, 5, 9, 10), utc(2026, 1, 5, 9, 40)),
        (utc(2026, 1, 5, 9, 40), utc(2026, 1, 5, 10, 10)),
        (utc(2026, 1, 5, 10, 10), utc(2026, 1, 5, 10, 40)),
    ]


def test_grid_only_uses_rules_of_the_matching_weekday_and_range_is_inclusive():
    monday = dt.date(2026, 1, 5)
    rules = [WeeklyRule(0, dt.time(9), dt.time(10)), WeeklyRule(2, dt.time(14), dt.time(15))]
    slots = grid_slots(rules, UTC, 60, monday, monday + dt.timedelta(days=2))
    assert slots == [(utc(2026, 1, 5, 9), utc(2026, 1, 5, 10)), (utc(2026, 1, 7, 14), utc(2026, 1, 7, 15))]


def test_grid_interprets_rules_in_the_doctor_zone():
    day = dt.date(2026, 1, 5)
    slots = grid_slots([rule_on(day, "09:00", "10:00")], LAGOS, 60, day, day)
    assert slots == [(utc(2026, 1, 5, 8), utc(2026, 1, 5, 9))]


def test_nine_oclock_rule_stays_nine_local_across_london_changes():
    before, after = SPRING_LONDON - dt.timedelta(days=7), SPRING_LONDON + dt.timedelta(days=7)
    rules = [WeeklyRule(6, dt.time(9), dt.time(10))]
    slots = grid_slots(rules, LONDON, 60, before, after)
    assert local_starts(slots, LONDON) == ["09:00+0000", "09:00+0100", "09:00+0100"]
    assert [s.hour for s, _ in slots] == [9, 8, 8]


def test_london_spring_forward_skips_the_missing_hour():
    slots = grid_slots([rule_on(SPRING_LONDON, "00:00", "03:00")], LONDON, 30, SPRING_LONDON, SPRING_LONDON)
    assert local_starts(slots, LONDON) == ["00:00+0000", "00:30+0000", "02:00+0100", "02:30+0100"]
    assert slots[1] == (utc(2026, 3, 29, 0, 30), utc(2026, 3, 29, 1, 0))
    assert slots[-1][1] == utc(2026, 3, 29, 2, 0)  # 03:00 BST
    assert_disjoint_and_ordered(slots)


def test_london_spring_forward_slots_never_overlap_with_odd_lengths():
    slots = grid_slots([rule_on(SPRING_LONDON, "00:00", "04:00")], LONDON, 45, SPRING_LONDON, SPRING_LONDON)
    assert_disjoint_and_ordered(slots)
    # 00:00, 00:45 GMT; 01:30 does not exist; 02:15 BST would start before 00:45's end (01:30 UTC).
    assert local_starts(slots, LONDON) == ["00:00+0000", "00:45+0000", "03:00+0100"]


def test_slot_never_runs_past_rule_end_across_the_gap():
    slots = grid_slots([rule_on(SPRING_LONDON, "00:30", "02:30")], LONDON, 90, SPRING_LONDON, SPRING_LONDON)
    # 00:30 GMT + 90 min = 02:00 UTC = 03:00 BST, after the rule's 02:30 BST end.
    assert slots == []


def test_rule_ending_inside_the_gap_ends_at_the_jump():
    slots = grid_slots([rule_on(SPRING_LONDON, "00:30", "01:30")], LONDON, 30, SPRING_LONDON, SPRING_LONDON)
    assert slots == [(utc(2026, 3, 29, 0, 30), utc(2026, 3, 29, 1, 0))]


def test_rule_starting_inside_the_gap_starts_after_it():
    slots = grid_slots([rule_on(SPRING_LONDON, "01:30", "03:00")], LONDON, 30, SPRING_LONDON, SPRING_LONDON)
    # 01:30 does not exist; the grid goes on from it on the wall clock.
    assert local_starts(slots, LONDON) == ["02:00+0100", "02:30+0100"]


def test_london_fall_back_uses_first_occurrence_of_repeated_hour():
    slots = grid_slots([rule_on(AUTUMN_LONDON, "00:00", "03:00")], LONDON, 30, AUTUMN_LONDON, AUTUMN_LONDON)
    assert local_starts(slots, LONDON) == [
        "00:00+0100",
        "00:30+0100",
        "01:00+0100",
        "01:30+0100",
        "02:00+0000",
        "02:30+0000",
    ]
    assert_disjoint_and_ordered(slots)
    # the second 01:00-02:00 (GMT) is never offered
    assert all(not (utc(2026, 10, 25, 1) <= s < utc(2026, 10, 25, 2)) for s, _ in slots)


def test_new_york_spring_forward_and_fall_back():
    spring = grid_slots([rule_on(SPRING_NY, "01:00", "04:00")], NEW_YORK, 60, SPRING_NY, SPRING_NY)
    assert local_starts(spring, NEW_YORK) == ["01:00-0500", "03:00-0400"]
    autumn = grid_slots([rule_on(AUTUMN_NY, "00:00", "03:00")], NEW_YORK, 60, AUTUMN_NY, AUTUMN_NY)
    assert local_starts(autumn, NEW_YORK) == ["00:00-0400", "01:00-0400", "02:00-0500"]
    assert_disjoint_and_ordered(autumn)


def test_wall_time_exists_and_resolve_in_gap():
    assert not wall_time_exists(SPRING_LONDON, dt.time(1, 30), LONDON)
    assert wall_time_exists(AUTUMN_LONDON, dt.time(1, 30), LONDON)
    assert resolve_wall_time(SPRING_LONDON, dt.time(1, 30), LONDON) == utc(2026, 3, 29, 1)
    assert resolve_wall_time(AUTUMN_LONDON, dt.time(1, 30), LONDON) == utc(2026, 10, 25, 0, 30)


def test_rule_windows_merge_adjacent_rules_and_cover_gap_correctly():
    day = dt.date(2026, 1, 5)
    rules = [rule_on(day, "09:00", "12:00"), rule_on(day, "12:00", "13:00"), rule_on(day, "14:00", "15:00")]
    assert rule_windows(rules, UTC, day, day) == [
        (utc(2026, 1, 5, 9), utc(2026, 1, 5, 13)),
        (utc(2026, 1, 5, 14), utc(2026, 1, 5, 15)),
    ]
    spring = rule_windows([rule_on(SPRING_LONDON, "00:00", "03:00")], LONDON, SPRING_LONDON, SPRING_LONDON)
    assert spring == [(utc(2026, 3, 29, 0), utc(2026, 3, 29, 2))]


def test_bookable_slots_remove_past_and_any_overlap_with_busy():
    day = dt.date(2026, 1, 5)
    grid = grid_slots([rule_on(day, "09:00", "12:00")], UTC, 30, day, day)
    busy = [
        (utc(2026, 1, 5, 10, 15), utc(2026, 1, 5, 10, 20)),  # partial overlap removes 10:00
        (utc(2026, 1, 5, 11), utc(2026, 1, 5, 11, 30)),  # exact
    ]
    free = bookable_slots(grid, busy, now=utc(2026, 1, 5, 9, 0))
    assert [s.strftime("%H:%M") for s, _ in free] == ["09:30", "10:30", "11:30"]


def test_bookable_slots_touching_busy_edges_stay_free():
    day = dt.date(2026, 1, 5)
    grid = grid_slots([rule_on(day, "09:00", "10:00")], UTC, 30, day, day)
    free = bookable_slots(
        grid, [(utc(2026, 1, 5, 8), utc(2026, 1, 5, 9)), (utc(2026, 1, 5, 10), utc(2026, 1, 5, 11))], LONG_AGO
    )
    assert free == grid


def test_long_busy_interval_hides_every_slot_it_covers():
    day = dt.date(2026, 1, 5)
    grid = grid_slots([rule_on(day, "09:00", "17:00")], UTC, 30, day, day)
    busy = [(utc(2026, 1, 5, 8), utc(2026, 1, 5, 16)), (utc(2026, 1, 5, 9), utc(2026, 1, 5, 9, 30))]
    free = bookable_slots(grid, busy, LONG_AGO)
    assert [s.strftime("%H:%M") for s, _ in free] == ["16:00", "16:30"]


@pytest.mark.parametrize(
    ("interval", "expected"),
    [
        ((utc(2026, 1, 1, 9), utc(2026, 1, 1, 10)), True),
        ((utc(2026, 1, 1, 11), utc(2026, 1, 1, 11, 30)), False),
        ((utc(2026, 1, 1, 10), utc(2026, 1, 1, 11)), False),
        ((utc(2026, 1, 1, 11, 59), utc(2026, 1, 1, 12, 1)), True),
    ],
)
def test_overlaps_any(interval, expected):
    busy = merge([(utc(2026, 1, 1, 9, 30), utc(2026, 1, 1, 10)), (utc(2026, 1, 1, 12), utc(2026, 1, 1, 13))])
    assert overlaps_any(interval, busy) is expected


def test_covered_by_requires_one_window():
    windows = [(utc(2026, 1, 1, 9), utc(2026, 1, 1, 12)), (utc(2026, 1, 1, 13), utc(2026, 1, 1, 17))]
    assert covered_by((utc(2026, 1, 1, 9), utc(2026, 1, 1, 12)), windows)
    assert not covered_by((utc(2026, 1, 1, 11), utc(2026, 1, 1, 14)), windows)
    assert not covered_by((utc(2026, 1, 1, 8), utc(2026, 1, 1, 9, 30)), windows)
