"""Booking policies: a patient cancels or reschedules only with the doctor's notice; doctors and staff always may."""

import datetime as dt

import pytest
import time_machine

from appointments import services
from appointments.choices import Status
from appointments.tests.factories import AppointmentFactory, next_slot
from cybermed.exceptions import NoticeRequired

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("open_week")]

PROFILE = "/api/doctor-profile/"


@pytest.fixture
def strict_doctor(doctor):
    profile = doctor.doctor_profile
    profile.cancellation_notice_hours = 24
    profile.reschedule_notice_hours = 48
    profile.save()
    return doctor


def appointment_in(hours: float, doctor, patient, status=Status.CONFIRMED):
    """An appointment starting `hours` from a frozen now (the clock is frozen by the caller)."""
    start = next_slot(days=10, hour=10)
    return AppointmentFactory(doctor=doctor, patient=patient, start=start, status=status), start - dt.timedelta(
        hours=hours
    )


@pytest.mark.parametrize(("hours_before", "allowed"), [(25, True), (24, True), (23.5, False), (1, False)])
def test_patient_cancel_respects_cancellation_notice(client_for, strict_doctor, patient, hours_before, allowed):
    appointment, now = appointment_in(hours_before, strict_doctor, patient)
    with time_machine.travel(now, tick=False):
        response = client_for(patient).post(f"/api/appointments/{appointment.pk}/cancel/", {}, format="json")
    if allowed:
        assert response.status_code == 200
        assert response.json()["status"] == Status.CANCELLED
    else:
        assert (response.status_code, response.json()["code"]) == (409, "notice_required")
        appointment.refresh_from_db()
        assert appointment.status == Status.CONFIRMED


def test_patient_delete_inside_notice_is_409(client_for, strict_doctor, patient):
    appointment, now = appointment_in(2, strict_doctor, patient)
    with time_machine.travel(now, tick=False):
        response = client_for(patient).delete(f"/api/appointments/{appointment.pk}/")
    assert (response.status_code, response.json()["code"]) == (409, "notice_required")


def test_patient_reschedule_inside_notice_is_409(client_for, strict_doctor, patient):
    appointment, now = appointment_in(30, strict_doctor, patient)  # past the 24 h cancel window, inside 48 h
    with time_machine.travel(now, tick=False):
        target = appointment.start + dt.timedelta(days=2)
        response = client_for(patient).post(
            f"/api/appointments/{appointment.pk}/reschedule/", {"start": target.isoformat()}, format="json"
        )
        assert (response.status_code, response.json()["code"]) == (409, "notice_required")
        assert client_for(patient).post(f"/api/appointments/{appointment.pk}/cancel/", {}).status_code == 200


def test_patient_reschedule_with_enough_notice_is_allowed(client_for, strict_doctor, patient):
    appointment, now = appointment_in(49, strict_doctor, patient)
    with time_machine.travel(now, tick=False):
        target = appointment.start + dt.timedelta(days=2)
        response = client_for(patient).post(
            f"/api/appointments/{appointment.pk}/reschedule/", {"start": target.isoformat()}, format="json"
        )
    assert response.status_code == 200
    assert response.json()["status"] == Status.PENDING


@pytest.mark.parametrize("actor", ["doctor", "staff"])
def test_doctor_and_staff_may_cancel_and_reschedule_inside_notice(client_for, strict_doctor, patient, staff, actor):
    by = strict_doctor if actor == "doctor" else staff
    first, now = appointment_in(1, strict_doctor, patient)
    second = AppointmentFactory(doctor=strict_doctor, patient=patient, start=first.start + dt.timedelta(hours=1))
    with time_machine.travel(now, tick=False):
        target = first.start + dt.timedelta(days=1)
        moved = client_for(by).post(f"/api/appointments/{first.pk}/reschedule/", {"start": target.isoformat()})
        cancelled = client_for(by).post(f"/api/appointments/{second.pk}/cancel/", {"reason": "ill"})
    assert (moved.status_code, cancelled.status_code) == (200, 200)


def test_staff_front_desk_service_cancel_inside_notice(strict_doctor, patient, staff):
    # The admin front desk calls this same service as the staff user.
    appointment, now = appointment_in(1, strict_doctor, patient)
    with time_machine.travel(now, tick=False):
        services.appointment_cancel(appointment=appointment, by=staff, reason="phoned in")
        with pytest.raises(NoticeRequired):
            services.appointment_cancel(
                appointment=AppointmentFactory(
                    doctor=strict_doctor, patient=patient, start=appointment.start + dt.timedelta(hours=2)
                ),
                by=patient,
            )


def test_zero_notice_lets_patient_cancel_until_the_start(client_for, doctor, patient):
    appointment, now = appointment_in(0.01, doctor, patient)
    with time_machine.travel(now, tick=False):
        assert client_for(patient).post(f"/api/appointments/{appointment.pk}/cancel/", {}).status_code == 200


def test_notice_given_reports_the_window(strict_doctor, patient):
    appointment, now = appointment_in(24, strict_doctor, patient)
    assert services.notice_given(appointment=appointment, now=now)
    assert not services.notice_given(appointment=appointment, now=now + dt.timedelta(seconds=1))


def test_doctor_profile_exposes_and_edits_notice_windows(client_for, doctor):
    client = client_for(doctor)
    assert client.get(PROFILE).json()["cancellation_notice_hours"] == 0
    response = client.patch(PROFILE, {"cancellation_notice_hours": 720, "reschedule_notice_hours": 12}, format="json")
    assert response.status_code == 200
    doctor.doctor_profile.refresh_from_db()
    assert (doctor.doctor_profile.cancellation_notice_hours, doctor.doctor_profile.reschedule_notice_hours) == (720, 12)


@pytest.mark.parametrize("value", [-1, 721, "x", 1.5, None, True])
@pytest.mark.parametrize("field", ["cancellation_notice_hours", "reschedule_notice_hours"])
def test_doctor_profile_rejects_notice_outside_range(client_for, doctor, field, value):
    response = client_for(doctor).patch(PROFILE, {field: value}, format="json")
    assert response.status_code == 400
    assert field in response.json()


def test_conflict_component_lists_new_codes():
    from cybermed.api.schema import conflict_choices

    assert {"notice_required", "idempotency_conflict"} <= set(conflict_choices())
