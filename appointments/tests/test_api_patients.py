import pytest

from appointments.choices import Status
from appointments.tests.factories import AppointmentFactory, next_slot
from users.tests.factories import PatientFactory

pytestmark = pytest.mark.django_db

PATIENTS = "/api/patients/"


def ids(response) -> list[int]:
    return [item["id"] for item in response.json()["results"]]


def test_doctor_lists_only_own_patients(client_for, doctor, other_doctor):
    mine_pending = PatientFactory()
    mine_cancelled = PatientFactory()
    theirs = PatientFactory()
    AppointmentFactory(doctor=doctor, patient=mine_pending)
    AppointmentFactory(doctor=doctor, patient=mine_pending, start=next_slot(days=3), status=Status.COMPLETED)
    AppointmentFactory(doctor=doctor, patient=mine_cancelled, status=Status.CANCELLED)
    AppointmentFactory(doctor=other_doctor, patient=theirs)

    response = client_for(doctor).get(PATIENTS)

    assert response.status_code == 200
    assert sorted(ids(response)) == sorted([mine_pending.pk, mine_cancelled.pk])
    assert response.json()["count"] == 2  # distinct, though one patient has two appointments


def test_doctor_retrieve_patient_scoping(client_for, doctor, other_doctor):
    mine = PatientFactory(patient_profile__date_of_birth="1980-01-02", gender="male")
    theirs = PatientFactory()
    AppointmentFactory(doctor=doctor, patient=mine)
    AppointmentFactory(doctor=other_doctor, patient=theirs)
    client = client_for(doctor)

    response = client.get(f"{PATIENTS}{mine.pk}/")

    assert response.status_code == 200
    assert response.json() == {
        "id": mine.pk,
        "email": mine.email,
        "first_name": mine.first_name,
        "last_name": mine.last_name,
        "gender": "male",
        "phone_number": "",
        "profile_picture": None,
        "date_of_birth": "1980-01-02",
    }
    assert client.get(f"{PATIENTS}{theirs.pk}/").status_code == 404
    assert client.get(f"{PATIENTS}{doctor.pk}/").status_code == 404


def test_staff_sees_all_patients(client_for, staff, doctor):
    patients = PatientFactory.create_batch(3)
    no_profile = PatientFactory(patient_profile=None)

    response = client_for(staff).get(PATIENTS)

    assert sorted(ids(response)) == sorted([p.pk for p in [*patients, no_profile]])
    assert client_for(staff).get(f"{PATIENTS}{no_profile.pk}/").json()["date_of_birth"] is None
    assert client_for(staff).get(f"{PATIENTS}{doctor.pk}/").status_code == 404


def test_patients_permission_matrix(client_for, patient, doctor):
    AppointmentFactory(doctor=doctor, patient=patient)

    assert client_for(None).get(PATIENTS).status_code == 401
    assert client_for(patient).get(PATIENTS).status_code == 403
    assert client_for(patient).get(f"{PATIENTS}{patient.pk}/").status_code == 403
    assert client_for(doctor).post(PATIENTS, {}).status_code == 405


def test_patients_search(client_for, staff):
    grace = PatientFactory(first_name="Grace", last_name="Hopper")
    PatientFactory(first_name="Linus", last_name="Torvalds")

    assert ids(client_for(staff).get(PATIENTS, {"search": "hopp"})) == [grace.pk]


def test_patients_list_query_count(client_for, doctor, staff, django_assert_max_num_queries):
    for n in range(15):
        AppointmentFactory(doctor=doctor, patient=PatientFactory(), start=next_slot(days=n + 1))

    for user in (doctor, staff):
        with django_assert_max_num_queries(3):
            response = client_for(user).get(PATIENTS)
        assert response.json()["count"] == 15


def test_staff_order_patients_by_equal_values_pages_without_overlap(client_for, staff):
    patients = [PatientFactory(last_name=name, first_name="Kim") for name in "DCBA"]

    pages = [
        ids(client_for(staff).get(PATIENTS, {"ordering": "first_name", "page_size": 3, "page": n})) for n in (1, 2)
    ]

    assert sum(pages, []) == [p.pk for p in reversed(patients)]
