"""Phone numbers are E.164: validated on input, stored and shown as +<country><number>; old free text migrated."""

import importlib

import pytest
from django.db import connection
from django.db.migrations.loader import MigrationLoader

from users.tests.factories import DoctorFactory, PatientFactory

pytestmark = pytest.mark.django_db

migration = importlib.import_module("users.migrations.0005_phone_numbers_e164")


@pytest.mark.parametrize(
    ("sent", "stored"),
    [
        ("+44 20 7183 8750", "+442071838750"),
        ("+442071838750", "+442071838750"),
        ("+1 (650) 253-0000", "+16502530000"),
        ("", ""),
    ],
)
def test_patient_sets_phone_number_stored_as_e164(client_for, patient, sent, stored):
    r = client_for(patient).patch("/api/auth/me/", {"phone_number": sent}, format="json")

    assert (r.status_code, r.json()["phone_number"]) == (200, stored)
    patient.refresh_from_db()
    assert str(patient.phone_number) == stored


@pytest.mark.parametrize("sent", ["020 7183 8750", "12345", "+44 20", "call me", "+999123456789", 442071838750, None])
def test_patient_sets_invalid_phone_number_gets_400(client_for, patient, sent):
    r = client_for(patient).patch("/api/auth/me/", {"phone_number": sent}, format="json")

    assert r.status_code == 400
    assert "phone_number" in r.json()


def test_national_number_accepted_when_a_default_region_is_set(client_for, patient, settings):
    settings.PHONENUMBER_DEFAULT_REGION = "GB"

    r = client_for(patient).patch("/api/auth/me/", {"phone_number": "020 7183 8750"}, format="json")

    assert (r.status_code, r.json()["phone_number"]) == (200, "+442071838750")


def test_anonymous_register_with_invalid_phone_gets_400(api_client):
    body = {
        "email": "a@example.com",
        "password": "Str0ng-test-passphrase!",
        "first_name": "A",
        "last_name": "B",
        "role": "patient",
        "phone_number": "555-1234",
    }

    r = api_client.post("/api/auth/register/", body, format="json")

    assert (r.status_code, list(r.json())) == (400, ["phone_number"])


def test_doctor_profile_phone_number_is_e164(client_for, doctor):
    r = client_for(doctor).patch("/api/doctor-profile/", {"phone_number": "+234 803 123 4567"}, format="json")

    assert (r.status_code, r.json()["phone_number"]) == (200, "+2348031234567")


@pytest.mark.parametrize(
    ("old", "region", "new"),
    [
        ("+44 20 7183 8750", None, "+442071838750"),
        ("+442071838750", None, "+442071838750"),
        ("020 7183 8750", None, ""),
        ("020 7183 8750", "GB", "+442071838750"),
        ("ask reception", "GB", ""),
        ("123", None, ""),
        ("+1 555", None, ""),
    ],
)
def test_migration_keeps_valid_numbers_in_e164_and_blanks_the_rest(old, region, new):
    assert migration.e164_or_blank(old, region) == new


def test_migration_rewrites_stored_numbers(settings):
    settings.PHONENUMBER_DEFAULT_REGION = "GB"
    kept, national, junk = PatientFactory(), PatientFactory(), PatientFactory()
    doctor = DoctorFactory()
    # Old free-text values, written and read back as raw text: the field would convert them on the way.
    raw = {kept.pk: "+44 20 7183 8750", national.pk: "020 7183 8750", junk.pk: "mornings only"}
    with connection.cursor() as cursor:
        for pk, value in raw.items():
            cursor.execute("UPDATE users_user SET phone_number = %s WHERE id = %s", [value, pk])
        cursor.execute(
            "UPDATE users_doctorprofile SET phone_number = %s WHERE user_id = %s", ["+1 650 253 0000 ext", doctor.pk]
        )
    # The models as the migration sees them: before its AlterFields, the columns are still CharFields.
    before = MigrationLoader(connection).project_state(("users", "0004_doctorprofile_booking_policies_and_fee"))

    migration.normalise(before.apps, None)

    with connection.cursor() as cursor:
        cursor.execute("SELECT id, phone_number FROM users_user WHERE id IN (%s, %s, %s)", list(raw))
        phones = dict(cursor.fetchall())
        cursor.execute("SELECT phone_number FROM users_doctorprofile WHERE user_id = %s", [doctor.pk])
        doctor_phone = cursor.fetchone()[0]
    assert phones == {kept.pk: "+442071838750", national.pk: "+442071838750", junk.pk: ""}
    assert doctor_phone == ""


def test_migration_rewrites_before_the_columns_become_phone_number_fields():
    # After the AlterFields the historical model reads PhoneNumber objects, which compare equal to their E.164
    # form, so a rewrite placed there would silently keep "020 7183 8750" as it was.
    kinds = [type(operation).__name__ for operation in migration.Migration.operations]
    assert kinds == ["RunPython", "AlterField", "AlterField"]
