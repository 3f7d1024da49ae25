"""Every write to scheduling data. Each service owns its transaction and raises domain errors.

Double booking is prevented three times over: the checks below (clear 409s), row locks on the
doctor and patient users taken in pk order for the whole check-and-write (so concurrent bookings of
the same people run one after another), and database constraints (unique starts everywhere, plus
range exclusion constraints on PostgreSQL) whose violations map to the same 409.
"""

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from appointments import availability, selectors
from appointments.choices import ACTIVE_STATUSES, Status
from appointments.events import AppointmentChange
from appointments.events import AppointmentEventKind as Event
from appointments.models import ACTIVE_Q, Appointment, AppointmentNote, AvailabilityRule, StatusChange, TimeOff
from appointments.signals import appointment_changed
from cybermed.exceptions import BookingLimit, InvalidTransition, NoticeRequired, SlotUnavailable
from users.choices import Role
from users.models import DoctorProfile, User
from users.selectors import doctor_list_visible

STAFF = "staff"
# Changes nobody made by hand (`by=None`): an unpaid hold released when it expires, a paid one confirmed.
# Never a caller's role.
SYSTEM = "system"


@dataclass(frozen=True)
class Move:
    """One allowed status move: the event it announces and who may make it."""

    event: Event
    roles: frozenset[str]
    # True: only once the appointment has started; False: only before it starts; None: any time.
    after_start: bool | None = None


def _roles(*names: str) -> frozenset[str]:
    return frozenset(names)


# The one table of allowed moves, and so the one matrix of who may do what to an appointment: the API's
# permissions are derived from it (roles_allowed). Creation is the move from "" (a patient's booking is
# pending, the doctor's or the front desk's confirmed). Reschedules are moves too (to the same status, or
# back to pending when the patient moves a confirmed appointment) so that they are checked and recorded
# the same way. Staff act for the clinic (book, confirm, cancel, reschedule, no-show); clinical acts
# (complete, refer) stay with the doctor.
CREATION = ""
TRANSITIONS: dict[tuple[str, str], Move] = {
    (CREATION, Status.PENDING): Move(Event.CREATED, _roles(Role.PATIENT)),
    (CREATION, Status.CONFIRMED): Move(Event.CREATED, _roles(Role.DOCTOR, STAFF)),
    (Status.PENDING, Status.CONFIRMED): Move(Event.CONFIRMED, _roles(Role.DOCTOR, STAFF, SYSTEM), after_start=False),
    (Status.PENDING, Status.CANCELLED): Move(Event.CANCELLED, _roles(Role.PATIENT, Role.DOCTOR, STAFF, SYSTEM)),
    (Status.CONFIRMED, Status.CANCELLED): Move(Event.CANCELLED, _roles(Role.PATIENT, Role.DOCTOR, STAFF)),
    (Status.CONFIRMED, Status.COMPLETED): Move(Event.COMPLETED, _roles(Role.DOCTOR), after_start=True),
    (Status.CONFIRMED, Status.NO_SHOW): Move(Event.NO_SHOW, _roles(Role.DOCTOR, STAFF), after_start=True),
    (Status.PENDING, Status.REFERRED): Move(Event.REFERRED, _roles(Role.DOCTOR)),
    (Status.CONFIRMED, Status.REFERRED): Move(Event.REFERRED, _roles(Role.DOCTOR)),
    (Status.PENDING, Status.PENDING): Move(Event.RESCHEDULED, _roles(Role.PATIENT, Role.DOCTOR, STAFF)),
    (Status.CONFIRMED, Status.PENDING): Move(Event.RESCHEDULED, _roles(Role.PATIENT)),
    (Status.CONFIRMED, Status.CONFIRMED): Move(Event.RESCHEDULED, _roles(Role.DOCTOR, STAFF)),
}


def roles_allowed(event: Event) -> frozenset[str]:
    """Every role a caller may hold that makes some move announcing `event` (the system is no caller)."""
    return frozenset().union(*(move.roles for move in TRANSITIONS.values() if move.event == event)) - {SYSTEM}


