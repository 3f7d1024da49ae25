import datetime as dt
from collections.abc import Iterator

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError

from appointments import services
from appointments.choices import Status
from appointments.events import AppointmentChange, AppointmentSnapshot
from appointments.events import AppointmentEventKind as Event
from appointments.models import Appointment, AvailabilityRule, StatusChange
from appointments.signals import appointment_changed
from appointments.tests.conftest import open_all_week
from appointments.tests.factories import AppointmentFactory, TimeOffFactory
from cybermed.exceptions import BookingLimit, InvalidTransition, SlotUnavailable
from cybermed.testing import capture_signal
from users.models import User
from users.tests.factories import DoctorFactory, DoctorProfileFactory, PatientFactory, SpecialtyFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("open_week")]


@pytest.fixture
def signals() -> Iterator[list[dict]]:
    with capture_signal(appointment_changed) as calls:
        yield calls


def changes(signals: list[dict]) -> list[AppointmentChange]:
    """The payloads sent; `change` is the one keyword argument of the signal."""
    assert all(call.keys() == {"change"} for call in signals), signals
    return [call["change"] for call in signals]


def book(patient: User, doctor: User, start: dt.datetime) -> Appointment:
    return services.appointment_book(doctor=doctor, patient=patient, start=start, by=patient, reason_for_visit="x")


# --- booking --------------------------------------------------------------------------------------


def test_patient_book_creates_pending_slot_with_history_and_one_signal(patient, doctor, slot, signals):
    appointment = book(patient, doctor, slot)
    assert (appointment.status, appointment.end) == (Status.PENDING, slot + dt.timedelta(minutes=30))
    assert list(appointment.history.values_list("from_status", "to_status", "by")) == [("", "pending", patient.pk)]
    assert changes(signals) == [
        AppointmentChange(kind=Event.CREATED, appointment=AppointmentSnapshot.of(appointment), actor_id=patient.pk)
    ]


def test_doctor_book_creates_confirmed_with_custom_end(patient, doctor, slot):
    appointment = services.appointment_book(
        doctor=doctor, patient=patient, start=slot, end=slot + dt.timedelta(minutes=75), by=doctor
    )
    assert appointment.status == Status.CONFIRMED
    assert appointment.end - appointment.start == dt.timedelta(minutes=75)


def test_doctor_book_end_outside_availability_is_unavailable(patient, doctor, slot):
    start = slot.replace(hour=17)
    with pytest.raises(SlotUnavailable):
        services.appointment_book(
            doctor=doctor, patient=patient, start=start, end=start + dt.timedelta(hours=2), by=doctor
        )


@pytest.mark.parametrize(
    "start",
    [
        pytest.param(lambda s: s - dt.timedelta(days=5), id="past"),
        pytest.param(lambda s: s + dt.timedelta(minutes=10), id="off-grid"),
        pytest.param(lambda s: s.replace(hour=20), id="outside-availability"),
    ],
)
def test_patient_book_bad_time_is_unavailable(patient, doctor, slot, start):
    with pytest.raises(SlotUnavailable):
        book(patient, doctor, start(slot))
    assert not Appointment.objects.exists()


def test_patient_book_in_time_off_is_unavailable(patient, doctor, slot):
    TimeOffFactory(doctor=doctor, start=slot + dt.timedelta(minutes=20), end=slot + dt.timedelta(hours=1))
    with pytest.raises(SlotUnavailable):
        book(patient, doctor, slot)


def test_patient_book_overlapping_own_appointment_elsewhere_is_unavailable(patient, doctor, other_doctor, slot):
    book(patient, doctor, slot)
    with pytest.raises(SlotUnavailable, match="patient"):
        book(patient, other_doctor, slot)


def test_patient_book_overlapping_doctor_long_appointment_is_unavailable(patient, other_patient, doctor, slot):
    AppointmentFactory(doctor=doctor, start=slot - dt.timedelta(minutes=30), end=slot + dt.timedelta(minutes=15))
    with pytest.raises(SlotUnavailable, match="doctor"):
        book(patient, doctor, slot)


