"""The FHIR read API: contract, scoping, errors as OperationOutcome, and every resource validated (fhir.resources)."""

import datetime as dt

import pytest
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import RefreshToken

from appointments.choices import Status
from appointments.models import AvailabilityRule
from appointments.tests.factories import AppointmentFactory, TimeOffFactory
from fhir_api.tests.conftest import NOW, validate
from users.choices import Gender
from users.tests.factories import DoctorFactory, PatientFactory

pytestmark = pytest.mark.django_db

MONDAY = NOW.date()  # 2030-06-03
TUESDAY_10 = dt.datetime(2030, 6, 4, 10, 0, tzinfo=dt.UTC)


def at(days: int, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime.combine(MONDAY + dt.timedelta(days=days), dt.time(hour, minute), tzinfo=dt.UTC)


def ids(bundle: dict) -> list[str]:
    return [entry["resource"]["id"] for entry in bundle["entry"]]


def outcome_code(body: dict) -> str:
    assert body["resourceType"] == "OperationOutcome"
    return body["issue"][0]["code"]


PROTECTED = [
    "/fhir/Appointment",
    "/fhir/Appointment/1",
    "/fhir/Slot?schedule=Schedule/1&start=ge2030-06-04",
    "/fhir/Schedule/1",
    "/fhir/Practitioner/1",
    "/fhir/Patient/1",
]


# --- metadata, authentication, errors ----------------------------------------------------------------


def test_anonymous_reads_capability_statement(fhir_get):
    status, body = fhir_get(None, "/fhir/metadata")

    assert status == 200
    assert body["resourceType"] == "CapabilityStatement"
    assert body["fhirVersion"] == "4.0.1"
    served = {r["type"]: {i["code"] for i in r["interaction"]} for r in body["rest"][0]["resource"]}
    assert served == {
        "Appointment": {"read", "search-type"},
        "Slot": {"search-type"},
        "Schedule": {"read"},
        "Practitioner": {"read"},
        "Patient": {"read"},
    }


@pytest.mark.parametrize("path", PROTECTED)
def test_anonymous_gets_401_operation_outcome(api_client, path):
    r = api_client.get(path)

    assert r.status_code == 401
    assert r["Content-Type"] == "application/fhir+json"
    assert r["WWW-Authenticate"].startswith("Bearer")
    assert outcome_code(validate(r.json())) == "login"


def test_invalid_token_gets_401_operation_outcome(api_client):
    api_client.credentials(HTTP_AUTHORIZATION="Bearer not-a-token")

    r = api_client.get("/fhir/Appointment")

    assert r.status_code == 401
    assert outcome_code(validate(r.json())) == "login"


def test_patient_with_real_access_token_reads_own_appointments(api_client, patient):
    appt = AppointmentFactory(patient=patient, start=TUESDAY_10, end=TUESDAY_10 + dt.timedelta(minutes=30))
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {RefreshToken.for_user(patient).access_token}")

    r = api_client.get("/fhir/Appointment")

    assert r.status_code == 200
    assert ids(validate(r.json())) == [str(appt.pk)]


@pytest.mark.parametrize("method", ["post", "put", "patch", "delete", "options"])
def test_staff_write_gets_405_operation_outcome(client_for, staff, method):
    client = client_for(staff)
    r = (
        client.options("/fhir/Appointment")
        if method == "options"
        else getattr(client, method)("/fhir/Appointment", {"resourceType": "Appointment"}, format="json")
    )

    assert r.status_code == 405
    assert outcome_code(validate(r.json())) == "not-supported"


@pytest.mark.parametrize("path", ["/fhir/Observation", "/fhir/Appointment/abc", "/fhir/", "/fhir/Slot/1"])
def test_unknown_fhir_path_gets_404_operation_outcome(client_for, staff, path):
    r = client_for(staff).get(path)

    assert r.status_code == 404
    assert r["Content-Type"] == "application/fhir+json"
    assert outcome_code(validate(r.json())) == "not-found"


@pytest.mark.parametrize("accept", ["application/json", "application/fhir+xml", "*/*", "text/html"])
def test_any_accept_header_gets_fhir_json(client_for, patient, accept):
    r = client_for(patient).get("/fhir/Appointment", HTTP_ACCEPT=accept)

    assert (r.status_code, r["Content-Type"]) == (200, "application/fhir+json")


def test_fhir_responses_are_not_cached(client_for, patient):
    r = client_for(patient).get(f"/fhir/Patient/{patient.pk}")

    assert r["Cache-Control"] == "no-store"


# --- Appointment ----------------------------------------------------------------------------------------


@pytest.fixture
def three_appointments(patient, other_patient, doctor, other_doctor):
    return [
        AppointmentFactory(patient=patient, doctor=doctor, start=at(1, 9), end=at(1, 9, 30)),
        AppointmentFactory(patient=other_patient, doctor=doctor, start=at(1, 10), end=at(1, 10, 30)),
        AppointmentFactory(patient=patient, doctor=other_doctor, start=at(2, 9), end=at(2, 9, 30)),
    ]


@pytest.mark.parametrize(
    ("who", "expected"),
    [("patient", [0, 2]), ("other_patient", [1]), ("doctor", [0, 1]), ("other_doctor", [2]), ("staff", [0, 1, 2])],
)
def test_appointment_search_is_scoped_like_the_rest_api(request, fhir_get, three_appointments, who, expected):
    status, body = fhir_get(request.getfixturevalue(who), "/fhir/Appointment")

    assert status == 200
    assert body["type"] == "searchset"
    assert ids(body) == [str(three_appointments[i].pk) for i in expected]
    assert body["total"] == len(expected)


@pytest.mark.parametrize(
    ("ours", "fhir", "reason"),
    [
        (Status.PENDING, "pending", None),
        (Status.CONFIRMED, "booked", None),
        (Status.COMPLETED, "fulfilled", None),
        (Status.CANCELLED, "cancelled", "Feeling better"),
        (Status.NO_SHOW, "noshow", None),
        (Status.REFERRED, "cancelled", "referred"),
    ],
)
def test_patient_reads_appointment_with_mapped_status(fhir_get, patient, ours, fhir, reason):
    appt = AppointmentFactory(
        patient=patient,
        status=ours,
        start=TUESDAY_10,
        end=TUESDAY_10 + dt.timedelta(minutes=30),
        cancellation_reason="Feeling better" if ours == Status.CANCELLED else "",
    )

    status, body = fhir_get(patient, f"/fhir/Appointment/{appt.pk}")

    assert status == 200
    assert body["status"] == fhir
    assert body.get("cancelationReason", {}).get("text") == reason


def test_appointment_resource_carries_times_and_participants(fhir_get, patient, doctor):
    appt = AppointmentFactory(
        patient=patient,
        doctor=doctor,
        status=Status.CONFIRMED,
        start=TUESDAY_10,
        end=TUESDAY_10 + dt.timedelta(minutes=45),
        reason_for_visit="Cough",
    )

    _, body = fhir_get(doctor, f"/fhir/Appointment/{appt.pk}")

    assert (body["start"], body["end"], body["minutesDuration"]) == ("2030-06-04T10:00:00Z", "2030-06-04T10:45:00Z", 45)
    assert [p["actor"]["reference"] for p in body["participant"]] == [
        f"Patient/{patient.pk}",
        f"Practitioner/{doctor.pk}",
    ]
    assert body["reasonCode"] == [{"text": "Cough"}]


def test_pending_appointment_awaits_the_doctor(fhir_get, patient):
    appt = AppointmentFactory(
        patient=patient, status=Status.PENDING, start=TUESDAY_10, end=TUESDAY_10 + dt.timedelta(minutes=30)
    )

    _, body = fhir_get(patient, f"/fhir/Appointment/{appt.pk}")

    assert [p["status"] for p in body["participant"]] == ["accepted", "needs-action"]


def test_patient_reads_other_patients_appointment_gets_404(fhir_get, patient, three_appointments):
    status, body = fhir_get(patient, f"/fhir/Appointment/{three_appointments[1].pk}")

    assert (status, outcome_code(body)) == (404, "not-found")


def test_staff_reads_missing_appointment_gets_404(fhir_get, staff):
    status, body = fhir_get(staff, "/fhir/Appointment/999999")

    assert (status, outcome_code(body)) == (404, "not-found")


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"status": "booked"}, [1]),
        ({"status": "cancelled"}, [2, 3]),
        ({"status": "pending,noshow"}, [0]),
        ({"date": "2030-06-04"}, [0, 1]),
        ({"date": "ge2030-06-05"}, [2, 3]),
        ({"date": ["ge2030-06-04T09:30:00Z", "lt2030-06-05"]}, [1]),
        ({"date": "gt2030-06-04"}, [2, 3]),
        ({"date": "le2030-06-04T09:00:00+00:00"}, [0]),
        ({"date": "eq2030-06-04T11:00:00+02:00"}, [0]),
        ({"date": "ne2030-06"}, []),
        ({"date": "2030"}, [0, 1, 2, 3]),
    ],
)
def test_staff_searches_appointments_by_status_and_date(fhir_get, staff, patient, doctor, query, expected):
    rows = [
        AppointmentFactory(patient=patient, doctor=doctor, start=at(1, 9), end=at(1, 9, 30)),
        AppointmentFactory(patient=patient, doctor=doctor, start=at(1, 10), end=at(1, 10, 30), status=Status.CONFIRMED),
        AppointmentFactory(patient=patient, doctor=doctor, start=at(2, 9), end=at(2, 9, 30), status=Status.REFERRED),
        AppointmentFactory(patient=patient, doctor=doctor, start=at(3, 9), end=at(3, 9, 30), status=Status.CANCELLED),
    ]

    status, body = fhir_get(staff, "/fhir/Appointment", **query)

    assert status == 200
    assert ids(body) == [str(rows[i].pk) for i in expected]