def roles_of(user: User) -> frozenset[str]:
    """The roles `user` can ever act in: their own (patient or doctor), and staff when they are staff."""
    roles = {user.role} if user.role in (Role.PATIENT, Role.DOCTOR) else set()
    if user.is_staff:
        roles.add(STAFF)
    return frozenset(roles)


def role_in(appointment: Appointment, user: User | None) -> str | None:
    if user is None:
        return SYSTEM
    if user.pk == appointment.doctor_id:
        return Role.DOCTOR
    if user.pk == appointment.patient_id:
        return Role.PATIENT
    if user.is_staff:
        return STAFF
    return None


# The doctor's notice window that applies to a patient's move announcing each event.
NOTICE_FIELDS = {Event.CANCELLED: "cancellation_notice_hours", Event.RESCHEDULED: "reschedule_notice_hours"}


def _check_notice(appointment: Appointment, event: Event, now: dt.datetime) -> None:
    """A patient cancels or reschedules only with at least the doctor's notice (doctors and staff always may)."""
    field = NOTICE_FIELDS.get(event)
    if field is None:
        return
    hours = DoctorProfile.objects.filter(pk=appointment.doctor_id).values_list(field, flat=True).first() or 0
    if appointment.start - now < dt.timedelta(hours=hours):
        action = "cancel" if event == Event.CANCELLED else "reschedule"
        raise NoticeRequired(
            f"Patients can {action} this appointment only {hours} hours or more before it starts; "
            "please contact the clinic."
        )


def notice_given(*, appointment: Appointment, now: dt.datetime | None = None) -> bool:
    """Whether cancelling now gives at least the doctor's cancellation notice (refund policies read this)."""
    try:
        _check_notice(appointment, Event.CANCELLED, now or timezone.now())
    except NoticeRequired:
        return False
    return True


def _check_move(
    appointment: Appointment, to: str, by: User | None, now: dt.datetime, event: Event | None = None
) -> Move:
    """The move from the appointment's status to `to`, if `by` may make it now; `event` must match when given.

    Reschedule moves (event RESCHEDULED) are only made by appointment_reschedule, which changes the time.
    `by=None` is the system (expired payment holds).
    """
    role = role_in(appointment, by)
    if role is None:
        raise PermissionDenied("You do not take part in this appointment.")
    move = TRANSITIONS.get((appointment.status, to))
    if move is not None and (move.event != event if event else move.event == Event.RESCHEDULED):
        move = None
    if move is None:
        raise InvalidTransition(f"An appointment cannot go from {appointment.status} to {to}.")
    if role not in move.roles:
        raise PermissionDenied(f"A {role} cannot make this change.")
    if move.after_start is True and appointment.start > now:
        raise InvalidTransition("This can only be done once the appointment has started.")
    if move.after_start is False and appointment.start <= now:
        raise InvalidTransition("This appointment has already started.")
    if role == Role.PATIENT:
        _check_notice(appointment, move.event, now)
    return move


def _lock_users(*user_ids: int) -> None:
    """Serialize bookings touching the same people; pk order so that two bookings never deadlock.

    FOR NO KEY UPDATE, not FOR UPDATE: the lock only has to exclude other bookers. A plain FOR UPDATE also
    blocks the KEY SHARE locks that PostgreSQL's (deferred) foreign-key checks take at COMMIT, so a
    transaction that inserts rows pointing at these users without this lock (the notifications written after
    a change commits) and a booking deadlocked (seen in the payments capture/expiry race test)."""
    list(
        User.objects.filter(pk__in=set(user_ids))
        .order_by("pk")
        .select_for_update(no_key=True)
        .values_list("pk", flat=True)
    )