def test_cancelled_appointment_frees_the_slot(patient, other_patient, doctor, slot):
    AppointmentFactory(doctor=doctor, start=slot, status=Status.CANCELLED)
    assert book(other_patient, doctor, slot).status == Status.PENDING


def test_patient_book_over_limit_raises_booking_limit(settings, patient, doctor, slot):
    settings.MAX_ACTIVE_APPOINTMENTS_PER_PATIENT = 2
    book(patient, doctor, slot)
    book(patient, doctor, slot + dt.timedelta(hours=1))
    with pytest.raises(BookingLimit):
        book(patient, doctor, slot + dt.timedelta(hours=2))


def test_doctor_book_course_beyond_patient_limit_is_not_limited(settings, patient, doctor, slot):
    settings.MAX_ACTIVE_APPOINTMENTS_PER_PATIENT = 10
    course = [
        services.appointment_book(doctor=doctor, patient=patient, start=slot + dt.timedelta(days=day), by=doctor)
        for day in range(12)
    ]
    assert [a.status for a in course] == [Status.CONFIRMED] * 12


def test_patient_book_limit_counts_doctor_made_appointments(settings, patient, doctor, slot):
    settings.MAX_ACTIVE_APPOINTMENTS_PER_PATIENT = 2
    for hours in (0, 1):
        services.appointment_book(doctor=doctor, patient=patient, start=slot + dt.timedelta(hours=hours), by=doctor)
    with pytest.raises(BookingLimit):
        book(patient, doctor, slot + dt.timedelta(hours=2))


def test_past_and_cancelled_appointments_do_not_count_towards_limit(settings, patient, doctor, slot):
    settings.MAX_ACTIVE_APPOINTMENTS_PER_PATIENT = 1
    AppointmentFactory(patient=patient, start=slot - dt.timedelta(days=10), status=Status.CONFIRMED)
    AppointmentFactory(patient=patient, start=slot + dt.timedelta(days=1), status=Status.CANCELLED)
    assert book(patient, doctor, slot).pk


def test_unverified_doctor_cannot_be_booked(patient, slot):
    doctor = DoctorFactory(doctor_profile__is_verified=False)
    open_all_week(doctor)
    with pytest.raises(SlotUnavailable):
        book(patient, doctor, slot)


def test_doctor_cannot_book_another_doctor_as_patient(doctor, other_doctor, slot):
    with pytest.raises(ValidationError):
        services.appointment_book(doctor=doctor, patient=other_doctor, start=slot, by=doctor)


def test_third_party_cannot_book(patient, other_patient, doctor, slot):
    with pytest.raises(PermissionDenied):
        services.appointment_book(doctor=doctor, patient=patient, start=slot, by=other_patient)


def test_dst_booking_in_london_uses_local_rule(patient):
    doctor = DoctorFactory(doctor_profile__timezone="Europe/London")
    AvailabilityRule.objects.create(doctor=doctor, weekday=6, start_time=dt.time(0), end_time=dt.time(3))
    with time_machine.travel(dt.datetime(2026, 3, 20, tzinfo=dt.UTC), tick=False):
        # 02:00 BST on the change day is 01:00 UTC; 01:00 local does not exist.
        appointment = book(patient, doctor, dt.datetime(2026, 3, 29, 1, 0, tzinfo=dt.UTC))
        assert appointment.end == dt.datetime(2026, 3, 29, 1, 30, tzinfo=dt.UTC)
        with pytest.raises(SlotUnavailable):
            book(patient, doctor, dt.datetime(2026, 3, 29, 2, 0, tzinfo=dt.UTC))  # 03:00 BST: rule over


def test_database_constraint_conflict_maps_to_slot_unavailable(monkeypatch, patient, other_patient, doctor, slot):
    """If the checks are bypassed (as under a race), the database still refuses and the error maps to 409."""
    from cybermed.exceptions import conflict_for_integrity_error

    book(patient, doctor, slot)
    monkeypatch.setattr(
        services, "check_slot", lambda *, profile, end=None, **kw: end or slot + dt.timedelta(minutes=30)
    )
    with pytest.raises(IntegrityError) as caught:
        book(other_patient, doctor, slot)
    assert isinstance(conflict_for_integrity_error(caught.value), SlotUnavailable)
    assert Appointment.objects.count() == 1
    assert StatusChange.objects.count() == 1


