"""Serializer fields that take JSON at its word, so every malformed value is a 400 and never a 500.

Shared by the scheduling and consultation APIs (consultations already depend on appointments).
"""

import datetime as dt
from typing import Any

from django.utils import timezone
from rest_framework import serializers

# Inputs closer than this to the ends of Python's datetime range are refused: converting them between
# time zones, or adding a slot or a day around them, would overflow.
RANGE_MARGIN = dt.timedelta(days=7)
MIN_DATETIME = dt.datetime.min.replace(tzinfo=dt.UTC) + RANGE_MARGIN
MAX_DATETIME = dt.datetime.max.replace(tzinfo=dt.UTC) - RANGE_MARGIN
MIN_DATE = dt.date.min + RANGE_MARGIN
MAX_DATE = dt.date.max - RANGE_MARGIN
OUT_OF_RANGE = f"Out of the supported range ({MIN_DATE.isoformat()} to {MAX_DATE.isoformat()})."


def printable(text: str) -> str:
    """`text` safe to echo back in JSON: a lone surrogate cannot be encoded as UTF-8 and would crash rendering."""
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


def aware_datetime_in_range(value: dt.datetime) -> dt.datetime | None:
    """`value` in UTC, or None if it is too close to the ends of the datetime range to compute with."""
    try:
        utc = value.astimezone(dt.UTC)
    except OverflowError:
        return None
    return utc if MIN_DATETIME <= utc <= MAX_DATETIME else None


class StrictCharField(serializers.CharField):
    """A JSON string and nothing else: DRF's CharField would quietly turn 12 into "12"."""

    default_error_messages = {
        "not_a_string": "Must be a string.",
        "bad_unicode": "Contains characters that cannot be stored (unpaired surrogates).",
    }

    def to_internal_value(self, data: Any) -> str:
        if not isinstance(data, str):
            self.fail("not_a_string")
        try:
            data.encode("utf-8")
        except UnicodeEncodeError:
            self.fail("bad_unicode")
        return super().to_internal_value(data)


class AwareDateTimeField(serializers.DateTimeField):
    """ISO 8601 with an offset; a naive datetime is rejected instead of being read in the server's zone."""

    default_error_messages = {
        "naive": "Include a UTC offset or Z, e.g. 2030-01-07T09:00:00+01:00.",
        "out_of_range": OUT_OF_RANGE,
    }

    def to_internal_value(self, value: object) -> dt.datetime:
        if isinstance(value, dt.datetime):
            parsed = value
        else:
            if not isinstance(value, str):
                self.fail("invalid", format="YYYY-MM-DDThh:mm[:ss[.uuuuuu]](+HH:MM|-HH:MM|Z)")
            parsed = super().to_internal_value(value)
            if not _has_offset(value):
                self.fail("naive")
        if timezone.is_naive(parsed):
            self.fail("naive")
        utc = aware_datetime_in_range(parsed)
        if utc is None:
            self.fail("out_of_range")
        return utc


def _has_offset(raw: str) -> bool:
    try:
        return dt.datetime.fromisoformat(raw.strip()).tzinfo is not None
    except ValueError:
        return False


class BoundedDateField(serializers.DateField):
    """`YYYY-MM-DD`, far enough from the ends of the calendar to compute with."""

    default_error_messages = {"out_of_range": OUT_OF_RANGE}

    def to_internal_value(self, value: object) -> dt.date:
        parsed = super().to_internal_value(value)
        if not MIN_DATE <= parsed <= MAX_DATE:
            self.fail("out_of_range")
        return parsed
