"""RFC 5545 calendars of appointments, built with `icalendar`: the subscribed feed, one event, and invitations.

An event holds who (the other party's name), where (the clinic and the location) and when (in the doctor's
zone, with its VTIMEZONE), never the reason for the visit or anything medical: a calendar is synced to
third-party servers and shown on lock screens.

Statuses: pending is TENTATIVE; confirmed, completed and no-show are CONFIRMED (the time was booked and
has been kept in the schedule; whether the patient came is not the calendar's business); cancelled and
referred are CANCELLED (a referral's new appointment is an event of its own).
"""

import datetime as dt
import zoneinfo
from collections.abc import Callable, Iterable
from email.utils import parseaddr
from urllib.parse import urlsplit

from django.conf import settings
from django.core.cache import cache
from icalendar import Calendar, Event, Timezone, vCalAddress, vDuration, vText

from appointments.choices import Status
from appointments.models import Appointment
from calendars.selectors import EventVersion
from users.choices import Role
from users.models import User

PRODID = "-//CyberMed//Appointments//EN"
REFRESH = dt.timedelta(hours=1)
CALENDAR_STATUS = {
    Status.PENDING: "TENTATIVE",
    Status.CONFIRMED: "CONFIRMED",
    Status.COMPLETED: "CONFIRMED",
    Status.NO_SHOW: "CONFIRMED",
    Status.CANCELLED: "CANCELLED",
    Status.REFERRED: "CANCELLED",
}
ENDED = frozenset({Status.CANCELLED, Status.REFERRED})
# VTIMEZONE rules only need to cover the events: a year either side of them keeps the component small.
ZONE_MARGIN = dt.timedelta(days=366)
EVENT_CACHE_SECONDS = 24 * 3600


def uid_of(appointment_id: int) -> str:
    """Stable for the appointment's life: calendars match every later version (and its cancel) to it."""
    host = urlsplit(settings.SITE_URL).hostname or "cybermed"
    return f"appointment-{appointment_id}@{host}"


def _zone_named(name: str | None) -> zoneinfo.ZoneInfo:
    try:
        return zoneinfo.ZoneInfo(name or "UTC")
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return zoneinfo.ZoneInfo("UTC")


def _zone(appointment: Appointment) -> zoneinfo.ZoneInfo:
    profile = getattr(appointment.doctor, "doctor_profile", None)
    return _zone_named(profile.timezone if profile is not None else None)


def _name(user: User) -> str:
    full = user.get_full_name() or user.email
    return f"Dr {full}" if user.role == Role.DOCTOR else full


def _clinic(appointment: Appointment) -> tuple[str, str]:
    profile = getattr(appointment.doctor, "doctor_profile", None)
    if profile is None:
        return "", ""
    return profile.clinic_name, profile.clinic_address


def is_ended(appointment: Appointment) -> bool:
    return appointment.status in ENDED


def event_of(appointment: Appointment, *, viewer: User) -> Event:
    """The appointment as `viewer` (one of its participants) sees it: named after the other party."""
    zone = _zone(appointment)
    other = appointment.patient if viewer.pk == appointment.doctor_id else appointment.doctor
    clinic_name, clinic_address = _clinic(appointment)
    summary = f"Appointment with {_name(other)}"
    if clinic_name:
        summary += f" ({clinic_name})"
    event = Event()
    event.add("uid", uid_of(appointment.pk))
    event.add("sequence", appointment.sequence)
    # DTSTAMP from the row, not the clock: an unchanged appointment renders to the same bytes.
    event.add("dtstamp", appointment.updated_at.astimezone(dt.UTC))
    event.add("created", appointment.created_at.astimezone(dt.UTC))
    event.add("last-modified", appointment.updated_at.astimezone(dt.UTC))
    event.add("dtstart", appointment.start.astimezone(zone))
    event.add("dtend", appointment.end.astimezone(zone))
    event.add("summary", summary)
    location = appointment.location or clinic_address
    if location:
        event.add("location", location)
    event.add("status", CALENDAR_STATUS.get(appointment.status, "CONFIRMED"))
    event.add("transp", "TRANSPARENT" if is_ended(appointment) else "OPAQUE")
    event.add("class", "PRIVATE")
    return event


def _calendar(events: Iterable[Event], *, method: str, name: str | None = None) -> Calendar:
    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", method)
    if name:
        cal.add("x-wr-calname", name)
    starts = []
    for event in events:
        cal.add_component(event)
        starts.append(event.decoded("dtstart").date())
    if starts:
        cal.add_missing_timezones(first_date=min(starts) - ZONE_MARGIN, last_date=max(starts) + ZONE_MARGIN)
    return cal


