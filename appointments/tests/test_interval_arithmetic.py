"""The interval arithmetic of the availability engine that the reports count with (clip, subtract, intersect,
seconds per bucket), on hand-computed cases."""

import datetime as dt

from appointments.availability import clip, intersect, seconds_per_bucket, subtract

DAY = dt.datetime(2030, 5, 6, tzinfo=dt.UTC)


def at(hours: float) -> dt.datetime:
    return DAY + dt.timedelta(hours=hours)


def span(start: float, end: float) -> tuple[dt.datetime, dt.datetime]:
    return (at(start), at(end))


def test_clip_cuts_to_the_range_and_drops_what_lies_outside_or_only_touches_it():
    intervals = [span(6, 8), span(7, 10), span(12, 13), span(16, 18), span(18, 20)]

    assert clip(intervals, at(8), at(18)) == [span(8, 10), span(12, 13), span(16, 18)]


def test_subtract_splits_trims_and_removes_windows():
    windows = [span(9, 12), span(13, 17), span(18, 19)]
    busy = [span(8, 9.5), span(10, 10.5), span(11.5, 13.5), span(16, 20)]

    assert subtract(windows, busy) == [span(9.5, 10), span(10.5, 11.5), span(13.5, 16)]


def test_subtract_nothing_busy_keeps_the_windows():
    assert subtract([span(9, 12)], []) == [span(9, 12)]


def test_intersect_keeps_only_the_overlaps_and_never_empty_ones():
    a = [span(9, 12), span(14, 16)]
    b = [span(8, 10), span(11, 15), span(16, 17)]

    assert intersect(a, b) == [span(9, 10), span(11, 12), span(14, 15)]


def test_seconds_per_bucket_spreads_an_interval_across_edges_and_ignores_what_is_outside():
    edges = [at(0), at(12), at(24)]
    intervals = [span(-2, 1), span(11, 13.5), span(23, 26)]

    assert seconds_per_bucket(intervals, edges) == [(1 + 1) * 3600.0, (1.5 + 1) * 3600.0]
