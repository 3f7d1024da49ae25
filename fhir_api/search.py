"""FHIR search parameters, parsed into plain values; anything malformed or unknown is a `SearchError` (400).

Only what the CapabilityStatement declares is accepted. FHIR lets a server ignore parameters it does
not know, but an ignored, misspelt filter (`patinet=...`) would silently widen the result, which is the
worse surprise for a health-records client; so an unknown parameter is a 400, as `Prefer: handling=strict`
asks for (HAPI FHIR does the same by default).
"""

import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import dataclass

from django.db.models import Q
from django.http import QueryDict

DEFAULT_COUNT = 20
MAX_COUNT = 100
# Parameters any search takes: the page size, the page, and `_format` (JSON only).
PAGING = frozenset({"_count", "_page", "_format"})
JSON_FORMATS = frozenset({"json", "application/json", "application/fhir+json"})

# FHIR's date/dateTime: a year, a month, a day, or a time on a day with seconds optional and a zone required.
_DATE_VALUE = re.compile(
    r"(?P<prefix>eq|ne|gt|ge|lt|le)?"
    r"(?P<year>\d{4})(?:-(?P<month>\d{2})(?:-(?P<day>\d{2})"
    r"(?:T(?P<time>\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?)(?P<zone>Z|[+-]\d{2}:\d{2}))?)?)?"
)
_ID = re.compile(r"[1-9]\d{0,17}")


class SearchError(ValueError):
    """A search the server cannot run as asked: a 400 OperationOutcome with this message."""


@dataclass(frozen=True)
class Page:
    count: int
    number: int

    @property
    def offset(self) -> int:
        return (self.number - 1) * self.count


@dataclass(frozen=True)
class DateBound:
    """One `date=` / `start=` value: a comparison against the instant range the value's precision covers."""

    prefix: str
    low: dt.datetime  # inclusive
    high: dt.datetime  # exclusive

    def q(self, field: str) -> Q:
        """The condition on a point-in-time field (Appointment.start, Slot.start)."""
        if self.prefix == "eq":
            return Q(**{f"{field}__gte": self.low, f"{field}__lt": self.high})
        if self.prefix == "ne":
            return ~Q(**{f"{field}__gte": self.low, f"{field}__lt": self.high})
        if self.prefix == "gt":
            return Q(**{f"{field}__gte": self.high})
        if self.prefix == "ge":
            return Q(**{f"{field}__gte": self.low})
        if self.prefix == "lt":
            return Q(**{f"{field}__lt": self.low})
        return Q(**{f"{field}__lt": self.high})  # le

    def matches(self, instant: dt.datetime) -> bool:
        inside = self.low <= instant < self.high
        return {
            "eq": inside,
            "ne": not inside,
            "gt": instant >= self.high,
            "ge": instant >= self.low,
            "lt": instant < self.low,
            "le": instant < self.high,
        }[self.prefix]

    @property
    def lower(self) -> dt.datetime | None:
        """The earliest instant the bound lets through, if it sets one."""
        return {"eq": self.low, "gt": self.high, "ge": self.low}.get(self.prefix)

    @property
    def upper(self) -> dt.datetime | None:
        """The instant the bound stops before, if it sets one."""
        return {"eq": self.high, "lt": self.low, "le": self.high}.get(self.prefix)


def check_known(params: QueryDict, allowed: Iterable[str]) -> None:
    unknown = sorted(set(params) - set(allowed) - PAGING)
    if unknown:
        raise SearchError(f"Unknown or unsupported search parameter(s): {', '.join(unknown)}.")
    formats = params.getlist("_format")
    if any(f not in JSON_FORMATS for f in formats):
        raise SearchError("Only _format=json is supported.")


def _positive_int(params: QueryDict, name: str, default: int) -> int:
    values = params.getlist(name)
    if not values:
        return default
    if len(values) > 1 or not re.fullmatch(r"[1-9]\d{0,5}", values[0]):
        raise SearchError(f"{name} must be one positive whole number.")
    return int(values[0])