def test_staff_searches_appointments_by_patient_practitioner_actor_and_id(
    fhir_get, staff, three_appointments, patient, doctor, other_doctor
):
    a, b, c = (str(x.pk) for x in three_appointments)

    assert ids(fhir_get(staff, "/fhir/Appointment", patient=f"Patient/{patient.pk}")[1]) == [a, c]
    assert ids(fhir_get(staff, "/fhir/Appointment", patient=str(patient.pk))[1]) == [a, c]
    assert ids(fhir_get(staff, "/fhir/Appointment", practitioner=f"Practitioner/{doctor.pk}")[1]) == [a, b]
    assert ids(fhir_get(staff, "/fhir/Appointment", actor=f"Practitioner/{other_doctor.pk}")[1]) == [c]
    assert ids(fhir_get(staff, "/fhir/Appointment", actor=f"Patient/{patient.pk}")[1]) == [a, c]
    assert ids(fhir_get(staff, "/fhir/Appointment", _id=f"{a},{b}")[1]) == [a, b]


def test_patient_searching_another_patient_gets_an_empty_bundle(fhir_get, patient, other_patient, three_appointments):
    status, body = fhir_get(patient, "/fhir/Appointment", patient=f"Patient/{other_patient.pk}")

    assert (status, body["total"], body.get("entry", [])) == (200, 0, [])