def appointment_lock(*, appointment_id: int) -> Appointment:
    """Lock the appointment's doctor and patient, then the appointment: the order every service here takes.

    For the apps above (payments) that change an appointment together with rows of their own: taking the
    same order first means they never deadlock with a booking, a confirmation or a reschedule. Call it
    inside a transaction."""
    people = Appointment.objects.filter(pk=appointment_id).values_list("doctor_id", "patient_id").get()
    _lock_users(*people)
    return Appointment.objects.select_for_update(no_key=True).get(pk=appointment_id)


def _lock_appointment(appointment: Appointment) -> Appointment:
    return Appointment.objects.select_for_update(no_key=True).get(pk=appointment.pk)


def _bookable_profile(doctor_id: int) -> DoctorProfile:
    profile = DoctorProfile.objects.filter(user__in=doctor_list_visible().filter(pk=doctor_id).values("pk")).first()
    if profile is None:
        raise SlotUnavailable("That doctor is not open for booking.")
    return profile


def check_slot(
    *,
    profile: DoctorProfile,
    patient_id: int,
    start: dt.datetime,
    end: dt.datetime | None = None,
    exclude_appointment_id: int | None = None,
    now: dt.datetime | None = None,
) -> dt.datetime:
    """Raise SlotUnavailable unless [start, end) can be booked; return the end.

    Without `end` the appointment is one slot long and `start` must be a bookable slot. With `end`
    (doctor-created appointments) `start` must be on the grid and the whole interval inside the
    availability windows. Either way it must be in the future and overlap no time off and no active
    appointment of the doctor or the patient.
    """
    now = now or timezone.now()
    if start <= now:
        raise SlotUnavailable("That time is in the past.")
    zone = profile.zone
    day = start.astimezone(zone).date()
    first, last = day - dt.timedelta(days=1), day + dt.timedelta(days=1)
    rules = selectors.weekly_rules(doctor_id=profile.user_id)
    grid = availability.grid_slots(rules, zone, profile.slot_minutes, first, last)
    slot = next((s for s in grid if s[0] == start), None)
    if slot is None:
        raise SlotUnavailable("That time is not one of the doctor's slots (outside availability or off the grid).")
    if end is None:
        end = slot[1]
    elif not availability.covered_by((start, end), availability.rule_windows(rules, zone, first, last)):
        raise SlotUnavailable("That appointment does not fit inside the doctor's availability.")
    if selectors.time_off_overlapping(doctor_id=profile.user_id, start=start, end=end):
        raise SlotUnavailable("The doctor is away at that time.")
    if selectors.appointments_overlapping(
        start=start, end=end, doctor_id=profile.user_id, exclude_appointment_id=exclude_appointment_id
    ).exists():
        raise SlotUnavailable("The doctor is already booked at that time.")
    if selectors.appointments_overlapping(
        start=start, end=end, patient_id=patient_id, exclude_appointment_id=exclude_appointment_id
    ).exists():
        raise SlotUnavailable("The patient already has an appointment at that time.")
    return end


def _announce(change: AppointmentChange) -> None:
    appointment_changed.send(sender=Appointment, change=change)


def _create(
    *,
    profile: DoctorProfile,
    patient: User,
    start: dt.datetime,
    end: dt.datetime | None,
    by: User,
    status: str,
    reason_for_visit: str,
    referred_from: Appointment | None = None,
) -> Appointment:
    end = check_slot(profile=profile, patient_id=patient.pk, start=start, end=end)
    appointment = Appointment.objects.create(
        doctor_id=profile.user_id,
        patient=patient,
        start=start,
        end=end,
        reason_for_visit=reason_for_visit,
        status=status,
        created_by=by,
        referred_from=referred_from,
    )
    StatusChange.objects.create(appointment=appointment, from_status="", to_status=status, by=by)
    return appointment