# --- transitions ----------------------------------------------------------------------------------


@pytest.fixture
def pending(patient: User, doctor: User, slot: dt.datetime) -> Appointment:
    return book(patient, doctor, slot)


ALL_STATUSES = [s.value for s in Status]


@pytest.mark.parametrize("source", ALL_STATUSES)
@pytest.mark.parametrize("target", ALL_STATUSES)
def test_transition_table_is_enforced_for_every_pair(patient, doctor, slot, source, target):
    appointment = AppointmentFactory(patient=patient, doctor=doctor, start=slot, status=source)
    move = services.TRANSITIONS.get((source, target))
    actor = doctor if move is None or "doctor" in move.roles else patient
    when = slot + dt.timedelta(minutes=5) if move and move.after_start else slot - dt.timedelta(hours=1)
    event = move.event if move else None
    with time_machine.travel(when, tick=False):
        if move is None:
            with pytest.raises(InvalidTransition):
                services.appointment_transition(appointment=appointment, to=target, by=actor)
        else:
            services.appointment_transition(appointment=appointment, to=target, by=actor, event=event)
            appointment.refresh_from_db()
            assert appointment.status == target
            assert appointment.history.get().to_status == target


def test_only_the_allowed_roles_make_each_move(patient, doctor, staff, slot):
    for (source, target), move in services.TRANSITIONS.items():
        if source == services.CREATION:  # bookings: test_booking_roles_come_from_the_table
            continue
        for role, actor in (("patient", patient), ("doctor", doctor), (services.STAFF, staff)):
            appointment = AppointmentFactory(patient=patient, doctor=doctor, start=slot, status=source)
            when = slot + dt.timedelta(minutes=5) if move.after_start else slot - dt.timedelta(hours=1)
            with time_machine.travel(when, tick=False):
                if role in move.roles:
                    services.appointment_transition(appointment=appointment, to=target, by=actor, event=move.event)
                else:
                    with pytest.raises(PermissionDenied):
                        services.appointment_transition(appointment=appointment, to=target, by=actor, event=move.event)
            appointment.delete()


def test_booking_roles_come_from_the_table(patient, doctor, staff, slot):
    assert services.TRANSITIONS[(services.CREATION, Status.PENDING)].roles == {"patient"}
    assert services.TRANSITIONS[(services.CREATION, Status.CONFIRMED)].roles == {"doctor", services.STAFF}
    by_patient = services.appointment_book(doctor=doctor, patient=patient, start=slot, by=patient)
    by_doctor = services.appointment_book(doctor=doctor, patient=patient, start=slot + dt.timedelta(hours=1), by=doctor)
    by_staff = services.appointment_book(doctor=doctor, patient=patient, start=slot + dt.timedelta(hours=2), by=staff)
    assert [a.status for a in (by_patient, by_doctor, by_staff)] == ["pending", "confirmed", "confirmed"]
    assert by_staff.created_by == staff


@pytest.mark.parametrize(("source", "target"), [("pending", "pending"), ("confirmed", "confirmed")])
def test_reschedule_moves_need_a_reschedule(patient, doctor, slot, source, target):
    appointment = AppointmentFactory(patient=patient, doctor=doctor, start=slot, status=source)
    with pytest.raises(InvalidTransition):
        services.appointment_transition(appointment=appointment, to=target, by=doctor)
    with pytest.raises(InvalidTransition):
        services.appointment_transition(appointment=appointment, to=target, by=doctor, event=Event.CONFIRMED)


def test_outsider_cannot_transition(pending, other_patient):
    with pytest.raises(PermissionDenied):
        services.appointment_cancel(appointment=pending, by=other_patient)


