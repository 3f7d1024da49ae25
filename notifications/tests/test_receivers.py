"""One notification per event, to the right people and nobody else (signals sent as the services send them)."""

import datetime as dt
from types import SimpleNamespace

import pytest
from django.db import transaction

from appointments.choices import Status
from appointments.events import AppointmentEventKind as Event
from appointments.tests.factories import AppointmentFactory
from consultations.signals import consultation_saved
from notifications.choices import Kind
from notifications.models import Notification
from users.tests.factories import DoctorFactory

pytestmark = pytest.mark.django_db


def recipients() -> list[tuple[int, str]]:
    return sorted(Notification.objects.values_list("user_id", "kind"))


def test_patient_booking_notifies_only_the_doctor(
    patient, doctor, appointment, send_event, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        send_event(appointment, Event.CREATED, actor=patient)

    assert recipients() == [(doctor.pk, Kind.APPOINTMENT_CREATED)]
    n = Notification.objects.get()
    assert n.appointment_id == appointment.pk
    assert n.data["start"] == appointment.start.isoformat()
    assert n.data["end"] == appointment.end.isoformat()
    assert patient.get_full_name() in n.message


def test_doctor_creating_appointment_notifies_only_the_patient(
    patient, doctor, appointment, send_event, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        send_event(appointment, Event.CREATED, actor=doctor)

    assert recipients() == [(patient.pk, Kind.APPOINTMENT_CREATED)]


def test_staff_creating_appointment_notifies_both_participants(
    patient, doctor, staff, appointment, send_event, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        send_event(appointment, Event.CREATED, actor=staff)

    assert recipients() == sorted([(patient.pk, Kind.APPOINTMENT_CREATED), (doctor.pk, Kind.APPOINTMENT_CREATED)])


def test_doctor_confirming_notifies_patient_with_location(
    patient, doctor, appointment, send_event, django_capture_on_commit_callbacks
):
    appointment.status, appointment.location = Status.CONFIRMED, "Room 4, 1 Health Street"
    appointment.save()
    with django_capture_on_commit_callbacks(execute=True):
        send_event(appointment, Event.CONFIRMED, actor=doctor, previous_status=Status.PENDING)

    assert recipients() == [(patient.pk, Kind.APPOINTMENT_CONFIRMED)]
    n = Notification.objects.get()
    assert n.data["location"] == "Room 4, 1 Health Street"
    assert "Room 4, 1 Health Street" in n.message
    assert n.appointment_id == appointment.pk


@pytest.mark.parametrize(
    ("actor_name", "expected_names"),
    [("patient", ["doctor"]), ("doctor", ["patient"]), ("staff", ["doctor", "patient"]), (None, ["doctor", "patient"])],
)
def test_actor_cancelling_notifies_the_other_party(
    actor_name, expected_names, request, appointment, send_event, django_capture_on_commit_callbacks
):
    actor = request.getfixturevalue(actor_name) if actor_name else None
    appointment.status = Status.CANCELLED
    appointment.save()
    with django_capture_on_commit_callbacks(execute=True):
        send_event(appointment, Event.CANCELLED, actor=actor, previous_status=Status.PENDING)

    expected = sorted((request.getfixturevalue(name).pk, Kind.APPOINTMENT_CANCELLED) for name in expected_names)
    assert recipients() == expected


def test_patient_rescheduling_notifies_doctor_with_old_and_new_time(
    patient, doctor, appointment, send_event, django_capture_on_commit_callbacks
):
    old_start, old_end = appointment.start, appointment.end
    appointment.start += dt.timedelta(hours=2)
    appointment.end += dt.timedelta(hours=2)
    appointment.save()
    with django_capture_on_commit_callbacks(execute=True):
        send_event(
            appointment,
            Event.RESCHEDULED,
            actor=patient,
            previous_status=Status.PENDING,
            previous_start=old_start,
            previous_end=old_end,
        )

    assert recipients() == [(doctor.pk, Kind.APPOINTMENT_RESCHEDULED)]
    n = Notification.objects.get()
    assert n.data["start"] == appointment.start.isoformat()
    assert n.data["previous_start"] == old_start.isoformat()


def test_doctor_referring_notifies_patient_and_target_doctor_only(
    patient, doctor, appointment, send_event, django_capture_on_commit_callbacks
):
    target = DoctorFactory()
    appointment.status = Status.REFERRED
    appointment.save()
    referral = AppointmentFactory(
        patient=patient, doctor=target, start=appointment.start, referred_from=appointment, created_by=doctor
    )
    with django_capture_on_commit_callbacks(execute=True):
        send_event(appointment, Event.REFERRED, actor=doctor, previous_status=Status.CONFIRMED, referral=referral)

    assert recipients() == sorted([(patient.pk, Kind.APPOINTMENT_REFERRED), (target.pk, Kind.APPOINTMENT_REFERRED)])
    for n in Notification.objects.all():
        assert n.appointment_id == referral.pk
        assert n.data["referred_from"] == appointment.pk
        assert n.data["doctor"] == target.pk


@pytest.mark.parametrize(
    ("event", "kind"), [(Event.COMPLETED, Kind.APPOINTMENT_COMPLETED), (Event.NO_SHOW, Kind.APPOINTMENT_NO_SHOW)]
)
def test_doctor_closing_appointment_notifies_patient_only(
    event, kind, patient, doctor, appointment, send_event, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        send_event(appointment, event, actor=doctor, previous_status=Status.CONFIRMED)

    assert recipients() == [(patient.pk, kind)]


@pytest.mark.parametrize("kind", list(Event))
def test_every_event_kind_notifies_someone(kind, staff, appointment, send_event, django_capture_on_commit_callbacks):
    """A kind added to the enum without a message would otherwise notify nobody, silently."""
    with django_capture_on_commit_callbacks(execute=True):
        send_event(appointment, kind, actor=staff, previous_status=Status.PENDING)

    assert recipients() != []


def test_rolled_back_booking_notifies_nobody(patient, appointment, send_event, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        try:
            with transaction.atomic():
                send_event(appointment, Event.CREATED, actor=patient)
                raise RuntimeError("booking failed after the signal")
        except RuntimeError:
            pass

    assert callbacks == []
    assert Notification.objects.count() == 0


def test_notifications_wait_for_commit(patient, appointment, send_event, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        send_event(appointment, Event.CREATED, actor=patient)
        assert Notification.objects.count() == 0
    assert len(callbacks) == 1


@pytest.mark.parametrize(("created", "kind"), [(True, Kind.CONSULTATION_CREATED), (False, Kind.CONSULTATION_UPDATED)])
def test_doctor_saving_consultation_notifies_patient_without_medical_content(
    created, kind, patient, doctor, appointment, django_capture_on_commit_callbacks
):
    consultation = SimpleNamespace(
        pk=77, appointment_id=appointment.pk, treatment_plan="SECRET-PLAN", medical_history="SECRET-HISTORY"
    )
    with django_capture_on_commit_callbacks(execute=True):
        consultation_saved.send(sender=object, consultation=consultation, created=created, actor=doctor)

    assert recipients() == [(patient.pk, kind)]
    n = Notification.objects.get()
    assert n.appointment_id == appointment.pk
    assert n.data["consultation"] == 77
    assert "SECRET" not in f"{n.title} {n.message} {n.data}"


def test_staff_actor_is_never_notified(staff, appointment, send_event, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        send_event(appointment, Event.CANCELLED, actor=staff, previous_status=Status.PENDING)

    assert not Notification.objects.filter(user=staff).exists()