@transaction.atomic
def appointment_book(
    *,
    doctor: User,
    patient: User,
    start: dt.datetime,
    by: User,
    reason_for_visit: str = "",
    end: dt.datetime | None = None,
) -> Appointment:
    """Book `patient` with `doctor`: pending when the patient books, confirmed when the doctor or staff do.

    MAX_ACTIVE_APPOINTMENTS_PER_PATIENT (`booking_limit`) limits only patients booking for themselves,
    so that nobody can hoard slots; a doctor scheduling for a patient (a course of 12 sessions) or the
    front desk booking at the counter is not limited. The patient's count is of every active future
    appointment they hold, whoever made it, so doctor-made appointments use up the patient's own places too.
    """
    if by.pk == patient.pk and by.role == Role.PATIENT:
        role, status = Role.PATIENT, Status.PENDING
        end = None  # a patient always books exactly one slot
    elif by.pk == doctor.pk and by.role == Role.DOCTOR:
        role, status = Role.DOCTOR, Status.CONFIRMED
    elif by.is_staff:
        role, status = STAFF, Status.CONFIRMED
    else:
        raise PermissionDenied("Only the patient, the doctor or clinic staff can book this appointment.")
    if role not in TRANSITIONS[(CREATION, status)].roles:
        raise PermissionDenied(f"A {role} cannot book this appointment.")
    self_booking = role == Role.PATIENT
    if doctor.pk == patient.pk or patient.role != Role.PATIENT:
        raise ValidationError({"patient": ["That user is not a patient."]})
    if end is not None and end <= start:
        raise ValidationError({"end": ["The end must be after the start."]})
    _lock_users(doctor.pk, patient.pk)
    profile = _bookable_profile(doctor.pk)
    limit = settings.MAX_ACTIVE_APPOINTMENTS_PER_PATIENT
    held = Appointment.objects.filter(ACTIVE_Q, patient=patient, start__gt=timezone.now())
    if self_booking and held.count() >= limit:
        raise BookingLimit(f"You already hold {limit} active upcoming appointments.")
    appointment = _create(
        profile=profile,
        patient=patient,
        start=start,
        end=end,
        by=by,
        status=status,
        reason_for_visit=reason_for_visit,
    )
    _announce(AppointmentChange.of(Event.CREATED, appointment, actor=by))
    return appointment


@transaction.atomic
def appointment_transition(
    *,
    appointment: Appointment,
    to: str,
    by: User | None,
    reason: str = "",
    event: Event | None = None,
    changes: dict[str, Any] | None = None,
    then: Callable[[Appointment], Appointment] | None = None,
) -> Appointment:
    """Move an appointment to `to`, apply `changes`, record the move, and announce it once.

    `then` runs after the move is saved and before the announcement, and returns the referral (the
    one place a move creates another appointment).
    """
    appt = _lock_appointment(appointment)
    move = _check_move(appt, to, by, timezone.now(), event)
    previous_status, previous_start, previous_end = appt.status, appt.start, appt.end
    appt.status = to
    for field, value in (changes or {}).items():
        setattr(appt, field, value)
    # Every change of time or status passes here, so subscribed calendars always see a higher SEQUENCE.
    if (appt.status, appt.start, appt.end) != (previous_status, previous_start, previous_end):
        appt.sequence += 1
    appt.save(update_fields=["status", "sequence", "updated_at", *(changes or {})])
    StatusChange.objects.create(appointment=appt, from_status=previous_status, to_status=to, by=by, reason=reason)
    referral = then(appt) if then else None
    _announce(
        AppointmentChange.of(
            move.event,
            appt,
            actor=by,
            previous_status=previous_status,
            previous_start=previous_start,
            previous_end=previous_end,
            referral=referral,
        )
    )
    return appt


