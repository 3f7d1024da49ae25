"""Scheduling demo data for `manage.py seed_demo`, for the demo accounts users.demo creates."""

import datetime as dt

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from appointments import availability, selectors
from appointments.availability import Interval
from appointments.choices import Status
from appointments.models import Appointment, AvailabilityRule, StatusChange
from cybermed.exceptions import SlotUnavailable
from users import demo as users_demo
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
# How far around today the seed looks for free slots: wide enough for doctors whose own rules are sparse.
SEARCH_DAYS = 42


def seed(*, doctors: list[User] | None = None, patients: list[User] | None = None) -> None:
    """Seed scheduling for `doctors` and `patients`, by default the demo accounts that exist; idempotent."""
    seed_scheduling(
        doctors=users_demo.demo_doctors() if doctors is None else doctors,
        patients=users_demo.demo_patients() if patients is None else patients,
    )


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
    now = timezone.now()
    today = now.astimezone(zone).date()
    first, last = today - dt.timedelta(days=SEARCH_DAYS), today + dt.timedelta(days=SEARCH_DAYS)
    # Upcoming visits go on slots the API would offer (on the grid, in the future, clear of time off and
    # active bookings); past ones on grid slots that have already ended and were not time off.
    upcoming = selectors.doctor_free_slots(profile=profile, first=today, last=last, now=now)
    rules = selectors.weekly_rules(doctor_id=doctor.pk)
    grid = availability.grid_slots(rules, zone, profile.slot_minutes, first, today)
    away = availability.merge(selectors.time_off_of(doctor=doctor).values_list("start", "end"))
    past = [slot for slot in grid if slot[1] <= now and not availability.overlaps_any(slot, away)]
    length = dt.timedelta(minutes=profile.slot_minutes)
    for number, (final, days, path) in enumerate(DEMO_APPOINTMENTS):
        patient = patients[(index + number) % len(patients)]
        # Different doctors prefer different days and hours so that the demo spreads out; the slot actually
        # taken is the free one nearest to that wish, whatever weekday or time of day the seed runs.
        day = today + dt.timedelta(days=days + 7 * (index // 4))
        wish = dt.datetime.combine(day, dt.time(9), tzinfo=zone) + length * (index % 4)
        start, end = _nearest_free(upcoming if days > 0 else past, wish, doctor=doctor, patient=patient)
        appointment = Appointment.objects.create(
            doctor=doctor,
            patient=patient,
            start=start,
            end=end,
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


def _nearest_free(candidates: list[Interval], wish: dt.datetime, *, doctor: User, patient: User) -> Interval:
    """The candidate slot nearest to `wish` that overlaps no appointment (of any status) of either person."""
    if candidates:
        taken = Appointment.objects.filter(
            Q(doctor=doctor) | Q(patient=patient), start__lt=candidates[-1][1], end__gt=candidates[0][0]
        ).values_list("start", "end")
        busy = availability.merge(taken)
        for slot in sorted(candidates, key=lambda s: (abs(s[0] - wish), s[0])):
            if not availability.overlaps_any(slot, busy):
                return slot
    raise SlotUnavailable(f"No free demo slot for {doctor.email} and {patient.email} near {wish:%Y-%m-%d %H:%M}.")
