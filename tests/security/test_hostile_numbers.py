"""Numbers where an id or a count is expected: only whole numbers get through, as JSON integers (or digit strings).

A fraction one above an object's id must not name that object (DRF's PrimaryKeyRelatedField used to
look `62.9` up as 62), a float that is whole is still not an integer, and nothing is a 500: `1e400`
and NaN are refused by the parser, the rest by the field. Query parameters get the same treatment.
"""

import json

import pytest

from appointments.choices import Status
from appointments.models import Appointment, AvailabilityRule
from appointments.tests.factories import AppointmentFactory, next_slot
from consultations.models import Consultation
from notifications.models import WaitlistEntry
from users.models import DoctorProfile
from users.tests.factories import DoctorFactory, SpecialtyFactory

pytestmark = pytest.mark.django_db


def not_integers(pk: int) -> list:
    """Values that are not the integer `pk`, several of which DRF or Python would round to it."""
    return [pk + 0.9, pk + 0.1, float(pk), str(float(pk)), f"{pk}.9", f"{pk}e0", True, False, -pk, 0, 2**64, [pk], {}]


def send(client, method: str, url: str, body: dict):
    return getattr(client, method)(url, json.dumps(body), content_type="application/json")


def assert_field_error(response, field: str) -> None:
    assert response.status_code == 400, (response.status_code, response.content[:300])
    assert field in response.json(), response.json()


# --- id fields: a doctor, a patient, an appointment, a specialty ------------------------------------------


@pytest.mark.parametrize(("booker", "field"), [("patient", "doctor"), ("doctor", "patient")])
def test_booking_with_a_non_integer_id_of_the_other_party_is_400_and_books_nothing(client_for, booker, field, request):
    """A patient names the doctor and a doctor the patient; both ids are checked the same way."""
    client, other = client_for(request.getfixturevalue(booker)), request.getfixturevalue(field)
    start = next_slot(days=3).isoformat()
    for value in not_integers(other.pk):
        r = send(client, "post", "/api/appointments/", {field: value, "start": start})
        assert_field_error(r, field)
    assert not Appointment.objects.exists()


def test_doctor_referral_to_a_non_integer_doctor_id_is_400(client_for, patient, doctor):
    target = DoctorFactory()
    appointment = AppointmentFactory(patient=patient, doctor=doctor, start=next_slot(days=3), status=Status.CONFIRMED)
    for value in not_integers(target.pk):
        r = send(client_for(doctor), "post", f"/api/appointments/{appointment.pk}/refer/", {"doctor": value})
        assert_field_error(r, "doctor")
    appointment.refresh_from_db()
    assert appointment.status == Status.CONFIRMED


def test_doctor_consultation_for_a_non_integer_appointment_id_is_400(client_for, patient, doctor):
    appointment = AppointmentFactory(patient=patient, doctor=doctor, start=next_slot(days=3), status=Status.CONFIRMED)
    for value in not_integers(appointment.pk):
        r = send(client_for(doctor), "post", "/api/consultations/", {"appointment": value})
        assert_field_error(r, "appointment")
    assert not Consultation.objects.exists()


def test_patient_waitlist_with_a_non_integer_doctor_id_is_400(client_for, patient, doctor):
    day = next_slot(days=3).date().isoformat()
    for value in not_integers(doctor.pk):
        body = {"doctor": value, "start_date": day, "end_date": day}
        assert_field_error(send(client_for(patient), "post", "/api/waitlist/", body), "doctor")
    assert not WaitlistEntry.objects.exists()


@pytest.mark.parametrize("method", ["post", "put", "patch"])
def test_doctor_profile_with_a_non_integer_specialty_id_is_400_and_unchanged(client_for, doctor, method):
    before = doctor.doctor_profile.specialty_id
    target = SpecialtyFactory(name="Cardiology")
    for value in not_integers(target.pk):
        assert_field_error(send(client_for(doctor), method, "/api/doctor-profile/", {"specialty": value}), "specialty")
    assert DoctorProfile.objects.get(pk=doctor.pk).specialty_id == before


def test_integer_ids_as_numbers_and_digit_strings_still_work(client_for, patient, doctor):
    target = SpecialtyFactory(name="Cardiology")
    assert send(client_for(doctor), "patch", "/api/doctor-profile/", {"specialty": target.pk}).status_code == 200
    assert send(client_for(doctor), "patch", "/api/doctor-profile/", {"specialty": str(target.pk)}).status_code == 200
    day = next_slot(days=3).date().isoformat()
    body = {"doctor": doctor.pk, "start_date": day, "end_date": day}
    assert send(client_for(patient), "post", "/api/waitlist/", body).status_code == 201