def test_staff_pages_through_appointments_with_links(fhir_get, staff, patient, doctor):
    rows = [AppointmentFactory(patient=patient, doctor=doctor, start=at(1, h), end=at(1, h, 30)) for h in range(8, 13)]

    _, first = fhir_get(staff, "/fhir/Appointment", _count=2)
    links = {link["relation"]: link["url"] for link in first["link"]}
    _, third = fhir_get(staff, links["next"].replace("_page=2", "_page=3"))

    assert (first["total"], ids(first)) == (5, [str(rows[0].pk), str(rows[1].pk)])
    assert "previous" not in links
    assert links["next"].endswith("_count=2&_page=2")
    assert ids(third) == [str(rows[4].pk)]
    assert "next" not in {link["relation"] for link in third["link"]}


def test_staff_appointment_search_count_is_capped_at_100(fhir_get, staff):
    _, body = fhir_get(staff, "/fhir/Appointment", _count=500)

    assert body["link"][0]["url"].endswith("_count=100&_page=1")


@pytest.mark.parametrize(
    "query",
    [
        {"patinet": "Patient/1"},
        {"date": "2030-06-04T10:00"},  # a time needs a zone
        {"date": "ab2030-06-04"},
        {"date": "2030-13-01"},
        {"date": "2030-02-30"},
        {"date": "9999-12-31T23:00:00-05:00"},
        {"status": "booked,maybe"},
        {"status": "confirmed"},  # our word, not FHIR's
        {"patient": "Practitioner/1"},
        {"patient": "Patient/abc"},
        {"patient": ["1", "2"]},
        {"actor": "Device/1"},
        {"_id": "1,x"},
        {"_count": "0"},
        {"_count": "abc"},
        {"_page": "-1"},
        {"_format": "xml"},
    ],
)
def test_staff_bad_appointment_search_gets_400_operation_outcome(fhir_get, staff, query):
    status, body = fhir_get(staff, "/fhir/Appointment", **query)

    assert (status, outcome_code(body)) == (400, "invalid")
    assert body["issue"][0]["diagnostics"]


def test_appointment_search_query_count_is_capped(client_for, staff, django_assert_max_num_queries):
    for hour in range(8, 20):
        AppointmentFactory(start=at(1, hour), end=at(1, hour, 30))
    client = client_for(staff)

    with django_assert_max_num_queries(4):
        r = client.get("/fhir/Appointment", {"_count": 100})

    assert len(r.json()["entry"]) == 12


