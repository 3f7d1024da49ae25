"""Scheduling demo data for `manage.py seed_demo` (called from users.demo)."""

import datetime as dt

from django.db import transaction
from django.utils import timezone

from appointments import selectors
from appointments.choices import Status
from appointments.models import Appointment, AvailabilityRule, StatusChange
from users.models import DoctorProfile, User

DEMO_PREFIX = "Demo: "
WEEKDAY_HOURS = ((dt.time(9), dt.time(12)), (dt.time(13), dt.time(17)))
# (status, days from today, path of statuses after creation); past ones end completed or no-show.
DEMO_APPOINTMENTS = (
    (Status.PENDING, 3, ()),
    (Status.CONFIRMED, 4, (Status.CONFIRMED,)),
    (Status.CANCELLED, 5, (Status.CANCELLED,)),
    (Status.REFERRED, 6, (Status.REFERRED,)),
    (Status.COMPLETED, -3, (Status.CONFIRMED, Status.COMPLETED)),
    (Status.NO_SHOW, -4, (Status.CONFIRMED, Status.NO_SHOW)),
)


def _weekday_on_or_after(day: dt.date, forward: bool) -> dt.date:
    step = dt.timedelta(days=1 if forward else -1)
    while day.weekday() >= 5:
        day += step
    return day


@transaction.atomic
def seed_scheduling(*, doctors: list[User], patients: list[User]) -> None:
    """Create weekly availability for each doctor and a few appointments in every status; idempotent."""
    if not patients:
        return
    profiles = {p.user_id: p for p in DoctorProfile.objects.filter(user__in=doctors)}
    for index, doctor in enumerate(doctors):
        profile = profiles.get(doctor.pk)
        if profile is None:
            continue
        if not AvailabilityRule.objects.filter(doctor=doctor).exists():
            AvailabilityRule.objects.bulk_create(
                AvailabilityRule(doctor=doctor, weekday=day, start_time=start, end_time=end)
                for day in range(5)
                for start, end in WEEKDAY_HOURS
            )
        if Appointment.objects.filter(doctor=doctor, reason_for_visit__startswith=DEMO_PREFIX).exists():
            continue
        _seed_appointments(doctor, profile, patients, index)


def _seed_appointments(doctor: User, profile: DoctorProfile, patients: list[User], index: int) -> None:
    zone = profile.zone
    today = timezone.now().astimezone(zone).date()
    length = dt.timedelta(minutes=profile.slot_minutes)
    for number, (final, days, path) in enumerate(DEMO_APPOINTMENTS):
        day = _weekday_on_or_after(today + dt.timedelta(days=days + 7 * (index // 4)), forward=days > 0)
        # Different doctors use different hours so that a patient shared between them is never double-booked.
        start = dt.datetime.combine(day, dt.time(9), tzinfo=zone) + length * (index % 4)
        patient = patients[(index + number) % len(patients)]
        overlapping = selectors.appointments_overlapping(start=start, end=start + length)
        if overlapping.filter(doctor=doctor).exists() or overlapping.filter(patient=patient).exists():
            continue
        appointment = Appointment.objects.create(
            doctor=doctor,
            patient=patient,
            start=start,
            end=start + length,
            reason_for_visit=f"{DEMO_PREFIX}{final.label.lower()} visit",
            status=final,
            location=profile.clinic_address if final != Status.PENDING else "",
            cancellation_reason="Patient unavailable" if final == Status.CANCELLED else "",
            created_by=patient,
        )
        StatusChange.objects.create(appointment=appointment, from_status="", to_status=Status.PENDING, by=patient)
        previous = Status.PENDING
        for status in path:
            StatusChange.objects.create(appointment=appointment, from_status=previous, to_status=status, by=doctor)
            previous = status