def test_complete_before_start_is_invalid(doctor, patient, slot):
    appointment = AppointmentFactory(patient=patient, doctor=doctor, start=slot, status=Status.CONFIRMED)
    with pytest.raises(InvalidTransition):
        services.appointment_complete(appointment=appointment, by=doctor)


def test_complete_and_no_show_after_start(doctor, patient, slot, signals):
    first = AppointmentFactory(patient=patient, doctor=doctor, start=slot, status=Status.CONFIRMED)
    second = AppointmentFactory(
        patient=patient, doctor=doctor, start=slot + dt.timedelta(hours=1), status=Status.CONFIRMED
    )
    with time_machine.travel(slot + dt.timedelta(hours=2), tick=False):
        assert services.appointment_complete(appointment=first, by=doctor).status == Status.COMPLETED
        assert services.appointment_no_show(appointment=second, by=doctor).status == Status.NO_SHOW
    assert [c.kind for c in changes(signals)] == [Event.COMPLETED, Event.NO_SHOW]


def test_confirm_sets_clinic_address_and_signals(pending, doctor, signals):
    appointment = services.appointment_confirm(appointment=pending, by=doctor)
    assert (appointment.status, appointment.location) == (Status.CONFIRMED, "1 Health Street")
    assert [(c.kind, c.previous_status, c.appointment.location) for c in changes(signals)] == [
        (Event.CONFIRMED, Status.PENDING, "1 Health Street")
    ]


def test_confirm_with_location(pending, doctor):
    assert services.appointment_confirm(appointment=pending, by=doctor, location="Room 4").location == "Room 4"


def test_cancel_records_reason_and_freed_time(pending, patient, signals):
    appointment = services.appointment_cancel(appointment=pending, by=patient, reason="Feeling better")
    assert (appointment.status, appointment.cancellation_reason) == (Status.CANCELLED, "Feeling better")
    assert appointment.history.last().reason == "Feeling better"
    [change] = changes(signals)
    assert (change.kind, change.actor_id) == (Event.CANCELLED, patient.pk)
    assert (change.previous_start, change.previous_end) == (pending.start, pending.end)


def test_patient_reschedule_of_confirmed_returns_to_pending(pending, patient, doctor, signals):
    services.appointment_confirm(appointment=pending, by=doctor)
    new_start = pending.start + dt.timedelta(hours=2)
    appointment = services.appointment_reschedule(appointment=pending, by=patient, start=new_start)
    assert (appointment.status, appointment.start) == (Status.PENDING, new_start)
    confirmed, rescheduled = changes(signals)
    assert rescheduled == AppointmentChange(
        kind=Event.RESCHEDULED,
        appointment=AppointmentSnapshot.of(appointment),
        actor_id=patient.pk,
        previous_status=Status.CONFIRMED,
        previous_start=pending.start,
        previous_end=pending.end,
    )
    # Each payload is a snapshot taken when it was sent, not the appointment as it is now.
    assert (confirmed.appointment.start, confirmed.appointment.location) == (pending.start, "1 Health Street")


def test_doctor_reschedule_keeps_status_and_length(patient, doctor, slot):
    appointment = services.appointment_book(
        doctor=doctor, patient=patient, start=slot, end=slot + dt.timedelta(minutes=60), by=doctor
    )
    moved = services.appointment_reschedule(appointment=appointment, by=doctor, start=slot + dt.timedelta(hours=3))
    assert moved.status == Status.CONFIRMED
    assert moved.end - moved.start == dt.timedelta(minutes=60)


def test_reschedule_onto_own_time_overlap_excludes_itself(pending, patient):
    moved = services.appointment_reschedule(
        appointment=pending, by=patient, start=pending.start + dt.timedelta(minutes=30)
    )
    assert moved.start == pending.start + dt.timedelta(minutes=30)


def test_reschedule_onto_taken_slot_is_unavailable(pending, patient, other_patient, doctor):
    book(other_patient, doctor, pending.start + dt.timedelta(hours=1))
    with pytest.raises(SlotUnavailable):
        services.appointment_reschedule(appointment=pending, by=patient, start=pending.start + dt.timedelta(hours=1))
    pending.refresh_from_db()
    assert pending.history.count() == 1


