import pytest
from django.core.files.base import ContentFile

from users.tests.factories import DoctorFactory, SpecialtyFactory
from users.tests.test_pictures import image_bytes

pytestmark = pytest.mark.django_db

DOCTORS = "/api/doctors/"
SPECIALTIES = "/api/specialties/"


def ids(response) -> list[int]:
    return [item["id"] for item in response.json()["results"]]


# --- Specialties ------------------------------------------------------------------------------------


def test_user_list_specialties_paginated_by_name(client_for, patient):
    SpecialtyFactory(name="Pediatrics")
    SpecialtyFactory(name="Cardiology")

    response = client_for(patient).get(SPECIALTIES)

    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"count", "next", "previous", "results"}
    assert [s["name"] for s in body["results"]] == ["Cardiology", "Pediatrics"]
    assert set(body["results"][0]) == {"id", "name"}


def test_anonymous_list_specialties_returns_401(api_client):
    assert api_client.get(SPECIALTIES).status_code == 401


def test_specialties_list_query_count(client_for, patient, django_assert_max_num_queries):
    for n in range(15):
        SpecialtyFactory(name=f"Specialty {n:02d}")

    with django_assert_max_num_queries(3):
        response = client_for(patient).get(SPECIALTIES)

    assert response.json()["count"] == 15


# --- Doctors ----------------------------------------------------------------------------------------


def test_user_list_doctors_shows_only_visible_doctors(client_for, patient, doctor):
    hidden_unverified = DoctorFactory(doctor_profile__is_verified=False)
    hidden_inactive = DoctorFactory(is_active=False)

    response = client_for(patient).get(DOCTORS)

    assert response.status_code == 200
    assert ids(response) == [doctor.pk]
    assert hidden_unverified.pk not in ids(response)
    assert hidden_inactive.pk not in ids(response)
    item = response.json()["results"][0]
    assert item == {
        "id": doctor.pk,
        "first_name": doctor.first_name,
        "last_name": doctor.last_name,
        "specialty": {"id": doctor.doctor_profile.specialty_id, "name": "General Practice"},
        "experience_years": 5,
        "clinic_name": "Central Clinic",
        "clinic_address": "1 Health Street",
        "bio": "",
        "profile_picture": None,
    }


@pytest.mark.parametrize("verification_required", [True, False])
def test_user_list_doctors_hides_doctor_without_profile(client_for, patient, doctor, settings, verification_required):
    settings.DOCTOR_VERIFICATION_REQUIRED = verification_required
    without_profile = DoctorFactory(doctor_profile=None)

    assert ids(client_for(patient).get(DOCTORS)) == [doctor.pk]
    assert client_for(patient).get(f"{DOCTORS}{without_profile.pk}/").status_code == 404


def test_directory_query_keeps_the_profile_join_outer():
    # users.selectors.doctor_list_visible: an inner join made PostgreSQL expect 1 % of the doctors and sort
    # them all for one page (bench/README.md, issue 19). A plain `doctor_profile__is_verified=True` filter
    # would turn the join back into an inner one.
    from users.selectors import doctor_list_visible

    sql = str(doctor_list_visible().query)

    assert "LEFT OUTER JOIN" in sql
    assert "INNER JOIN" not in sql


def test_user_list_doctors_includes_unverified_when_verification_off(client_for, patient, settings):
    settings.DOCTOR_VERIFICATION_REQUIRED = False
    unverified = DoctorFactory(doctor_profile__is_verified=False)

    assert unverified.pk in ids(client_for(patient).get(DOCTORS))


def test_user_filter_doctors_by_specialty_and_search(client_for, patient):
    cardio = SpecialtyFactory(name="Cardiology")
    ada = DoctorFactory(first_name="Ada", last_name="Lovelace", doctor_profile__specialty=cardio)
    DoctorFactory(first_name="Alan", last_name="Turing")
    client = client_for(patient)

    assert ids(client.get(DOCTORS, {"specialty": cardio.pk})) == [ada.pk]
    assert ids(client.get(DOCTORS, {"search": "lovel"})) == [ada.pk]
    assert ids(client.get(DOCTORS, {"search": "ada"})) == [ada.pk]
    assert client.get(DOCTORS, {"specialty": 999999}).status_code == 400
    assert client.get(DOCTORS, {"specialty": "abc"}).status_code == 400


