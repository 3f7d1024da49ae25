"""Reads for calendars: the feed behind a token, and the appointments a calendar shows."""

import datetime as dt
import re
from dataclasses import dataclass

from django.db.models import Count, Max, Q, QuerySet, Sum
from django.utils import timezone

from appointments.choices import Status
from appointments.models import Appointment
from appointments.selectors import appointment_list_participating
from calendars.models import CalendarFeed
from calendars.services import token_hash
from users.models import User

PAST = dt.timedelta(days=30)
AHEAD = dt.timedelta(days=180)
# Cancelled (and referred) appointments stay this long after the change, so subscribed calendars remove them.
CANCELLED_KEPT = dt.timedelta(days=30)
# secrets.token_urlsafe(32): 43 URL-safe base64 characters. Anything else is no token of ours.
TOKEN_FORMAT = re.compile(r"[A-Za-z0-9_-]{43}")

# What an event shows: the two names, the doctor's clinic and zone, and the appointment's own fields.
# Not the reason for the visit, notes or anything medical.
EVENT_COLUMNS = (
    "id",
    "doctor_id",
    "patient_id",
    "start",
    "end",
    "status",
    "location",
    "sequence",
    "created_at",
    "updated_at",
    "doctor__first_name",
    "doctor__last_name",
    "doctor__email",
    "doctor__role",
    "doctor__doctor_profile__timezone",
    "doctor__doctor_profile__clinic_name",
    "doctor__doctor_profile__clinic_address",
    "patient__first_name",
    "patient__last_name",
    "patient__email",
    "patient__role",
)


def calendar_feed_of(*, user: User) -> CalendarFeed | None:
    return CalendarFeed.objects.filter(user=user, revoked_at__isnull=True).first()


def calendar_feed_by_token(*, token: str) -> CalendarFeed | None:
    """The active feed of an active user behind `token`, with the user loaded; None for anything else."""
    if not TOKEN_FORMAT.fullmatch(token):
        return None
    return (
        CalendarFeed.objects.select_related("user")
        .filter(token_hash=token_hash(token), revoked_at__isnull=True, user__is_active=True)
        .first()
    )


def _with_event_columns(qs: QuerySet[Appointment]) -> QuerySet[Appointment]:
    return qs.select_related(None).select_related("doctor__doctor_profile", "patient").only(*EVENT_COLUMNS)


def calendar_appointments(*, user: User, now: dt.datetime | None = None) -> QuerySet[Appointment]:
    """The user's appointments from 30 days ago to 180 days ahead; ended ones only for 30 days after the change."""
    now = now or timezone.now()
    shown = Q(status__in=[Status.PENDING, Status.CONFIRMED, Status.COMPLETED, Status.NO_SHOW]) | Q(
        updated_at__gte=now - CANCELLED_KEPT
    )
    return (
        appointment_list_participating(user=user)
        .filter(shown, start__gte=now - PAST, start__lte=now + AHEAD)
        .order_by("start", "id")
    )


@dataclass(frozen=True)
class CalendarVersion:
    """What a calendar's ETag and Last-Modified are made of: one aggregate query, no rows loaded."""

    count: int
    # Which rows: an appointment leaving the window as another enters it keeps the count, not the sum.
    id_sum: int
    # Every save moves updated_at (auto_now), so any change to a shown appointment moves this.
    last_modified: dt.datetime | None


def calendar_version(*, appointments: QuerySet[Appointment]) -> CalendarVersion:
    values = appointments.order_by().aggregate(count=Count("id"), ids=Sum("id"), last=Max("updated_at"))
    return CalendarVersion(count=values["count"], id_sum=values["ids"] or 0, last_modified=values["last"])


@dataclass(frozen=True)
class EventVersion:
    """One version of a calendar's event: what names its cached VEVENT, and what the VTIMEZONEs need.

    Read as plain values (one light query) so that a feed whose events are cached loads no model rows.
    """

    pk: int
    doctor_id: int
    start: dt.datetime
    updated_at: dt.datetime
    sequence: int
    timezone: str | None  # the doctor's zone


def calendar_event_versions(*, appointments: QuerySet[Appointment]) -> list[EventVersion]:
    return [
        EventVersion(*row)
        for row in appointments.values_list(
            "pk", "doctor_id", "start", "updated_at", "sequence", "doctor__doctor_profile__timezone"
        )
    ]


def calendar_events(*, appointments: QuerySet[Appointment], ids: list[int] | None = None) -> list[Appointment]:
    """The appointments as an event needs them (names, clinic, zone); only those of `ids` if given."""
    if ids is not None:
        appointments = appointments.filter(pk__in=ids)
    return list(_with_event_columns(appointments))


def calendar_appointment(*, user: User, pk: int) -> Appointment | None:
    """One appointment the user takes part in (others, staff included, get None: a 404)."""
    return _with_event_columns(appointment_list_participating(user=user).filter(pk=pk)).first()


def invitation_appointment(*, pk: int) -> Appointment | None:
    """The appointment an email's invitation describes, as it is now."""
    return _with_event_columns(Appointment.objects.filter(pk=pk)).first()