# --- integer fields -------------------------------------------------------------------------------------


@pytest.mark.parametrize("field", ["slot_minutes", "experience_years"])
@pytest.mark.parametrize(
    "value", [30.0, 30.5, "30.5", "30.0", "3e1", True, "NaN", "inf", "1e400", 2**64, [30]], ids=repr
)
def test_doctor_profile_integer_field_that_is_not_an_integer_is_400(client_for, doctor, field, value):
    before = DoctorProfile.objects.filter(pk=doctor.pk).values(field).get()
    assert_field_error(send(client_for(doctor), "patch", "/api/doctor-profile/", {field: value}), field)
    assert DoctorProfile.objects.filter(pk=doctor.pk).values(field).get() == before


@pytest.mark.parametrize("value", [1.0, 1.5, "1.5", True, "NaN", "1e400", 2**64], ids=repr)
def test_doctor_availability_weekday_that_is_not_an_integer_is_400(client_for, doctor, value):
    body = {"weekday": value, "start_time": "09:00", "end_time": "12:00"}
    assert_field_error(send(client_for(doctor), "post", "/api/availability/", body), "weekday")
    assert not AvailabilityRule.objects.exists()


@pytest.mark.parametrize("literal", ["1e400", "-1e400", "NaN", "Infinity", "-Infinity"])
@pytest.mark.parametrize(
    ("method", "url", "field"),
    [
        ("patch", "/api/doctor-profile/", "specialty"),
        ("patch", "/api/doctor-profile/", "slot_minutes"),
        ("post", "/api/availability/", "weekday"),
        ("post", "/api/appointments/", "patient"),
        ("post", "/api/consultations/", "appointment"),
    ],
)
def test_doctor_non_finite_number_literal_is_a_parse_error(client_for, doctor, method, url, field, literal):
    r = getattr(client_for(doctor), method)(url, f'{{"{field}": {literal}}}', content_type="application/json")

    assert r.status_code == 400
    assert r.json()["detail"].startswith("JSON parse error")


@pytest.mark.parametrize("literal", ["1e400", "NaN", "Infinity"])
def test_patient_non_finite_waitlist_doctor_is_a_parse_error(client_for, patient, literal):
    r = client_for(patient).post("/api/waitlist/", f'{{"doctor": {literal}}}', content_type="application/json")

    assert r.status_code == 400
    assert r.json()["detail"].startswith("JSON parse error")


# --- query parameters -----------------------------------------------------------------------------------

BAD_NUMBERS = ["1e400", "NaN", "inf", "-inf", "62.9", "1.5", "true", "9" * 40, "0x10"]


@pytest.mark.parametrize("value", BAD_NUMBERS)
@pytest.mark.parametrize("param", ["doctor", "patient"])
def test_staff_appointment_list_with_a_non_integer_id_filter_is_400(client_for, staff, param, value):
    assert_field_error(client_for(staff).get("/api/appointments/", {param: value}), param)


@pytest.mark.parametrize("value", BAD_NUMBERS)
def test_patient_doctor_directory_with_a_non_integer_specialty_is_400(client_for, patient, doctor, value):
    assert_field_error(client_for(patient).get("/api/doctors/", {"specialty": value}), "specialty")


@pytest.mark.parametrize("value", BAD_NUMBERS)
@pytest.mark.parametrize("param", ["page", "page_size"])
@pytest.mark.parametrize("url", ["/api/doctors/", "/api/appointments/", "/api/notifications/", "/api/waitlist/"])
def test_patient_list_with_a_non_integer_page_is_never_a_500(client_for, patient, url, param, value):
    r = client_for(patient).get(url, {param: value})

    assert r.status_code in {200, 404}, (r.status_code, r.content[:300])  # a bad page is a 404, a bad size the default
    assert r["Content-Type"].startswith("application/json")


@pytest.mark.parametrize("value", ["1e400", "NaN", "62.9", "9" * 40])
@pytest.mark.parametrize(
    "url", ["/api/doctors/{}/", "/api/doctors/{}/slots/", "/api/appointments/{}/", "/api/notifications/{}/"]
)
def test_patient_path_id_that_is_not_an_integer_is_404(client_for, patient, url, value):
    r = client_for(patient).get(url.format(value), {"start": "2030-01-07", "end": "2030-01-08"})

    assert r.status_code == 404, (r.status_code, r.content[:300])
