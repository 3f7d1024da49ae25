"""API3:2023 Broken object property level authorization: privileged fields sent by a client are never applied.

Every test sends the field an attacker wants to set; the API may ignore it (2xx) or refuse it (400), but the
stored value must not change. Responses must not expose secrets such as password hashes.
"""

import pytest

from appointments.choices import Status
from appointments.models import Appointment, AppointmentNote
from appointments.tests.factories import AppointmentFactory, AvailabilityRuleFactory, next_slot
from consultations.models import Consultation
from consultations.tests.factories import ConsultationFactory
from notifications.choices import Kind
from notifications.tests.factories import NotificationFactory
from users.models import User

pytestmark = pytest.mark.django_db


def assert_ignored_or_rejected(r) -> None:
    assert r.status_code in (200, 201, 204, 400), (r.status_code, r.content[:300])


def register(api_client, **extra):
    body = {
        "email": "mallory@example.com",
        "password": "Very-long-passphrase-42",
        "first_name": "Mal",
        "last_name": "Lory",
        "role": "patient",
    }
    return api_client.post("/api/auth/register/", {**body, **extra}, format="json")


@pytest.mark.parametrize(
    "extra",
    [
        {"is_staff": True},
        {"is_superuser": True},
        {"is_active": True},
        {"role": "admin"},
        {"role": ""},
        {"date_joined": "2000-01-01T00:00:00Z"},
        {"groups": [1], "user_permissions": [1]},
    ],
)
def test_registration_cannot_grant_privileges(api_client, extra):
    r = register(api_client, **extra)
    assert_ignored_or_rejected(r)
    user = User.objects.filter(email="mallory@example.com").first()
    if user is not None:
        assert (user.is_staff, user.is_superuser, user.role) == (False, False, "patient")
        assert not user.user_permissions.exists()
        assert not user.groups.exists()
        assert user.date_joined.year != 2000


def test_registration_cannot_skip_activation(api_client, settings):
    settings.ACCOUNT_ACTIVATION_REQUIRED = True
    assert register(api_client, is_active=True).status_code == 201
    assert User.objects.get(email="mallory@example.com").is_active is False


def test_registration_response_exposes_no_password_hash(api_client):
    r = register(api_client)
    assert r.status_code == 201
    assert "password" not in r.json()
    assert "argon2" not in r.content.decode()
    assert "md5$" not in r.content.decode()


@pytest.mark.parametrize("field", ["role", "is_staff", "is_superuser", "email", "id", "date_joined", "password"])
def test_me_patch_cannot_change_protected_account_fields(bearer, patient, field):
    before = User.objects.values().get(pk=patient.pk)
    value = {
        "role": "doctor",
        "is_staff": True,
        "is_superuser": True,
        "email": "takeover@example.com",
        "id": 999999,
        "date_joined": "2000-01-01T00:00:00Z",
        "password": "plain-text-password",
    }[field]
    r = bearer(patient).patch("/api/auth/me/", {field: value, "first_name": "Renamed"}, format="json")
    assert_ignored_or_rejected(r)
    after = User.objects.values().get(pk=patient.pk)
    assert {k: after[k] for k in ("role", "is_staff", "is_superuser", "email", "id", "date_joined", "password")} == {
        k: before[k] for k in ("role", "is_staff", "is_superuser", "email", "id", "date_joined", "password")
    }


def test_me_response_exposes_no_password_hash(bearer, patient):
    body = bearer(patient).get("/api/auth/me/").json()
    assert "password" not in body
    assert not {"is_superuser", "user_permissions", "groups"} & set(body)


def test_doctor_cannot_self_verify_through_profile(bearer, settings):
    from users.tests.factories import DoctorFactory

    unverified = DoctorFactory(doctor_profile__is_verified=False)
    client = bearer(unverified)
    for method in ("patch", "put", "post"):
        r = getattr(client, method)("/api/doctor-profile/", {"is_verified": True, "slot_minutes": 30}, format="json")
        assert_ignored_or_rejected(r)
    unverified.doctor_profile.refresh_from_db()
    assert unverified.doctor_profile.is_verified is False


def test_doctor_profile_cannot_be_moved_to_another_user(bearer, doctor, other_doctor):
    r = bearer(doctor).patch("/api/doctor-profile/", {"user": other_doctor.pk, "clinic_name": "Mine"}, format="json")
    assert_ignored_or_rejected(r)
    other_doctor.doctor_profile.refresh_from_db()
    assert other_doctor.doctor_profile.clinic_name == "Central Clinic"