@transaction.atomic
def appointment_confirm(*, appointment: Appointment, by: User | None, location: str | None = None) -> Appointment:
    _lock_users(appointment.doctor_id, appointment.patient_id)
    appt = _lock_appointment(appointment)
    _check_move(appt, Status.CONFIRMED, by, timezone.now(), Event.CONFIRMED)
    overlapping = selectors.appointments_overlapping(start=appt.start, end=appt.end, exclude_appointment_id=appt.pk)
    if overlapping.filter(doctor_id=appt.doctor_id).exists() or overlapping.filter(patient_id=appt.patient_id).exists():
        raise SlotUnavailable("Another active appointment overlaps this one.")
    if not location:
        location = DoctorProfile.objects.filter(pk=appt.doctor_id).values_list("clinic_address", flat=True).first()
    return appointment_transition(appointment=appt, to=Status.CONFIRMED, by=by, changes={"location": location or ""})


def appointment_cancel(*, appointment: Appointment, by: User | None, reason: str = "") -> Appointment:
    return appointment_transition(
        appointment=appointment, to=Status.CANCELLED, by=by, reason=reason, changes={"cancellation_reason": reason}
    )


def appointment_complete(*, appointment: Appointment, by: User) -> Appointment:
    return appointment_transition(appointment=appointment, to=Status.COMPLETED, by=by)


def appointment_no_show(*, appointment: Appointment, by: User) -> Appointment:
    return appointment_transition(appointment=appointment, to=Status.NO_SHOW, by=by)


@transaction.atomic
def appointment_reschedule(*, appointment: Appointment, by: User, start: dt.datetime) -> Appointment:
    """Move an active appointment to another bookable time; the patient's move needs a new confirmation."""
    _lock_users(appointment.doctor_id, appointment.patient_id)
    appt = _lock_appointment(appointment)
    to = Status.PENDING if role_in(appt, by) == Role.PATIENT else appt.status
    _check_move(appt, to, by, timezone.now(), Event.RESCHEDULED)
    profile = DoctorProfile.objects.filter(pk=appt.doctor_id).first()
    if profile is None:  # pragma: no cover - doctors with appointments always have a profile
        raise SlotUnavailable("That doctor is not open for booking.")
    # A doctor-made appointment may be longer than one slot; it keeps its length.
    length = appt.end - appt.start
    custom_end = start + length if length != dt.timedelta(minutes=profile.slot_minutes) else None
    end = check_slot(
        profile=profile, patient_id=appt.patient_id, start=start, end=custom_end, exclude_appointment_id=appt.pk
    )
    return appointment_transition(
        appointment=appt,
        to=to,
        by=by,
        reason=f"Rescheduled from {appt.start.isoformat()}",
        event=Event.RESCHEDULED,
        changes={"start": start, "end": end},
    )


@transaction.atomic
def appointment_refer(
    *, appointment: Appointment, by: User, doctor: User, start: dt.datetime | None = None, reason: str = ""
) -> Appointment:
    """Hand the patient over to another doctor of the same specialty; return the new pending appointment."""
    _lock_users(appointment.doctor_id, appointment.patient_id, doctor.pk)
    appt = _lock_appointment(appointment)
    _check_move(appt, Status.REFERRED, by, timezone.now(), Event.REFERRED)
    if doctor.pk == appt.doctor_id:
        raise ValidationError({"doctor": ["Refer to another doctor."]})
    target = doctor_list_visible().filter(pk=doctor.pk).first()
    if target is None:
        raise ValidationError({"doctor": ["That doctor is not open for booking."]})
    own_specialty = DoctorProfile.objects.filter(pk=appt.doctor_id).values_list("specialty_id", flat=True).first()
    if own_specialty is None or target.doctor_profile.specialty_id != own_specialty:
        raise ValidationError({"doctor": ["The doctor must have the same specialty."]})
    new_start = start or appt.start

    def create_referral(original: Appointment) -> Appointment:
        # The original no longer holds its time, so the patient may keep the same hour with the new doctor.
        return _create(
            profile=target.doctor_profile,
            patient=original.patient,
            start=new_start,
            end=None,
            by=by,
            status=Status.PENDING,
            reason_for_visit=original.reason_for_visit,
            referred_from=original,
        )

    appointment_transition(appointment=appt, to=Status.REFERRED, by=by, reason=reason, then=create_referral)
    return selectors.appointment_base().get(referred_from=appt)


