"""The directory's cached count (users.directory_count): served from the cache, never stale after a change."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from users import directory_count
from users.tests.factories import DoctorFactory, SpecialtyFactory

pytestmark = pytest.mark.django_db

DOCTORS = "/api/doctors/"


def count_queries(client, path: str) -> tuple[int, int]:
    """The response's `count` and how many COUNT(*) statements answering it took."""
    with CaptureQueriesContext(connection) as queries:
        body = client.get(path).json()
    return body["count"], sum("COUNT(*)" in q["sql"] for q in queries.captured_queries)


def test_whole_directory_count_is_counted_once_then_cached(client_for, patient):
    DoctorFactory.create_batch(3)
    client = client_for(patient)

    assert count_queries(client, DOCTORS) == (3, 1)
    assert count_queries(client, DOCTORS) == (3, 0)
    assert count_queries(client, f"{DOCTORS}?page_size=2&page=2") == (3, 0)


def test_searched_or_otherwise_filtered_directory_is_always_counted(client_for, patient):
    cardiology = SpecialtyFactory(name="Cardiology")
    DoctorFactory(doctor_profile__specialty=cardiology, last_name="Heart")
    DoctorFactory()
    client = client_for(patient)
    client.get(DOCTORS)
    client.get(f"{DOCTORS}?specialty={cardiology.pk}")

    assert count_queries(client, f"{DOCTORS}?search=Heart") == (1, 1)
    assert count_queries(client, f"{DOCTORS}?unknown=1") == (2, 1)
    assert count_queries(client, f"{DOCTORS}?specialty={cardiology.pk}&search=Heart") == (1, 1)
    assert count_queries(client, f"{DOCTORS}?specialty={cardiology.pk}&ordering=last_name") == (1, 1)


def test_each_specialtys_count_is_counted_once_then_cached(client_for, patient):
    cardiology, dermatology = SpecialtyFactory(name="Cardiology"), SpecialtyFactory(name="Dermatology")
    DoctorFactory.create_batch(2, doctor_profile__specialty=cardiology)
    DoctorFactory(doctor_profile__specialty=dermatology)
    client = client_for(patient)

    assert count_queries(client, f"{DOCTORS}?specialty={cardiology.pk}") == (2, 1)
    assert count_queries(client, f"{DOCTORS}?specialty={cardiology.pk}&page_size=1&page=2") == (2, 0)
    assert count_queries(client, f"{DOCTORS}?specialty={dermatology.pk}") == (1, 1)
    assert count_queries(client, f"{DOCTORS}?specialty={dermatology.pk}") == (1, 0)
    assert count_queries(client, DOCTORS) == (3, 1)


def test_a_change_of_specialty_shows_in_both_counts_at_once(client_for, patient):
    cardiology, dermatology = SpecialtyFactory(name="Cardiology"), SpecialtyFactory(name="Dermatology")
    moving = DoctorFactory(doctor_profile__specialty=cardiology)
    DoctorFactory(doctor_profile__specialty=dermatology)
    client = client_for(patient)
    assert client.get(f"{DOCTORS}?specialty={cardiology.pk}").json()["count"] == 1
    assert client.get(f"{DOCTORS}?specialty={dermatology.pk}").json()["count"] == 1

    moving.doctor_profile.specialty = dermatology
    moving.doctor_profile.save(update_fields=["specialty"])

    assert client.get(f"{DOCTORS}?specialty={cardiology.pk}").json()["count"] == 0
    assert client.get(f"{DOCTORS}?specialty={dermatology.pk}").json()["count"] == 2


def test_an_unknown_specialty_is_still_a_400(client_for, patient):
    client = client_for(patient)
    assert client.get(f"{DOCTORS}?specialty=999999").status_code == 400
    assert client.get(f"{DOCTORS}?specialty=abc").status_code == 400


@pytest.mark.parametrize(
    "change",
    [
        pytest.param(lambda doctor: DoctorFactory(), id="new verified doctor"),
        pytest.param(lambda doctor: setattr(doctor, "is_active", False) or doctor.save(), id="deactivated"),
        pytest.param(
            lambda doctor: setattr(doctor.doctor_profile, "is_verified", False) or doctor.doctor_profile.save(),
            id="unverified",
        ),
        pytest.param(lambda doctor: doctor.doctor_profile.delete(), id="profile deleted"),
        pytest.param(lambda doctor: doctor.delete(), id="user deleted"),
    ],
)
def test_count_follows_every_change_at_once(client_for, patient, doctor, change):
    client = client_for(patient)
    before = client.get(DOCTORS).json()["count"]

    change(doctor)

    after = client.get(DOCTORS).json()
    assert after["count"] == len(after["results"]) != before


def test_verifying_through_the_api_shows_in_the_count(client_for, patient, staff):
    pending = DoctorFactory(doctor_profile__is_verified=False)
    client = client_for(patient)
    assert client.get(DOCTORS).json()["count"] == 0

    assert client_for(staff).post(f"{DOCTORS}{pending.pk}/verify/").status_code == 200

    assert client.get(DOCTORS).json()["count"] == 1


def test_a_save_of_other_fields_keeps_the_cached_count(client_for, patient, doctor):
    client = client_for(patient)
    client.get(DOCTORS)

    doctor.save(update_fields=["last_login"])

    assert count_queries(client, DOCTORS) == (1, 0)


def test_a_count_taken_while_a_change_commits_is_not_served_after_it():
    def count_while_a_change_commits() -> int:
        directory_count._new_version()  # what the change's commit does, between our version read and our count
        return 41

    assert directory_count.cached_count(count_while_a_change_commits) == 41
    assert directory_count.cached_count(lambda: 42) == 42
    assert directory_count.cached_count(lambda: 43) == 42


def test_the_verification_setting_has_its_own_count(client_for, patient, doctor, settings):
    DoctorFactory(doctor_profile__is_verified=False)
    client = client_for(patient)
    assert client.get(DOCTORS).json()["count"] == 1

    settings.DOCTOR_VERIFICATION_REQUIRED = False

    assert client.get(DOCTORS).json()["count"] == 2
