"""FHIR date search values: precision is a range, and each prefix compares against it."""

import datetime as dt

import pytest
from django.http import QueryDict

from fhir_api import search
from fhir_api.search import SearchError, date_bound

UTC = dt.UTC


@pytest.mark.parametrize(
    ("value", "low", "high"),
    [
        ("2030", dt.datetime(2030, 1, 1, tzinfo=UTC), dt.datetime(2031, 1, 1, tzinfo=UTC)),
        ("2030-12", dt.datetime(2030, 12, 1, tzinfo=UTC), dt.datetime(2031, 1, 1, tzinfo=UTC)),
        ("2030-02", dt.datetime(2030, 2, 1, tzinfo=UTC), dt.datetime(2030, 3, 1, tzinfo=UTC)),
        ("2030-06-04", dt.datetime(2030, 6, 4, tzinfo=UTC), dt.datetime(2030, 6, 5, tzinfo=UTC)),
        ("2030-06-04T10:00Z", dt.datetime(2030, 6, 4, 10, tzinfo=UTC), dt.datetime(2030, 6, 4, 10, 1, tzinfo=UTC)),
        (
            "2030-06-04T10:00:00-04:00",
            dt.datetime(2030, 6, 4, 14, tzinfo=UTC),
            dt.datetime(2030, 6, 4, 14, 0, 1, tzinfo=UTC),
        ),
    ],
)
def test_date_precision_is_the_range_it_covers(value, low, high):
    bound = date_bound(value, "date")

    assert (bound.prefix, bound.low, bound.high) == ("eq", low, high)


@pytest.mark.parametrize(
    ("prefix", "inside", "before", "after", "lower", "upper"),
    [
        ("eq", True, False, False, "low", "high"),
        ("ne", False, True, True, None, None),
        ("ge", True, False, True, "low", None),
        ("gt", False, False, True, "high", None),
        ("le", True, True, False, None, "high"),
        ("lt", False, True, False, None, "low"),
    ],
)
def test_prefix_compares_against_the_day(prefix, inside, before, after, lower, upper):
    bound = date_bound(f"{prefix}2030-06-04", "date")
    edges = {"low": bound.low, "high": bound.high, None: None}

    assert bound.matches(dt.datetime(2030, 6, 4, 12, tzinfo=UTC)) is inside
    assert bound.matches(dt.datetime(2030, 6, 3, 23, 59, tzinfo=UTC)) is before
    assert bound.matches(dt.datetime(2030, 6, 5, tzinfo=UTC)) is after
    assert (bound.lower, bound.upper) == (edges[lower], edges[upper])


@pytest.mark.parametrize(
    "value",
    ["", "ge", "30-06-04", "2030-6-4", "2030-06-04T10", "2030-06-04T10:00", "2030-06-04 10:00Z", "0000", "9999"],
)
def test_malformed_or_unusable_dates_are_search_errors(value):
    with pytest.raises(SearchError):
        date_bound(value, "date")


def test_unknown_parameter_is_a_search_error_naming_it():
    with pytest.raises(SearchError, match="patinet"):
        search.check_known(QueryDict("patinet=1&_count=5"), ["patient"])


def test_page_defaults_and_caps():
    assert search.page_of(QueryDict("")) == search.Page(count=20, number=1)
    assert search.page_of(QueryDict("_count=1000&_page=3")) == search.Page(count=100, number=3)
    assert search.Page(count=10, number=3).offset == 20
