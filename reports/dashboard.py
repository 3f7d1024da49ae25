"""What each role sees first: small reads, a fixed number of queries each."""

import datetime as dt
from zoneinfo import ZoneInfo

from django.utils import timezone

from appointments.choices import ACTIVE_STATUSES, Status
from appointments.models import Appointment
from reports import selectors
from reports.selectors import Period, Scope
from users.models import User

UTC = dt.UTC


def _name(user: User) -> str:
    return user.get_full_name() or user.email


def patient_dashboard(*, user: User, now: dt.datetime | None = None) -> dict:
    """Next appointment, how many are to come, unread notifications and unread messages."""
    # Lazily: notifications and messaging sit beside reports, and the dashboard is their only reader here.
    from messaging.selectors import unread_total
    from notifications.selectors import notification_unread_count

    now = now or timezone.now()
    upcoming = Appointment.objects.filter(patient=user, status__in=ACTIVE_STATUSES, start__gt=now)
    following = upcoming.select_related("doctor__doctor_profile").order_by("start", "id").first()
    return {
        "role": "patient",
        "next_appointment": (
            {
                "id": following.pk,
                "start": following.start.astimezone(following.doctor.doctor_profile.zone),
                "end": following.end.astimezone(following.doctor.doctor_profile.zone),
                "status": following.status,
                "doctor": following.doctor_id,
                "doctor_name": _name(following.doctor),
            }
            if following
            else None
        ),
        "upcoming_count": upcoming.count(),
        "unread_notifications": notification_unread_count(user=user),
        "unread_messages": unread_total(user=user),
    }


def doctor_dashboard(*, user: User, now: dt.datetime | None = None) -> dict:
    """Today's schedule in the doctor's zone, pending requests, and this local week's utilisation."""
    now = now or timezone.now()
    profile = user.doctor_profile
    zone = profile.zone
    today = now.astimezone(zone).date()
    day = Period(today, today, zone)
    schedule = (
        Appointment.objects.filter(doctor=user, start__gte=day.start, start__lt=day.end)
        .exclude(status=Status.CANCELLED)
        .select_related("patient")
        .order_by("start", "id")
    )
    monday = today - dt.timedelta(days=today.weekday())
    week = selectors.summary(scope=Scope(doctor_id=user.pk), period=Period(monday, monday + dt.timedelta(days=6), zone))
    return {
        "role": "doctor",
        "timezone": profile.timezone,
        "today": today,
        "schedule": [
            {
                "id": appt.pk,
                "start": appt.start.astimezone(zone),
                "end": appt.end.astimezone(zone),
                "status": appt.status,
                "patient": appt.patient_id,
                "patient_name": _name(appt.patient),
            }
            for appt in schedule
        ],
        "pending_requests": Appointment.objects.filter(doctor=user, status=Status.PENDING, start__gt=now).count(),
        "week_utilisation": week["utilisation"],
    }


def staff_dashboard(*, now: dt.datetime | None = None) -> dict:
    """Today's (UTC) figures for the whole clinic."""
    today = (now or timezone.now()).astimezone(UTC).date()
    figures = selectors.summary(scope=Scope(), period=Period(today, today, ZoneInfo("UTC")))
    return {"role": "staff", "today": today, **figures}
