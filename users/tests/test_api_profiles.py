import datetime as dt

import pytest
from django.utils import timezone

from users.models import DoctorProfile, PatientProfile
from users.tests.factories import DoctorFactory, PatientFactory, SpecialtyFactory

pytestmark = pytest.mark.django_db

DOCTOR_PROFILE = "/api/doctor-profile/"
PATIENT_PROFILE = "/api/patient-profile/"


def test_doctor_get_own_profile(client_for, doctor):
    response = client_for(doctor).get(DOCTOR_PROFILE)

    assert response.status_code == 200
    assert response.json() == {
        "specialty": doctor.doctor_profile.specialty_id,
        "phone_number": "",
        "experience_years": 5,
        "bio": "",
        "clinic_name": "Central Clinic",
        "clinic_address": "1 Health Street",
        "timezone": "UTC",
        "slot_minutes": 30,
        "cancellation_notice_hours": 0,
        "reschedule_notice_hours": 0,
        "consultation_fee": "0.00",
        "currency": "USD",
        "is_verified": True,
    }


def test_doctor_without_profile_post_creates_it_with_defaults(client_for):
    doctor = DoctorFactory(doctor_profile=None)
    specialty = SpecialtyFactory(name="Cardiology")
    client = client_for(doctor)

    assert client.get(DOCTOR_PROFILE).status_code == 404
    response = client.post(DOCTOR_PROFILE, {"specialty": specialty.pk, "timezone": "Africa/Lagos"})

    assert response.status_code == 201
    assert response.json()["slot_minutes"] == 30
    assert response.json()["is_verified"] is False
    profile = DoctorProfile.objects.get(user=doctor)
    assert (profile.specialty, profile.timezone) == (specialty, "Africa/Lagos")


def test_doctor_post_existing_profile_updates_it(client_for, doctor):
    response = client_for(doctor).post(DOCTOR_PROFILE, {"clinic_name": "New Clinic", "slot_minutes": 15})

    assert response.status_code == 200
    doctor.doctor_profile.refresh_from_db()
    assert (doctor.doctor_profile.clinic_name, doctor.doctor_profile.slot_minutes) == ("New Clinic", 15)
    assert doctor.doctor_profile.clinic_address == "1 Health Street"


def test_doctor_cannot_verify_themselves(client_for):
    doctor = DoctorFactory(doctor_profile__is_verified=False)

    for method in ("post", "put", "patch"):
        response = getattr(client_for(doctor), method)(DOCTOR_PROFILE, {"is_verified": True})
        assert response.status_code == 200
        assert response.json()["is_verified"] is False
    doctor.doctor_profile.refresh_from_db()
    assert doctor.doctor_profile.is_verified is False


def test_doctor_patch_and_put_profile(client_for, doctor):
    client = client_for(doctor)

    patched = client.patch(DOCTOR_PROFILE, {"timezone": "America/New_York"})
    put = client.put(DOCTOR_PROFILE, {"bio": "Cardiologist", "experience_years": 12})

    assert patched.json()["timezone"] == "America/New_York"
    assert put.status_code == 200
    assert (put.json()["bio"], put.json()["experience_years"], put.json()["timezone"]) == (
        "Cardiologist",
        12,
        "America/New_York",
    )


def test_doctor_without_profile_patch_returns_404(client_for):
    assert client_for(DoctorFactory(doctor_profile=None)).patch(DOCTOR_PROFILE, {"bio": "x"}).status_code == 404


