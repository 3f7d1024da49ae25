"""Reads for scheduling, always scoped to the caller."""

import datetime as dt

from django.db.models import OuterRef, Q, QuerySet, Subquery
from django.utils import timezone

from appointments import availability
from appointments.availability import Interval, WeeklyRule
from appointments.extensions import payment_related
from appointments.models import ACTIVE_Q, Appointment, AppointmentNote, AvailabilityRule, StatusChange, TimeOff
from users.choices import Role
from users.models import DoctorProfile, User

# What the appointment representation reads from related rows. Loading only these (not every column of
# both users, password hash and bio included, nor the linked appointments) halves the list's Python time.
_APPOINTMENT_RELATED_COLUMNS = (
    "doctor__first_name",
    "doctor__last_name",
    "doctor__doctor_profile__specialty__name",
    "patient__first_name",
    "patient__last_name",
)


_base: QuerySet[Appointment] | None = None


def appointment_base() -> QuerySet[Appointment]:
    """Appointments with what their representation reads. Built once per process and cloned per call:
    resolving its joins, columns and subquery cost a list request about 3 % of its server time (issue 19).
    Built on first use, after the apps are ready (payments registers its columns in its AppConfig)."""
    global _base
    if _base is None:
        own_columns = [field.name for field in Appointment._meta.concrete_fields]
        referred_to = Appointment.objects.filter(referred_from=OuterRef("pk")).values("pk")[:1]
        _base = (
            Appointment.objects.select_related("doctor__doctor_profile__specialty", "patient", *payment_related())
            .only(*own_columns, *_APPOINTMENT_RELATED_COLUMNS, *payment_related())
            # A subquery, not a join: the page's count() then drops it and stays an index-only scan.
            .annotate(referred_to_pk=Subquery(referred_to))
        )
    return _base.all()


def _taking_part(qs: QuerySet[Appointment], user: User) -> QuerySet[Appointment]:
    # Doctors are only ever booked as doctors and patients as patients, so one column decides. Filtering
    # on it (not `doctor OR patient`) lets the (doctor, start) / (patient, start) indexes serve the page
    # in order: with the OR, PostgreSQL walked the whole table by start (225 ms vs 0.1 ms at 1M rows).
    if user.role == Role.DOCTOR:
        return qs.filter(doctor=user)
    if user.role == Role.PATIENT:
        return qs.filter(patient=user)
    return qs.filter(Q(doctor=user) | Q(patient=user))


def appointment_list_visible(*, user: User, base: QuerySet[Appointment] | None = None) -> QuerySet[Appointment]:
    """What the caller may read: staff everything, doctors and patients their own.

    Of `base` when given (a `.values()` query of appointment_base() built once: the list's rows), else of
    appointment_base()."""
    qs = appointment_base() if base is None else base.all()  # a clone: never evaluate a shared query
    if user.is_staff:
        return qs
    return _taking_part(qs, user)


def appointment_list_participating(*, user: User) -> QuerySet[Appointment]:
    """Only the appointments the caller takes part in (staff see none here): e.g. their calendar."""
    return _taking_part(appointment_base(), user)


def appointment_history(*, appointment: Appointment) -> QuerySet[StatusChange]:
    return StatusChange.objects.filter(appointment=appointment).order_by("at", "id")


def appointment_notes(*, appointment: Appointment) -> QuerySet[AppointmentNote]:
    return AppointmentNote.objects.filter(appointment=appointment).order_by("created_at", "id")


def availability_rules_of(*, doctor: User) -> QuerySet[AvailabilityRule]:
    return AvailabilityRule.objects.filter(doctor=doctor).order_by("weekday", "start_time", "id")


def time_off_of(*, doctor: User) -> QuerySet[TimeOff]:
    return TimeOff.objects.filter(doctor=doctor).order_by("start", "id")


def weekly_rules(*, doctor_id: int) -> list[WeeklyRule]:
    return [
        WeeklyRule(weekday, start, end)
        for weekday, start, end in AvailabilityRule.objects.filter(doctor_id=doctor_id).values_list(
            "weekday", "start_time", "end_time"
        )
    ]


