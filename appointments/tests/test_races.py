"""Concurrency: real threads, each with its own connection and APIClient, released together by a barrier."""

import datetime as dt
from collections import Counter
from collections.abc import Callable

import pytest
from django.db import IntegrityError, connection, transaction
from rest_framework.test import APIClient

from appointments.choices import Status
from appointments.models import Appointment
from appointments.tests.conftest import open_all_week
from appointments.tests.factories import AppointmentFactory, next_slot
from cybermed.testing import run_together
from users.models import User
from users.tests.factories import DoctorFactory, PatientFactory

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def booking(user: User, body: dict) -> Callable[[], int]:
    def call() -> int:
        client = APIClient()
        client.force_authenticate(user)
        return client.post("/api/appointments/", body, format="json").status_code

    return call


def doctor_open_all_week() -> User:
    doctor = DoctorFactory()
    open_all_week(doctor)
    return doctor


def test_twenty_patients_booking_one_slot_exactly_one_wins():
    doctor = doctor_open_all_week()
    slot = next_slot(days=3)
    patients = [PatientFactory() for _ in range(20)]
    body = {"doctor": doctor.pk, "start": slot.isoformat(), "reason_for_visit": "race"}
    codes = run_together([booking(p, body) for p in patients])
    assert Counter(codes) == {201: 1, 409: 19}
    assert Appointment.objects.filter(doctor=doctor).count() == 1


def test_one_patient_booking_eight_doctors_at_once_exactly_one_wins():
    patient = PatientFactory()
    doctors = [doctor_open_all_week() for _ in range(8)]
    slot = next_slot(days=3)
    codes = run_together(
        [booking(patient, {"doctor": d.pk, "start": slot.isoformat(), "reason_for_visit": "race"}) for d in doctors]
    )
    assert Counter(codes) == {201: 1, 409: 7}
    assert Appointment.objects.filter(patient=patient).count() == 1


def test_concurrent_reschedules_onto_one_slot_at_most_one_wins():
    doctor = doctor_open_all_week()
    target = next_slot(days=4)
    appointments = [
        AppointmentFactory(doctor=doctor, start=next_slot(days=3, hour=8) + dt.timedelta(minutes=30 * i))
        for i in range(10)
    ]

    def reschedule(appointment: Appointment) -> Callable[[], int]:
        def call() -> int:
            client = APIClient()
            client.force_authenticate(appointment.patient)
            url = f"/api/appointments/{appointment.pk}/reschedule/"
            return client.post(url, {"start": target.isoformat()}, format="json").status_code

        return call

    codes = run_together([reschedule(a) for a in appointments])
    assert Counter(codes) == {200: 1, 409: 9}
    assert Appointment.objects.filter(doctor=doctor, start=target).count() == 1


def test_overlapping_doctor_created_appointments_of_different_lengths_one_wins():
    doctor = doctor_open_all_week()
    base = next_slot(days=3, hour=9)
    patients = [PatientFactory() for _ in range(6)]
    # 09:00-11:00, 09:30-10:00, 10:00-12:00, ...: every pair overlaps one of the others.
    bodies = [
        {
            "patient": p.pk,
            "start": (base + dt.timedelta(minutes=30 * (i % 3))).isoformat(),
            "end": (base + dt.timedelta(minutes=30 * (i % 3) + 120 - 30 * (i % 2))).isoformat(),
        }
        for i, p in enumerate(patients)
    ]
    codes = run_together([booking(doctor, body) for body in bodies])
    assert Counter(codes)[201] == 1
    assert Counter(codes)[409] == 5
    rows = list(Appointment.objects.filter(doctor=doctor).values_list("start", "end"))
    assert len(rows) == 1


def test_exclusion_constraint_refuses_overlap_written_straight_to_the_orm():
    assert connection.vendor == "postgresql"
    doctor, patient, other = DoctorFactory(), PatientFactory(), PatientFactory()
    start = next_slot(days=3)
    AppointmentFactory(doctor=doctor, patient=patient, start=start, end=start + dt.timedelta(minutes=60))
    with pytest.raises(IntegrityError, match="appointment_doctor_no_overlap"), transaction.atomic():
        AppointmentFactory(doctor=doctor, patient=other, start=start + dt.timedelta(minutes=30))
    with pytest.raises(IntegrityError, match="appointment_patient_no_overlap"), transaction.atomic():
        AppointmentFactory(doctor=DoctorFactory(), patient=patient, start=start + dt.timedelta(minutes=45))
    # touching intervals and inactive rows are fine
    AppointmentFactory(doctor=doctor, patient=other, start=start + dt.timedelta(minutes=60))
    AppointmentFactory(doctor=doctor, patient=other, start=start + dt.timedelta(minutes=15), status=Status.CANCELLED)
    assert Appointment.objects.filter(doctor=doctor).count() == 3


def test_exclusion_violation_maps_to_409(monkeypatch):
    """With the service checks switched off, the database alone turns an overlap into 409 slot_unavailable."""
    from appointments import services

    doctor, patient, other = doctor_open_all_week(), PatientFactory(), PatientFactory()
    start = next_slot(days=3)
    AppointmentFactory(
        doctor=doctor, patient=other, start=start - dt.timedelta(minutes=30), end=start + dt.timedelta(minutes=15)
    )
    monkeypatch.setattr(
        services, "check_slot", lambda *, profile, start, end=None, **kw: end or start + dt.timedelta(minutes=30)
    )
    client = APIClient()
    client.force_authenticate(patient)
    r = client.post("/api/appointments/", {"doctor": doctor.pk, "start": start.isoformat()}, format="json")
    assert (r.status_code, r.json()["code"]) == (409, "slot_unavailable")
    assert not Appointment.objects.filter(patient=patient).exists()