# --- Slot, Schedule, Practitioner ------------------------------------------------------------------------


@pytest.fixture
def open_tuesday(doctor):
    AvailabilityRule.objects.create(doctor=doctor, weekday=1, start_time=dt.time(9), end_time=dt.time(11))
    return doctor


def slot_starts(bundle: dict) -> list[str]:
    return [entry["resource"]["start"] for entry in bundle.get("entry", [])]


def test_patient_reads_doctors_free_slots(fhir_get, patient, open_tuesday):
    doctor = open_tuesday
    AppointmentFactory(doctor=doctor, start=at(1, 9, 30), end=at(1, 10), status=Status.CONFIRMED)
    AppointmentFactory(doctor=doctor, start=at(1, 10), end=at(1, 10, 30), status=Status.CANCELLED)  # frees it
    TimeOffFactory(doctor=doctor, start=at(1, 10, 30), end=at(1, 11))

    status, body = fhir_get(patient, "/fhir/Slot", schedule=f"Schedule/{doctor.pk}", start="ge2030-06-04")

    assert status == 200
    assert slot_starts(body) == ["2030-06-04T09:00:00Z", "2030-06-04T10:00:00Z"]
    slot = body["entry"][0]["resource"]
    assert (slot["status"], slot["schedule"]["reference"], slot["end"]) == (
        "free",
        f"Schedule/{doctor.pk}",
        "2030-06-04T09:30:00Z",
    )


def test_slot_search_bounds_by_instant_and_local_time_zone(fhir_get, patient, doctor):
    doctor.doctor_profile.timezone = "America/New_York"  # 09:00 there is 13:00 UTC in June
    doctor.doctor_profile.save()
    AvailabilityRule.objects.create(doctor=doctor, weekday=1, start_time=dt.time(9), end_time=dt.time(11))

    _, body = fhir_get(
        patient, "/fhir/Slot", schedule=str(doctor.pk), start=["gt2030-06-04T13:00:00Z", "lt2030-06-04T10:30:00-04:00"]
    )

    assert slot_starts(body) == ["2030-06-04T13:30:00Z", "2030-06-04T14:00:00Z"]


def test_slot_search_defaults_to_seven_days(fhir_get, patient, doctor):
    AvailabilityRule.objects.create(doctor=doctor, weekday=1, start_time=dt.time(9), end_time=dt.time(10))

    _, body = fhir_get(patient, "/fhir/Slot", schedule=f"Schedule/{doctor.pk}", start="ge2030-06-04", _count=100)

    assert slot_starts(body) == ["2030-06-04T09:00:00Z", "2030-06-04T09:30:00Z"]  # not 2030-06-11 (day 8)


def test_slot_search_skips_the_past(fhir_get, patient, doctor):
    AvailabilityRule.objects.create(doctor=doctor, weekday=0, start_time=dt.time(5), end_time=dt.time(7))

    _, body = fhir_get(patient, "/fhir/Slot", schedule=f"Schedule/{doctor.pk}", start="ge2030-06-03", _count=100)

    # Now is 06:00: the 05:00 and 05:30 slots are past, and so is 06:00 (as for GET /api/doctors/{id}/slots/).
    assert slot_starts(body) == ["2030-06-03T06:30:00Z"]


def test_slot_search_of_unknown_schedule_is_empty(fhir_get, patient):
    status, body = fhir_get(patient, "/fhir/Slot", schedule="Schedule/999999", start="ge2030-06-04")

    assert (status, body["total"]) == (200, 0)


@pytest.mark.parametrize(
    "query",
    [
        {"start": "ge2030-06-04"},
        {"schedule": "Schedule/{doctor}"},
        {"schedule": "Schedule/{doctor}", "start": "lt2030-06-04"},
        {"schedule": "Schedule/{doctor}", "start": ["ge2030-06-04", "lt2030-08-06"]},
        {"schedule": "Practitioner/{doctor}", "start": "ge2030-06-04"},
        {"schedule": "Schedule/{doctor}", "start": "ge0001-01-01"},
        {"schedule": "Schedule/{doctor}", "start": "ge9999-12-30"},
        {"schedule": "Schedule/{doctor}", "start": "ge2030-06-04", "status": "busy"},
        {"schedule": "Schedule/{doctor}", "start": "ge2030-06-04", "date": "2030"},
    ],
)
def test_patient_bad_slot_search_gets_400(fhir_get, patient, open_tuesday, query):
    query = {k: v.format(doctor=open_tuesday.pk) if isinstance(v, str) else v for k, v in query.items()}

    status, body = fhir_get(patient, "/fhir/Slot", **query)

    assert (status, outcome_code(body)) == (400, "invalid")