@transaction.atomic
def appointment_update(
    *, appointment: Appointment, by: User, reason_for_visit: str | None = None, location: str | None = None
) -> Appointment:
    """The only free-text edits: the patient's reason while pending, the doctor's location while active."""
    appt = _lock_appointment(appointment)
    role = role_in(appt, by)
    errors: dict[str, list[str]] = {}
    if reason_for_visit is not None:
        if role != Role.PATIENT:
            errors["reason_for_visit"] = ["Only the patient can change the reason for the visit."]
        elif appt.status != Status.PENDING:
            errors["reason_for_visit"] = ["The reason can only be changed while the appointment is pending."]
        else:
            appt.reason_for_visit = reason_for_visit
    if location is not None:
        if role != Role.DOCTOR:
            errors["location"] = ["Only the doctor can change the location."]
        elif appt.status not in ACTIVE_STATUSES:
            errors["location"] = ["The location can only be changed while the appointment is active."]
        else:
            appt.location = location
    if errors:
        raise ValidationError(errors)
    appt.save(update_fields=["reason_for_visit", "location", "updated_at"])
    return appt


def appointment_note_create(*, appointment: Appointment, author: User, text: str) -> AppointmentNote:
    if role_in(appointment, author) not in (Role.PATIENT, Role.DOCTOR):
        raise PermissionDenied("Only participants can write notes.")
    return AppointmentNote.objects.create(appointment=appointment, author=author, text=text)


# --- Availability and time off --------------------------------------------------------------------


def _check_rule_overlap(*, doctor: User, weekday: int, start_time: dt.time, end_time: dt.time, exclude: int | None):
    if end_time <= start_time:
        raise ValidationError({"end_time": ["The end time must be after the start time."]})
    overlapping = AvailabilityRule.objects.filter(
        doctor=doctor, weekday=weekday, start_time__lt=end_time, end_time__gt=start_time
    )
    if exclude is not None:
        overlapping = overlapping.exclude(pk=exclude)
    if overlapping.exists():
        raise ValidationError({"non_field_errors": ["This overlaps another availability rule on the same day."]})


@transaction.atomic
def availability_rule_create(*, doctor: User, weekday: int, start_time: dt.time, end_time: dt.time) -> AvailabilityRule:
    _lock_users(doctor.pk)
    _check_rule_overlap(doctor=doctor, weekday=weekday, start_time=start_time, end_time=end_time, exclude=None)
    return AvailabilityRule.objects.create(doctor=doctor, weekday=weekday, start_time=start_time, end_time=end_time)


@transaction.atomic
def availability_rule_update(*, rule: AvailabilityRule, **fields: Any) -> AvailabilityRule:
    _lock_users(rule.doctor_id)
    for name, value in fields.items():
        setattr(rule, name, value)
    _check_rule_overlap(
        doctor=rule.doctor,
        weekday=rule.weekday,
        start_time=rule.start_time,
        end_time=rule.end_time,
        exclude=rule.pk,
    )
    rule.save()
    return rule


def availability_rule_delete(*, rule: AvailabilityRule) -> None:
    rule.delete()


def _check_time_off(start: dt.datetime, end: dt.datetime) -> None:
    if end <= start:
        raise ValidationError({"end": ["The end must be after the start."]})


def time_off_create(*, doctor: User, start: dt.datetime, end: dt.datetime, reason: str = "") -> TimeOff:
    _check_time_off(start, end)
    return TimeOff.objects.create(doctor=doctor, start=start, end=end, reason=reason)


def time_off_update(*, time_off: TimeOff, **fields: Any) -> TimeOff:
    for name, value in fields.items():
        setattr(time_off, name, value)
    _check_time_off(time_off.start, time_off.end)
    time_off.save()
    return time_off


def time_off_delete(*, time_off: TimeOff) -> None:
    time_off.delete()
