"""Every calendar a test gets is parsed back by two independent parsers."""

import datetime as dt

import icalendar
import recurring_ical_events


def parse(body: bytes) -> icalendar.Calendar:
    cal = icalendar.Calendar.from_ical(body)
    assert cal["VERSION"] == "2.0"
    assert str(cal["PRODID"]).startswith("-//CyberMed//")
    return cal


def events(body: bytes) -> dict[str, icalendar.Event]:
    """The VEVENTs by UID, after checking that recurring-ical-events reads the same events and times."""
    cal = parse(body)
    ours = {str(e["UID"]): e for e in cal.walk("VEVENT")}
    theirs = recurring_ical_events.of(cal).between(dt.datetime(2000, 1, 1), dt.datetime(2100, 1, 1))
    assert {str(e["UID"]): (e.decoded("DTSTART"), e.decoded("DTEND")) for e in theirs} == {
        uid: (e.decoded("DTSTART"), e.decoded("DTEND")) for uid, e in ours.items()
    }
    return ours