def page_of(params: QueryDict) -> Page:
    """`_count` (default 20, at most 100: a larger one is lowered, as FHIR lets a server do) and `_page`."""
    return Page(
        count=min(_positive_int(params, "_count", DEFAULT_COUNT), MAX_COUNT), number=_positive_int(params, "_page", 1)
    )


def date_bound(value: str, name: str) -> DateBound:
    match = _DATE_VALUE.fullmatch(value)
    if match is None:
        raise SearchError(f"{name}={value!r} is not a FHIR date: [eq|ne|gt|ge|lt|le]YYYY[-MM[-DD[Thh:mm[:ss]+zone]]].")
    year, month, day = int(match["year"]), int(match["month"] or 1), int(match["day"] or 1)
    try:
        if match["time"]:
            low = dt.datetime.fromisoformat(f"{match['year']}-{match['month']}-{match['day']}T{match['time']}")
            zone = match["zone"]
            offset = dt.timedelta(0) if zone == "Z" else dt.timedelta(hours=int(zone[1:3]), minutes=int(zone[4:6]))
            low = low.replace(tzinfo=dt.timezone(-offset if zone[0] == "-" else offset))
            # The value's precision is the range it covers: 10:00 is the whole minute, 10:00:00 the second.
            step = dt.timedelta(seconds=1) if match["time"].count(":") == 2 else dt.timedelta(minutes=1)
            high = low + step
        else:
            # A date without a time is a day (month, year) in UTC: the server's zone, as FHIR allows.
            low = dt.datetime(year, month, day, tzinfo=dt.UTC)
            if match["day"]:
                high = low + dt.timedelta(days=1)
            elif match["month"]:
                high = low.replace(year=year + month // 12, month=month % 12 + 1)
            else:
                high = low.replace(year=year + 1)
        for instant in (low, high):  # out of range once in UTC (year 1 minus an offset)?
            instant.astimezone(dt.UTC)
    except (ValueError, OverflowError):
        raise SearchError(f"{name}={value!r} is not a valid date.") from None
    return DateBound(prefix=match["prefix"] or "eq", low=low, high=high)


def date_bounds(params: QueryDict, name: str) -> list[DateBound]:
    return [date_bound(value, name) for value in params.getlist(name)]


def reference_id(value: str, name: str, resource_type: str) -> int:
    """`Practitioner/12` or `12` (FHIR allows both for a reference parameter) → 12."""
    local = value.removeprefix(f"{resource_type}/")
    if not _ID.fullmatch(local):
        raise SearchError(f"{name} must be a {resource_type} reference: {resource_type}/<id> or <id>.")
    return int(local)


def single(params: QueryDict, name: str) -> str | None:
    values = params.getlist(name)
    if len(values) > 1:
        raise SearchError(f"{name} may be given once.")
    return values[0] if values else None


def tokens(params: QueryDict, name: str, choices: Iterable[str]) -> list[set[str]]:
    """Each `name=` occurrence as a set of alternatives (`a,b` is a OR b; repeated parameters are ANDed)."""
    allowed = set(choices)
    result = []
    for value in params.getlist(name):
        alternatives = set(value.split(","))
        if not alternatives <= allowed:
            raise SearchError(f"{name} must be one or more of {', '.join(sorted(allowed))} (comma-separated).")
        result.append(alternatives)
    return result


def actor(value: str) -> tuple[str, int]:
    """`Patient/3` or `Practitioner/7` (an actor reference must say which)."""
    kind = value.partition("/")[0]
    if kind not in {"Patient", "Practitioner"}:
        raise SearchError("actor must be Patient/<id> or Practitioner/<id>.")
    return kind, reference_id(value, "actor", kind)


def ids(params: QueryDict, name: str = "_id") -> list[int]:
    result = []
    for value in params.getlist(name):
        for part in value.split(","):
            if not _ID.fullmatch(part):
                raise SearchError(f"{name} must be one or more ids, comma-separated.")
            result.append(int(part))
    return result