def test_user_order_doctors(client_for, patient):
    a = DoctorFactory(last_name="Adams", first_name="Zed", doctor_profile__experience_years=20)
    b = DoctorFactory(last_name="Brown", first_name="Amy", doctor_profile__experience_years=1)
    c = DoctorFactory(last_name="Clark", first_name="Max", doctor_profile__experience_years=9)
    client = client_for(patient)

    assert ids(client.get(DOCTORS)) == [a.pk, b.pk, c.pk]
    assert ids(client.get(DOCTORS, {"ordering": "-last_name"})) == [c.pk, b.pk, a.pk]
    assert ids(client.get(DOCTORS, {"ordering": "first_name"})) == [b.pk, c.pk, a.pk]
    assert ids(client.get(DOCTORS, {"ordering": "-experience_years"})) == [a.pk, c.pk, b.pk]
    assert client.get(DOCTORS, {"ordering": "password"}).status_code == 400


def test_user_order_doctors_by_equal_values_pages_without_overlap(client_for, patient):
    # Created in reverse name order, so insertion order cannot pass for the tie-breaker.
    doctors = [DoctorFactory(last_name=name, first_name="Sam", doctor_profile__experience_years=5) for name in "EDCBA"]
    client = client_for(patient)

    pages = [ids(client.get(DOCTORS, {"ordering": "experience_years", "page_size": 2, "page": n})) for n in (1, 2, 3)]

    assert sum(pages, []) == [d.pk for d in reversed(doctors)]


@pytest.mark.parametrize("ordering", [",", ",,,", ""])
def test_user_order_doctors_by_empty_value_keeps_default_order(client_for, patient, ordering):
    b = DoctorFactory(last_name="Brown")
    a = DoctorFactory(last_name="Adams")

    r = client_for(patient).get(DOCTORS, {"ordering": ordering})

    assert r.status_code == 200
    assert ids(r) == [a.pk, b.pk]


def test_user_retrieve_visible_doctor(client_for, patient, doctor):
    hidden = DoctorFactory(doctor_profile__is_verified=False)
    client = client_for(patient)

    assert client.get(f"{DOCTORS}{doctor.pk}/").json()["id"] == doctor.pk
    assert client.get(f"{DOCTORS}{hidden.pk}/").status_code == 404
    assert client.get(f"{DOCTORS}{patient.pk}/").status_code == 404
    assert client.get(f"{DOCTORS}abc/").status_code == 404


def test_anonymous_list_doctors_returns_401(api_client):
    assert api_client.get(DOCTORS).status_code == 401


def test_doctor_picture_is_absolute_url(client_for, patient, doctor):
    doctor.profile_picture.save("x.png", ContentFile(image_bytes("PNG")), save=True)

    item = client_for(patient).get(f"{DOCTORS}{doctor.pk}/").json()

    assert item["profile_picture"].startswith("http://testserver/media/")


def test_doctors_list_query_count(client_for, patient, django_assert_max_num_queries):
    for n in range(15):
        DoctorFactory(doctor_profile__specialty=SpecialtyFactory(name=f"S{n}"))

    with django_assert_max_num_queries(3):
        response = client_for(patient).get(DOCTORS)

    assert response.json()["count"] == 15


def test_staff_verify_unverified_doctor(client_for, staff, patient):
    pending = DoctorFactory(doctor_profile__is_verified=False)

    response = client_for(staff).post(f"{DOCTORS}{pending.pk}/verify/")

    assert response.status_code == 200
    assert response.json()["id"] == pending.pk
    pending.doctor_profile.refresh_from_db()
    assert pending.doctor_profile.is_verified
    assert pending.pk in ids(client_for(patient).get(DOCTORS))


def test_verify_permission_matrix(client_for, patient, doctor, staff):
    pending = DoctorFactory(doctor_profile__is_verified=False)
    url = f"{DOCTORS}{pending.pk}/verify/"

    assert client_for(None).post(url).status_code == 401
    assert client_for(patient).post(url).status_code == 403
    assert client_for(pending).post(url).status_code == 403
    assert client_for(doctor).post(url).status_code == 403
    assert client_for(staff).post(f"{DOCTORS}{patient.pk}/verify/").status_code == 404
    assert client_for(staff).get(url).status_code == 405
    pending.doctor_profile.refresh_from_db()
    assert not pending.doctor_profile.is_verified


def test_doctor_slots_path_is_not_swallowed_by_directory_router(client_for, patient, doctor):
    response = client_for(patient).get(f"{DOCTORS}{doctor.pk}/slots/", {"start": "2030-01-01", "end": "2030-01-02"})

    # The appointments app owns this path; the directory router must not answer it with its own 404/405.
    assert response.status_code == 200
    assert isinstance(response.json(), list)
