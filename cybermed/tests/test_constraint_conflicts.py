"""A violation caught only by the database maps to its 409 by the constraint's name, on SQLite and PostgreSQL."""

import datetime as dt
from collections.abc import Callable

import pytest
from django.apps import apps
from django.db import IntegrityError, connection, transaction

from appointments import services as appointment_services
from appointments.models import OVERLAP_CONSTRAINTS
from appointments.tests.conftest import open_all_week
from appointments.tests.factories import AppointmentFactory, next_slot
from consultations.tests.factories import ConsultationFactory
from cybermed.exceptions import CONSTRAINT_CONFLICTS, conflict_for_integrity_error, constraint_name
from notifications.tests.factories import WaitlistEntryFactory
from users.models import User
from users.tests.factories import DoctorFactory, PatientFactory, UserFactory

pytestmark = pytest.mark.django_db


def same_doctor_and_start() -> None:
    first = AppointmentFactory()
    AppointmentFactory(doctor=first.doctor, start=first.start)


def same_patient_and_start() -> None:
    first = AppointmentFactory()
    AppointmentFactory(patient=first.patient, start=first.start)


def second_consultation() -> None:
    first = ConsultationFactory()
    ConsultationFactory(appointment=first.appointment)


def same_waitlist_entry() -> None:
    first = WaitlistEntryFactory()
    WaitlistEntryFactory(patient=first.patient, doctor=first.doctor, start_date=first.start_date)


def appointment_ending_before_it_starts() -> None:
    start = next_slot(days=3)
    AppointmentFactory(start=start, end=start - dt.timedelta(minutes=30))


def email_differing_only_in_case() -> None:
    first, second = UserFactory(), UserFactory()
    # update() skips save()'s normalising, so only the case-insensitive index can refuse it.
    User.objects.filter(pk=second.pk).update(email=first.email.upper())


def violation(write: Callable[[], None]) -> IntegrityError:
    with pytest.raises(IntegrityError) as caught, transaction.atomic():
        write()
    return caught.value


@pytest.mark.parametrize(
    ("write", "names", "code"),
    [
        # PostgreSQL checks the unique index and the exclusion constraint; either may refuse first.
        (
            same_doctor_and_start,
            {"appointment_doctor_start_active_uniq", "appointment_doctor_no_overlap"},
            "slot_unavailable",
        ),
        (
            same_patient_and_start,
            {"appointment_patient_start_active_uniq", "appointment_patient_no_overlap"},
            "slot_unavailable",
        ),
        (second_consultation, {"consultation_one_per_appointment"}, "already_exists"),
        (same_waitlist_entry, {"waitlist_patient_doctor_range_uniq"}, "already_exists"),
        # Not registered: named all the same, and the generic conflict.
        (appointment_ending_before_it_starts, {"appointment_end_after_start"}, "already_exists"),
        (email_differing_only_in_case, {"users_user_email_ci_unique"}, "already_exists"),
    ],
)
def test_database_only_violation_is_named_and_mapped(write, names, code):
    error = violation(write)

    assert constraint_name(error) in names
    assert conflict_for_integrity_error(error).code == code


def test_message_mentioning_a_registered_name_does_not_map_without_naming_the_constraint():
    error = IntegrityError("NOT NULL constraint failed: appointment_doctor_start_active_uniq.note")

    assert constraint_name(error) is None
    assert type(conflict_for_integrity_error(error)) is not CONSTRAINT_CONFLICTS["appointment_doctor_start_active_uniq"]


def test_patient_booking_past_bypassed_checks_gets_409_slot_unavailable_from_the_database(client_for, monkeypatch):
    doctor, patient = DoctorFactory(), PatientFactory()
    open_all_week(doctor)
    start = next_slot(days=3)
    AppointmentFactory(doctor=doctor, start=start)
    monkeypatch.setattr(
        appointment_services, "check_slot", lambda *, start, end=None, **kw: end or start + dt.timedelta(minutes=30)
    )

    r = client_for(patient).post("/api/appointments/", {"doctor": doctor.pk, "start": start.isoformat()}, format="json")

    assert (r.status_code, r.json()["code"]) == (409, "slot_unavailable")


def test_every_registered_constraint_exists_in_the_database():
    with connection.cursor() as cursor:
        existing = {
            name
            for model in apps.get_models()
            for name in connection.introspection.get_constraints(cursor, model._meta.db_table)
        }
    expected = set(CONSTRAINT_CONFLICTS)
    if connection.vendor != "postgresql":
        expected -= set(OVERLAP_CONSTRAINTS)

    assert expected <= existing, expected - existing