def test_reschedule_of_cancelled_is_invalid(pending, patient):
    services.appointment_cancel(appointment=pending, by=patient)
    with pytest.raises(InvalidTransition):
        services.appointment_reschedule(appointment=pending, by=patient, start=pending.start + dt.timedelta(hours=1))


def test_refer_creates_linked_pending_with_one_signal(pending, doctor, patient, signals):
    target = DoctorFactory(doctor_profile__specialty=doctor.doctor_profile.specialty)
    open_all_week(target)
    referral = services.appointment_refer(appointment=pending, by=doctor, doctor=target, reason="Specialist")
    pending.refresh_from_db()
    assert pending.status == Status.REFERRED
    assert (referral.status, referral.doctor, referral.patient, referral.start) == (
        Status.PENDING,
        target,
        patient,
        pending.start,
    )
    assert referral.referred_from == pending
    assert pending.referred_to == referral
    assert [(c.kind, c.appointment.id, c.referral) for c in changes(signals)] == [
        (Event.REFERRED, pending.pk, AppointmentSnapshot.of(referral))
    ]
    assert list(referral.history.values_list("from_status", "to_status")) == [("", "pending")]


def test_refer_to_other_specialty_is_rejected(pending, doctor):
    target = DoctorFactory(doctor_profile__specialty=SpecialtyFactory(name="Dermatology"))
    open_all_week(target)
    with pytest.raises(ValidationError):
        services.appointment_refer(appointment=pending, by=doctor, doctor=target)
    pending.refresh_from_db()
    assert pending.status == Status.PENDING


def test_refer_to_busy_target_rolls_everything_back(pending, doctor, other_patient, signals):
    target = DoctorFactory(doctor_profile__specialty=doctor.doctor_profile.specialty)
    open_all_week(target)
    book(other_patient, target, pending.start)
    signals.clear()
    with pytest.raises(SlotUnavailable):
        services.appointment_refer(appointment=pending, by=doctor, doctor=target)
    pending.refresh_from_db()
    assert pending.status == Status.PENDING
    assert pending.history.count() == 1


def test_update_rules(pending, patient, doctor):
    assert (
        services.appointment_update(appointment=pending, by=patient, reason_for_visit="cough").reason_for_visit
        == "cough"
    )
    assert services.appointment_update(appointment=pending, by=doctor, location="Room 2").location == "Room 2"
    with pytest.raises(ValidationError):
        services.appointment_update(appointment=pending, by=doctor, reason_for_visit="x")
    with pytest.raises(ValidationError):
        services.appointment_update(appointment=pending, by=patient, location="x")
    services.appointment_confirm(appointment=pending, by=doctor)
    with pytest.raises(ValidationError):
        services.appointment_update(appointment=pending, by=patient, reason_for_visit="later")


# --- availability ---------------------------------------------------------------------------------


def test_availability_rule_overlap_rejected_adjacent_allowed():
    doctor = DoctorProfileFactory().user
    services.availability_rule_create(doctor=doctor, weekday=0, start_time=dt.time(9), end_time=dt.time(12))
    services.availability_rule_create(doctor=doctor, weekday=0, start_time=dt.time(12), end_time=dt.time(13))
    services.availability_rule_create(doctor=doctor, weekday=1, start_time=dt.time(9), end_time=dt.time(12))
    with pytest.raises(ValidationError):
        services.availability_rule_create(doctor=doctor, weekday=0, start_time=dt.time(11), end_time=dt.time(14))
    with pytest.raises(ValidationError):
        services.availability_rule_create(doctor=doctor, weekday=0, start_time=dt.time(15), end_time=dt.time(14))


def test_availability_rule_update_does_not_clash_with_itself():
    doctor = PatientFactory()  # the service does not care about roles; the API does
    rule = services.availability_rule_create(doctor=doctor, weekday=0, start_time=dt.time(9), end_time=dt.time(12))
    assert services.availability_rule_update(rule=rule, end_time=dt.time(13)).end_time == dt.time(13)