# --- appointments ------------------------------------------------------------------------------------


@pytest.fixture
def bookable_doctor(doctor):
    for weekday in range(7):
        AvailabilityRuleFactory(doctor=doctor, weekday=weekday)
    return doctor


@pytest.mark.parametrize(
    "extra",
    [
        {"status": "confirmed"},
        {"status": "completed"},
        {"patient": "VICTIM"},
        {"created_by": "VICTIM"},
        {"end": "LONG"},
        {"location": "attacker's place"},
        {"referred_from": 1},
    ],
)
def test_patient_booking_cannot_set_privileged_fields(bearer, patient, other_patient, bookable_doctor, extra):
    start = next_slot(days=2)
    extra = {
        k: (other_patient.pk if v == "VICTIM" else (start.replace(hour=16).isoformat() if v == "LONG" else v))
        for k, v in extra.items()
    }
    body = {"doctor": bookable_doctor.pk, "start": start.isoformat(), "reason_for_visit": "cough", **extra}
    r = bearer(patient).post("/api/appointments/", body, format="json")
    assert_ignored_or_rejected(r)
    for appointment in Appointment.objects.all():
        assert appointment.patient_id == patient.pk
        assert appointment.created_by_id == patient.pk
        assert appointment.status == Status.PENDING
        assert (appointment.end - appointment.start).total_seconds() == 30 * 60
        assert appointment.location == ""
        assert appointment.referred_from_id is None


@pytest.mark.parametrize(
    ("actor", "field", "value"),
    [
        ("patient", "status", "confirmed"),
        ("patient", "doctor", "OTHER_DOCTOR"),
        ("patient", "patient", "OTHER_PATIENT"),
        ("patient", "start", "LATER"),
        ("patient", "end", "LATER"),
        ("patient", "location", "attacker's place"),
        ("doctor", "status", "completed"),
        ("doctor", "patient", "OTHER_PATIENT"),
        ("doctor", "start", "LATER"),
        ("doctor", "reason_for_visit", "rewritten by doctor"),
        ("doctor", "created_by", "OTHER_PATIENT"),
    ],
)
def test_participant_patch_cannot_change_protected_appointment_fields(
    request, bearer, patient, doctor, other_patient, other_doctor, actor, field, value
):
    appointment = AppointmentFactory(patient=patient, doctor=doctor, start=next_slot(days=3), status=Status.PENDING)
    value = {
        "OTHER_DOCTOR": other_doctor.pk,
        "OTHER_PATIENT": other_patient.pk,
        "LATER": next_slot(days=5).isoformat(),
    }.get(value, value)
    before = Appointment.objects.values().get(pk=appointment.pk)
    r = bearer(request.getfixturevalue(actor)).patch(
        f"/api/appointments/{appointment.pk}/", {field: value}, format="json"
    )
    assert_ignored_or_rejected(r)
    after = Appointment.objects.values().get(pk=appointment.pk)
    before.pop("updated_at"), after.pop("updated_at")
    assert after == before


def test_note_author_cannot_be_forged(bearer, patient, doctor):
    appointment = AppointmentFactory(patient=patient, doctor=doctor, start=next_slot(days=3))
    r = bearer(patient).post(
        f"/api/appointments/{appointment.pk}/notes/", {"text": "hello", "author": doctor.pk}, format="json"
    )
    assert_ignored_or_rejected(r)
    assert set(AppointmentNote.objects.values_list("author_id", flat=True)) <= {patient.pk}


# --- consultations -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "value"),
    [("doctor", "OTHER_DOCTOR"), ("patient", "OTHER_PATIENT"), ("appointment", "OTHER_APPOINTMENT"), ("id", 99999)],
)
def test_consultation_amendment_cannot_reassign_record(bearer, doctor, other_doctor, other_patient, field, value):
    consultation = ConsultationFactory(appointment__doctor=doctor)
    other_appointment = AppointmentFactory(doctor=doctor, patient=other_patient, start=next_slot(days=9))
    value = {
        "OTHER_DOCTOR": other_doctor.pk,
        "OTHER_PATIENT": other_patient.pk,
        "OTHER_APPOINTMENT": other_appointment.pk,
    }.get(value, value)
    for method in ("patch", "put"):
        r = getattr(bearer(doctor), method)(
            f"/api/consultations/{consultation.pk}/", {field: value, "treatment_plan": "amended"}, format="json"
        )
        assert_ignored_or_rejected(r)
    stored = Consultation.objects.get(pk=consultation.pk)
    assert (stored.doctor_id, stored.patient_id, stored.appointment_id) == (
        consultation.doctor_id,
        consultation.patient_id,
        consultation.appointment_id,
    )