def test_slot_search_query_count_is_capped(client_for, patient, doctor, django_assert_max_num_queries):
    for day in range(7):
        AvailabilityRule.objects.create(doctor=doctor, weekday=day, start_time=dt.time(8), end_time=dt.time(18))
    for day in range(1, 6):
        AppointmentFactory(doctor=doctor, start=at(day, 9), end=at(day, 9, 30))
    client = client_for(patient)

    with django_assert_max_num_queries(6):
        r = client.get("/fhir/Slot", {"schedule": f"Schedule/{doctor.pk}", "start": "ge2030-06-04", "_count": 100})

    assert r.json()["total"] == 7 * 20 - 5


def test_patient_reads_schedule_and_practitioner(fhir_get, patient, doctor):
    _, schedule = fhir_get(patient, f"/fhir/Schedule/{doctor.pk}")
    _, practitioner = fhir_get(patient, f"/fhir/Practitioner/{doctor.pk}")

    assert schedule["actor"][0]["reference"] == f"Practitioner/{doctor.pk}"
    assert schedule["specialty"] == [{"text": "General Practice"}]
    assert practitioner["name"][0]["family"] == doctor.last_name
    assert practitioner["address"] == [{"use": "work", "text": "1 Health Street"}]


@pytest.mark.parametrize("kind", ["Schedule", "Practitioner"])
def test_patient_reads_non_directory_doctor_gets_404(fhir_get, settings, patient, kind):
    settings.DOCTOR_VERIFICATION_REQUIRED = True
    unverified = DoctorFactory(doctor_profile__is_verified=False)

    for pk in (patient.pk, 999999, unverified.pk):
        status, body = fhir_get(patient, f"/fhir/{kind}/{pk}")
        assert (status, outcome_code(body)) == (404, "not-found")


# --- Patient ---------------------------------------------------------------------------------------------


def test_patient_reads_themself(fhir_get, patient):
    patient.gender = Gender.UNDISCLOSED
    patient.phone_number = "+442071838750"
    patient.save()
    patient.patient_profile.date_of_birth = dt.date(1990, 5, 17)
    patient.patient_profile.save()

    status, body = fhir_get(patient, f"/fhir/Patient/{patient.pk}")

    assert status == 200
    assert (body["gender"], body["birthDate"]) == ("unknown", "1990-05-17")
    assert {t["system"]: t["value"] for t in body["telecom"]} == {"email": patient.email, "phone": "+442071838750"}


@pytest.mark.parametrize(
    ("who", "sees"),
    [("patient", False), ("doctor", True), ("other_doctor", False), ("staff", True), ("target", True)],
)
def test_patient_resource_is_scoped(request, fhir_get, doctor, who, sees):
    target = PatientFactory()
    AppointmentFactory(
        patient=target,
        doctor=doctor,
        status=Status.CANCELLED,
        start=TUESDAY_10,
        end=TUESDAY_10 + dt.timedelta(minutes=30),
    )
    user = target if who == "target" else request.getfixturevalue(who)

    status, _ = fhir_get(user, f"/fhir/Patient/{target.pk}")

    assert status == (200 if sees else 404)


def test_staff_reads_doctor_as_patient_gets_404(fhir_get, staff, doctor):
    assert fhir_get(staff, f"/fhir/Patient/{doctor.pk}")[0] == 404


def test_mobile_client_reads_free_slots_then_its_appointment_with_a_token(api_client, patient, open_tuesday):
    """The issue's 'done when': a FHIR client reads a doctor's free slots and a patient's appointments."""
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {RefreshToken.for_user(patient).access_token}")
    slots = validate(api_client.get(f"/fhir/Slot?schedule=Schedule/{open_tuesday.pk}&start=ge2030-06-04").json())
    first = slots["entry"][0]["resource"]
    booked = APIClient()
    booked.force_authenticate(patient)
    r = booked.post("/api/appointments/", {"doctor": open_tuesday.pk, "start": first["start"], "reason_for_visit": "x"})
    assert r.status_code == 201, r.json()

    again = validate(api_client.get(f"/fhir/Slot?schedule=Schedule/{open_tuesday.pk}&start=ge2030-06-04").json())
    mine = validate(api_client.get("/fhir/Appointment?status=pending").json())

    assert first["start"] not in slot_starts(again)
    assert [e["resource"]["start"] for e in mine["entry"]] == [first["start"]]