def doctor_busy(
    *, doctor_id: int, start: dt.datetime, end: dt.datetime, exclude_appointment_id: int | None = None
) -> list[Interval]:
    """Time off and active appointments of the doctor that overlap [start, end)."""
    time_off = TimeOff.objects.filter(doctor_id=doctor_id, start__lt=end, end__gt=start).values_list("start", "end")
    appointments = Appointment.objects.filter(ACTIVE_Q, doctor_id=doctor_id, start__lt=end, end__gt=start)
    if exclude_appointment_id is not None:
        appointments = appointments.exclude(pk=exclude_appointment_id)
    return list(time_off) + list(appointments.values_list("start", "end"))


def time_off_overlapping(*, doctor_id: int, start: dt.datetime, end: dt.datetime) -> bool:
    return TimeOff.objects.filter(doctor_id=doctor_id, start__lt=end, end__gt=start).exists()


def appointments_overlapping(
    *,
    start: dt.datetime,
    end: dt.datetime,
    doctor_id: int | None = None,
    patient_id: int | None = None,
    exclude_appointment_id: int | None = None,
) -> QuerySet[Appointment]:
    qs = Appointment.objects.filter(ACTIVE_Q, start__lt=end, end__gt=start)
    if doctor_id is not None:
        qs = qs.filter(doctor_id=doctor_id)
    if patient_id is not None:
        qs = qs.filter(patient_id=patient_id)
    if exclude_appointment_id is not None:
        qs = qs.exclude(pk=exclude_appointment_id)
    return qs


def doctor_free_slots(
    *, profile: DoctorProfile, first: dt.date, last: dt.date, now: dt.datetime | None = None
) -> list[Interval]:
    """Bookable slots of a doctor on their local dates first..last: three queries whatever the range."""
    now = now or timezone.now()
    zone = profile.zone
    grid = availability.grid_slots(weekly_rules(doctor_id=profile.user_id), zone, profile.slot_minutes, first, last)
    if not grid:
        return []
    busy = doctor_busy(doctor_id=profile.user_id, start=grid[0][0], end=grid[-1][1])
    return availability.bookable_slots(grid, busy, now)


def patient_list_for(*, user: User) -> QuerySet[User]:
    """Patients `user` may see: all of them for staff, only their own patients for a doctor, else none.

    A doctor's patients are the users with at least one appointment (any status) with that doctor.
    """
    patients = User.objects.filter(role=Role.PATIENT).select_related("patient_profile")
    if user.is_staff:
        return patients
    if user.role == Role.DOCTOR:
        return patients.filter(pk__in=Appointment.objects.filter(doctor=user).values("patient_id"))
    return patients.none()


def doctor_schedule(
    *, profile: DoctorProfile, first: dt.date, last: dt.date, now: dt.datetime | None = None
) -> tuple[list[Appointment], list[Interval]]:
    """Every appointment (any status) and the free slots of a doctor on their local dates first..last.

    Three queries whatever the range and however busy the doctor (the front desk's schedule page): the
    free slots are worked out from the same rows, the same way as doctor_free_slots.
    """
    now = now or timezone.now()
    zone = profile.zone
    start = dt.datetime.combine(first, dt.time.min, tzinfo=zone)
    end = dt.datetime.combine(last + dt.timedelta(days=1), dt.time.min, tzinfo=zone)
    appointments = list(
        Appointment.objects.filter(doctor_id=profile.user_id, start__lt=end, end__gt=start)
        .select_related("patient")
        .order_by("start", "id")
    )
    grid = availability.grid_slots(weekly_rules(doctor_id=profile.user_id), zone, profile.slot_minutes, first, last)
    if not grid:
        return appointments, []
    # Weekly rules never cross midnight, so every grid slot lies inside [start, end).
    time_off = TimeOff.objects.filter(doctor_id=profile.user_id, start__lt=grid[-1][1], end__gt=grid[0][0])
    busy = list(time_off.values_list("start", "end")) + [(a.start, a.end) for a in appointments if a.is_active]
    return appointments, availability.bookable_slots(grid, busy, now)