def test_consultation_create_cannot_forge_doctor_or_patient(bearer, doctor, other_doctor, other_patient, patient):
    appointment = AppointmentFactory(doctor=doctor, patient=patient, start=next_slot(days=-1), status=Status.COMPLETED)
    r = bearer(doctor).post(
        "/api/consultations/",
        {"appointment": appointment.pk, "doctor": other_doctor.pk, "patient": other_patient.pk, "treatment_plan": "x"},
        format="json",
    )
    assert_ignored_or_rejected(r)
    for stored in Consultation.objects.all():
        assert (stored.doctor_id, stored.patient_id) == (doctor.pk, patient.pk)


# --- notifications -----------------------------------------------------------------------------------


def test_notification_preferences_cannot_target_another_user(bearer, patient, other_patient):
    r = bearer(patient).patch(
        "/api/notifications/preferences/", {"user": other_patient.pk, "email_enabled": False}, format="json"
    )
    assert_ignored_or_rejected(r)
    other = bearer(other_patient).get("/api/notifications/preferences/").json()
    assert other["email_enabled"] is True


def test_waitlist_entry_cannot_be_created_for_another_patient(bearer, patient, other_patient, doctor):
    start = next_slot(days=1).date()
    r = bearer(patient).post(
        "/api/waitlist/",
        {"doctor": doctor.pk, "patient": other_patient.pk, "start_date": str(start), "end_date": str(start)},
        format="json",
    )
    assert_ignored_or_rejected(r)
    assert not other_patient.waitlist_entries.exists()


def test_notification_read_cannot_rewrite_content(bearer, patient):
    note = NotificationFactory(user=patient, kind=Kind.REMINDER, title="Reminder", message="Tomorrow")
    r = bearer(patient).post(f"/api/notifications/{note.pk}/read/", {"title": "Forged", "user": 1}, format="json")
    assert r.status_code == 200
    note.refresh_from_db()
    assert (note.title, note.user_id, note.is_read) == ("Reminder", patient.pk, True)


# --- excessive data exposure (the other half of API3) ------------------------------------------------

SECRET_USER_FIELDS = {"password", "email", "is_staff", "is_superuser", "last_login", "phone_number"}


def test_doctor_directory_exposes_only_public_profile_fields(bearer, patient, doctor):
    rows = bearer(patient).get("/api/doctors/").json()["results"]
    assert [row["id"] for row in rows] == [doctor.pk]
    assert not SECRET_USER_FIELDS & set(rows[0])
    detail = bearer(patient).get(f"/api/doctors/{doctor.pk}/").json()
    assert not SECRET_USER_FIELDS & set(detail)


def test_appointment_shows_the_other_party_by_name_only(bearer, patient, doctor):
    appointment = AppointmentFactory(patient=patient, doctor=doctor, start=next_slot(days=3))
    for viewer in (patient, doctor):
        body = bearer(viewer).get(f"/api/appointments/{appointment.pk}/").json()
        assert set(body["patient"]) == {"id", "first_name", "last_name"}
        assert not SECRET_USER_FIELDS & set(body["doctor"])


def test_doctor_patient_list_exposes_no_credentials(bearer, patient, doctor):
    AppointmentFactory(patient=patient, doctor=doctor, start=next_slot(days=3))
    rows = bearer(doctor).get("/api/patients/").json()["results"]
    assert [row["id"] for row in rows] == [patient.pk]
    assert not {"password", "is_staff", "is_superuser", "last_login"} & set(rows[0])


def test_unverified_doctor_and_non_doctor_ids_hidden_from_directory(bearer, patient, other_patient):
    from users.tests.factories import DoctorFactory

    unverified = DoctorFactory(doctor_profile__is_verified=False)
    client = bearer(patient)
    for hidden in (unverified, other_patient):
        assert client.get(f"/api/doctors/{hidden.pk}/").status_code == 404
    assert unverified.pk not in [row["id"] for row in client.get("/api/doctors/").json()["results"]]