def _event_key(pk: int, doctor_id: int, updated_at: dt.datetime, sequence: int, viewer: User) -> str:
    # Every save moves updated_at, so a changed appointment gets a new key; the side decides the SUMMARY.
    side = "d" if viewer.pk == doctor_id else "p"
    return f"calendars:event:{pk}:{side}:{updated_at.timestamp():.6f}:{sequence}"


def _events_bytes(
    versions: list[EventVersion], viewer: User, load: Callable[[list[int]], list[Appointment]]
) -> list[bytes]:
    """Each VEVENT serialized once per version: icalendar needs about 1 ms per event, a busy feed has 2,000.

    The keys come from the versions alone; only the events missing from the cache are loaded (`load`) and
    rendered, so a feed after one change hydrates one appointment, not two thousand.
    """
    keys = [_event_key(v.pk, v.doctor_id, v.updated_at, v.sequence, viewer) for v in versions]
    cached = cache.get_many(keys)
    missing = [v.pk for v, key in zip(versions, keys, strict=True) if key not in cached]
    rendered: dict[int, bytes] = {}
    if missing:
        fresh = {}
        for appointment in load(missing):
            # Keyed by the row as loaded: had it changed since the versions were read, its newer bytes
            # are cached under its newer key (and shown now), never under the older one.
            key = _event_key(
                appointment.pk, appointment.doctor_id, appointment.updated_at, appointment.sequence, viewer
            )
            fresh[key] = rendered[appointment.pk] = event_of(appointment, viewer=viewer).to_ical()
        cache.set_many(fresh, EVENT_CACHE_SECONDS)
    # An appointment that left the feed between the two reads (none loaded for it) is left out.
    return [
        cached[key] if key in cached else rendered[v.pk]
        for v, key in zip(versions, keys, strict=True)
        if key in cached or v.pk in rendered
    ]


def feed_calendar(
    versions: list[EventVersion], *, viewer: User, load: Callable[[list[int]], list[Appointment]]
) -> bytes:
    """The subscribed feed: METHOD:PUBLISH, refreshed hourly by clients that honour the hints.

    `versions` are the feed's events in order; `load(ids)` returns the appointments not yet rendered.
    """
    cal = _calendar([], method="PUBLISH", name="CyberMed")
    # RFC 7986 REFRESH-INTERVAL, and the older X-PUBLISHED-TTL that Outlook and Apple read.
    cal.add("refresh-interval", REFRESH, parameters={"VALUE": "DURATION"})
    cal.add("x-published-ttl", vDuration(REFRESH))  # an X- property: its type is not known, so say it
    if versions:
        first = min(v.start for v in versions).date() - ZONE_MARGIN
        last = max(v.start for v in versions).date() + ZONE_MARGIN
        # UTC times are written with Z and need no VTIMEZONE.
        for zone in sorted({_zone_named(v.timezone) for v in versions} - {zoneinfo.ZoneInfo("UTC")}, key=str):
            cal.add_component(Timezone.from_tzinfo(zone, first_date=first, last_date=last))
    head, end = cal.to_ical().rsplit(b"END:VCALENDAR", 1)
    return b"".join([head, *_events_bytes(versions, viewer, load), b"END:VCALENDAR", end])


def event_calendar(appointment: Appointment, *, viewer: User) -> bytes:
    """One appointment as a calendar file (METHOD:PUBLISH: to import, not a meeting request)."""
    return _calendar([event_of(appointment, viewer=viewer)], method="PUBLISH").to_ical()


def _address(email: str, name: str, **parameters: str) -> vCalAddress:
    address = vCalAddress(f"mailto:{email}")
    address.params["CN"] = vText(name)
    for key, value in parameters.items():
        address.params[key] = vText(value)
    return address


def invitation_method(appointment: Appointment) -> str:
    return "CANCEL" if is_ended(appointment) else "REQUEST"


def invitation_calendar(appointment: Appointment, *, recipient: User) -> bytes:
    """An iTIP message (RFC 5546) for `recipient`: REQUEST to add or update the event, CANCEL to remove it.

    The organizer is the doctor, at our sending address (replies to a doctor's own mailbox would leak
    that address, and nobody reads REPLYs at no-reply); the attendee is the recipient, already accepted:
    the appointment exists whatever the mail client answers. A cancellation's SEQUENCE was raised by
    the change, so it outranks every REQUEST sent before it.
    """
    method = invitation_method(appointment)
    event = event_of(appointment, viewer=recipient)
    _, organizer_email = parseaddr(settings.DEFAULT_FROM_EMAIL)
    event.add("organizer", _address(organizer_email or "no-reply@cybermed.local", _name(appointment.doctor)))
    event.add(
        "attendee",
        _address(recipient.email, _name(recipient), ROLE="REQ-PARTICIPANT", PARTSTAT="ACCEPTED", RSVP="FALSE"),
    )
    return _calendar([event], method=method).to_ical()
