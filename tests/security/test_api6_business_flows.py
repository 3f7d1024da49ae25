"""API6:2023 Unrestricted access to sensitive business flows: slot hoarding, booking past/unverified, replays."""

import pytest

from appointments.choices import Status
from appointments.models import Appointment
from appointments.tests.factories import AppointmentFactory, AvailabilityRuleFactory, next_slot
from consultations.models import Consultation
from users.tests.factories import DoctorFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def open_doctor(doctor):
    for weekday in range(7):
        AvailabilityRuleFactory(doctor=doctor, weekday=weekday)
    return doctor


def book(client, doctor, start):
    return client.post(
        "/api/appointments/", {"doctor": doctor.pk, "start": start.isoformat(), "reason_for_visit": "x"}, format="json"
    )


def test_patient_hoarding_slots_stopped_at_booking_limit(bearer, patient, open_doctor, settings):
    settings.MAX_ACTIVE_APPOINTMENTS_PER_PATIENT = 3
    client = bearer(patient)
    assert [book(client, open_doctor, next_slot(days=2, hour=9 + i)).status_code for i in range(3)] == [201] * 3
    r = book(client, open_doctor, next_slot(days=2, hour=14))
    assert (r.status_code, r.json()["code"]) == (409, "booking_limit")
    assert Appointment.objects.filter(patient=patient).count() == 3


def test_booking_limit_counts_only_active_upcoming_appointments(bearer, patient, open_doctor, settings):
    settings.MAX_ACTIVE_APPOINTMENTS_PER_PATIENT = 2
    AppointmentFactory(patient=patient, doctor=open_doctor, start=next_slot(days=-3), status=Status.CONFIRMED)
    AppointmentFactory(patient=patient, doctor=open_doctor, start=next_slot(days=4), status=Status.CANCELLED)
    client = bearer(patient)
    assert book(client, open_doctor, next_slot(days=2, hour=9)).status_code == 201
    assert book(client, open_doctor, next_slot(days=2, hour=10)).status_code == 201
    assert book(client, open_doctor, next_slot(days=2, hour=11)).json()["code"] == "booking_limit"


def test_cancelling_frees_a_place_under_the_booking_limit(bearer, patient, open_doctor, settings):
    settings.MAX_ACTIVE_APPOINTMENTS_PER_PATIENT = 1
    client = bearer(patient)
    first = book(client, open_doctor, next_slot(days=2, hour=9)).json()
    assert book(client, open_doctor, next_slot(days=2, hour=10)).json()["code"] == "booking_limit"
    assert client.post(f"/api/appointments/{first['id']}/cancel/", {}, format="json").status_code == 200
    assert book(client, open_doctor, next_slot(days=2, hour=10)).status_code == 201


def test_booking_in_the_past_refused(bearer, patient, open_doctor):
    r = book(bearer(patient), open_doctor, next_slot(days=-1))
    assert (r.status_code, r.json()["code"]) == (409, "slot_unavailable")


def test_booking_off_the_slot_grid_refused(bearer, patient, open_doctor):
    r = book(bearer(patient), open_doctor, next_slot(days=2).replace(minute=7))
    assert (r.status_code, r.json()["code"]) == (409, "slot_unavailable")


def test_booking_unverified_doctor_refused(bearer, patient, settings):
    settings.DOCTOR_VERIFICATION_REQUIRED = True
    unverified = DoctorFactory(doctor_profile__is_verified=False)
    for weekday in range(7):
        AvailabilityRuleFactory(doctor=unverified, weekday=weekday)
    r = book(bearer(patient), unverified, next_slot(days=2))
    assert r.status_code in (400, 404, 409)
    assert not Appointment.objects.exists()


def test_double_booking_a_taken_slot_refused(bearer, patient, other_patient, open_doctor):
    assert book(bearer(other_patient), open_doctor, next_slot(days=2)).status_code == 201
    r = book(bearer(patient), open_doctor, next_slot(days=2))
    assert (r.status_code, r.json()["code"]) == (409, "slot_unavailable")


def test_replayed_booking_request_creates_one_appointment(bearer, patient, open_doctor):
    client = bearer(patient)
    assert book(client, open_doctor, next_slot(days=2)).status_code == 201
    r = book(client, open_doctor, next_slot(days=2))
    assert (r.status_code, r.json()["code"]) == (409, "slot_unavailable")
    assert Appointment.objects.count() == 1


def test_completing_before_the_visit_refused(bearer, patient, doctor):
    appointment = AppointmentFactory(patient=patient, doctor=doctor, start=next_slot(days=2), status=Status.CONFIRMED)
    r = bearer(doctor).post(f"/api/appointments/{appointment.pk}/complete/", {}, format="json")
    assert (r.status_code, r.json()["code"]) == (409, "invalid_transition")


def test_reviving_a_cancelled_appointment_refused(bearer, patient, doctor):
    appointment = AppointmentFactory(patient=patient, doctor=doctor, start=next_slot(days=2), status=Status.CANCELLED)
    r = bearer(doctor).post(f"/api/appointments/{appointment.pk}/confirm/", {}, format="json")
    assert (r.status_code, r.json()["code"]) == (409, "invalid_transition")


def test_second_consultation_for_one_appointment_refused(bearer, patient, doctor):
    appointment = AppointmentFactory(patient=patient, doctor=doctor, start=next_slot(days=-1), status=Status.COMPLETED)
    client = bearer(doctor)
    assert client.post("/api/consultations/", {"appointment": appointment.pk}, format="json").status_code == 201
    r = client.post("/api/consultations/", {"appointment": appointment.pk}, format="json")
    assert (r.status_code, r.json()["code"]) == (409, "already_exists")
    assert Consultation.objects.count() == 1


def test_consultation_for_pending_appointment_refused(bearer, patient, doctor):
    appointment = AppointmentFactory(patient=patient, doctor=doctor, start=next_slot(days=2), status=Status.PENDING)
    r = bearer(doctor).post("/api/consultations/", {"appointment": appointment.pk}, format="json")
    assert r.status_code in (400, 409)
    assert not Consultation.objects.exists()


def test_referral_to_self_or_unverified_doctor_refused(bearer, patient, doctor):
    appointment = AppointmentFactory(patient=patient, doctor=doctor, start=next_slot(days=2), status=Status.CONFIRMED)
    unverified = DoctorFactory(doctor_profile__is_verified=False)
    client = bearer(doctor)
    for target in (doctor, unverified):
        r = client.post(f"/api/appointments/{appointment.pk}/refer/", {"doctor": target.pk}, format="json")
        assert r.status_code in (400, 404, 409)
    appointment.refresh_from_db()
    assert appointment.status == Status.CONFIRMED
    assert Appointment.objects.count() == 1