@pytest.mark.parametrize(
    "payload",
    [
        {"timezone": "Mars/Olympus"},
        {"timezone": ""},
        {"slot_minutes": 4},
        {"slot_minutes": 241},
        {"slot_minutes": "abc"},
        {"experience_years": -1},
        {"specialty": 999999},
        {"specialty": "cardiology"},
        {"clinic_name": "x" * 201},
        {"timezone": ["UTC"]},
        {"timezone": "localtime"},
        {"timezone": "posixrules"},
        {"timezone": "Europe/Lon\x00don"},
        {"clinic_name": 42},
        {"clinic_address": {"street": "1 Main"}},
        {"bio": "x" * 5001},
        {"phone_number": None},
    ],
)
def test_doctor_profile_bad_input_returns_400(client_for, doctor, payload):
    for method in ("post", "patch"):
        assert getattr(client_for(doctor), method)(DOCTOR_PROFILE, payload, format="json").status_code == 400


@pytest.mark.parametrize("method", ["get", "post", "put", "patch"])
def test_doctor_profile_permission_matrix(client_for, patient, staff, method):
    assert getattr(client_for(None), method)(DOCTOR_PROFILE, {}).status_code == 401
    assert getattr(client_for(patient), method)(DOCTOR_PROFILE, {}).status_code == 403
    assert getattr(client_for(staff), method)(DOCTOR_PROFILE, {}).status_code == 403


def test_doctor_profile_delete_not_allowed(client_for, doctor):
    assert client_for(doctor).delete(DOCTOR_PROFILE).status_code == 405


def test_patient_get_and_update_own_profile(client_for, patient):
    client = client_for(patient)

    created = client.get(PATIENT_PROFILE)
    posted = client.post(PATIENT_PROFILE, {"date_of_birth": "1990-05-17", "address": "2 Road"})
    patched = client.patch(PATIENT_PROFILE, {"emergency_contact_name": "Mum", "emergency_contact_phone": "+1 555"})

    assert created.status_code == 200
    assert posted.status_code == 200
    assert patched.json() == {
        "date_of_birth": "1990-05-17",
        "address": "2 Road",
        "emergency_contact_name": "Mum",
        "emergency_contact_phone": "+1 555",
    }


def test_patient_without_profile_post_creates_it(client_for):
    patient = PatientFactory(patient_profile=None)

    response = client_for(patient).post(PATIENT_PROFILE, {"address": "3 Lane"})

    assert response.status_code == 201
    assert PatientProfile.objects.get(user=patient).address == "3 Lane"


@pytest.mark.parametrize("date_of_birth", ["tomorrow", "1850-01-01", "17/05/1990", "2020-02-30", 19900517])
def test_patient_profile_bad_date_of_birth_returns_400(client_for, patient, date_of_birth):
    # "tomorrow" is resolved when the test runs, not at collection: a run that crosses midnight stays right.
    if date_of_birth == "tomorrow":
        date_of_birth = (timezone.localdate() + dt.timedelta(days=1)).isoformat()
    response = client_for(patient).patch(PATIENT_PROFILE, {"date_of_birth": date_of_birth}, format="json")

    assert response.status_code == 400
    assert "date_of_birth" in response.json()


@pytest.mark.parametrize("method", ["get", "post", "put", "patch"])
def test_patient_profile_permission_matrix(client_for, doctor, staff, method):
    assert getattr(client_for(None), method)(PATIENT_PROFILE, {}).status_code == 401
    assert getattr(client_for(doctor), method)(PATIENT_PROFILE, {}).status_code == 403
    assert getattr(client_for(staff), method)(PATIENT_PROFILE, {}).status_code == 403


@pytest.mark.parametrize(
    "payload",
    [{"address": 12}, {"emergency_contact_name": ["Ann"]}, {"emergency_contact_phone": "0\x00"}, {"address": None}],
)
def test_patient_profile_wrong_types_return_400(client_for, patient, payload):
    for method in ("post", "patch", "put"):
        response = getattr(client_for(patient), method)(PATIENT_PROFILE, payload, format="json")
        assert response.status_code == 400
        assert set(response.json()) == set(payload)


def test_patient_profile_garbage_json_returns_400(client_for, patient):
    response = client_for(patient).patch(PATIENT_PROFILE, data="[[[", content_type="application/json")

    assert response.status_code == 400
