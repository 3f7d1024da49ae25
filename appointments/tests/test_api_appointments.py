import datetime as dt

import pytest
import time_machine
from django.urls import reverse

from appointments.api.serializers import AppointmentRows
from appointments.choices import Status
from appointments.models import Appointment, AppointmentNote, StatusChange
from appointments.tests.conftest import open_all_week
from appointments.tests.factories import AppointmentFactory, AppointmentNoteFactory, TimeOffFactory
from users.models import User
from users.tests.factories import DoctorFactory, PatientFactory, SpecialtyFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("open_week")]

# The public contract, written out so that a serializer change fails these tests.
APPOINTMENT_KEYS = (
    {"id", "doctor", "patient", "start", "end", "reason_for_visit", "status", "location"}
    | {"cancellation_reason", "referred_to", "referred_from", "created_by", "created_at", "updated_at"}
    | {"payment"}  # v1.1: filled by the payments app through appointments.extensions
)


def iso(value: dt.datetime) -> str:
    return value.isoformat()


def post_booking(client, doctor: User, start: dt.datetime, **extra):
    return client.post(
        "/api/appointments/", {"doctor": doctor.pk, "start": iso(start), "reason_for_visit": "cough", **extra}
    )


@pytest.fixture
def appointment(patient: User, doctor: User, slot: dt.datetime) -> Appointment:
    return AppointmentFactory(patient=patient, doctor=doctor, start=slot, status=Status.PENDING)


@pytest.fixture
def confirmed(patient: User, doctor: User, slot: dt.datetime) -> Appointment:
    return AppointmentFactory(
        patient=patient, doctor=doctor, start=slot + dt.timedelta(hours=1), status=Status.CONFIRMED
    )


# --- create ---------------------------------------------------------------------------------------


def test_patient_book_returns_201_pending_with_contract_shape(client_for, patient, doctor, slot):
    r = post_booking(client_for(patient), doctor, slot)
    assert r.status_code == 201, r.content
    body = r.json()
    assert set(body) == APPOINTMENT_KEYS
    assert body["status"] == "pending"
    assert body["doctor"] == {
        "id": doctor.pk,
        "first_name": doctor.first_name,
        "last_name": doctor.last_name,
        "specialty": {"id": doctor.doctor_profile.specialty_id, "name": "General Practice"},
    }
    assert body["patient"] == {"id": patient.pk, "first_name": patient.first_name, "last_name": patient.last_name}
    assert dt.datetime.fromisoformat(body["end"]) == slot + dt.timedelta(minutes=30)
    assert (body["created_by"], body["referred_to"], body["referred_from"]) == (patient.pk, None, None)


def test_patient_book_taken_slot_returns_409(client_for, patient, doctor, slot):
    AppointmentFactory(doctor=doctor, start=slot, status=Status.CONFIRMED)
    r = post_booking(client_for(patient), doctor, slot)
    assert (r.status_code, r.json()["code"]) == (409, "slot_unavailable")


def test_patient_book_same_slot_twice_returns_409_not_400(client_for, patient, doctor, slot):
    client = client_for(patient)
    assert post_booking(client, doctor, slot).status_code == 201
    r = post_booking(client, doctor, slot)
    assert (r.status_code, r.json()["code"]) == (409, "slot_unavailable")


@pytest.mark.parametrize(
    "start",
    [
        pytest.param(lambda s: s - dt.timedelta(days=7), id="past"),
        pytest.param(lambda s: s + dt.timedelta(minutes=7), id="off-grid"),
        pytest.param(lambda s: s.replace(hour=22), id="outside-availability"),
    ],
)
def test_patient_book_unavailable_time_returns_409(client_for, patient, doctor, slot, start):
    r = post_booking(client_for(patient), doctor, start(slot))
    assert (r.status_code, r.json()["code"]) == (409, "slot_unavailable")
    assert not Appointment.objects.exists()


def test_patient_book_time_off_returns_409(client_for, patient, doctor, slot):
    TimeOffFactory(doctor=doctor, start=slot, end=slot + dt.timedelta(hours=4))
    r = post_booking(client_for(patient), doctor, slot)
    assert (r.status_code, r.json()["code"]) == (409, "slot_unavailable")


def test_patient_book_over_limit_returns_409_booking_limit(settings, client_for, patient, doctor, slot):
    settings.MAX_ACTIVE_APPOINTMENTS_PER_PATIENT = 1
    client = client_for(patient)
    assert post_booking(client, doctor, slot).status_code == 201
    r = post_booking(client, doctor, slot + dt.timedelta(hours=1))
    assert (r.status_code, r.json()["code"]) == (409, "booking_limit")


def test_doctor_book_twelve_session_course_for_one_patient_returns_201_each(
    settings, client_for, patient, doctor, slot
):
    settings.MAX_ACTIVE_APPOINTMENTS_PER_PATIENT = 10
    client = client_for(doctor)
    statuses = [
        client.post(
            "/api/appointments/", {"patient": patient.pk, "start": iso(slot + dt.timedelta(days=week * 7))}
        ).status_code
        for week in range(12)
    ]
    assert statuses == [201] * 12
    # The patient holds 12 now, so booking for themselves is still refused.
    r = post_booking(client_for(patient), doctor, slot + dt.timedelta(hours=1))
    assert (r.status_code, r.json()["code"]) == (409, "booking_limit")


@pytest.mark.parametrize(
    "body",
    [
        {"start": "2030-01-07T10:00:00"},  # naive
        {"start": "garbage"},
        {"start": None},
        {"start": 12},
        {"start": ["2030-01-07T10:00:00Z"]},
        {"doctor": "abc"},
        {"doctor": 999999},
        {"doctor": None},
        {"reason_for_visit": {"a": 1}},
        {"patient": 1},  # patients cannot choose the patient
        {"end": "2030-01-07T11:00:00Z"},  # nor the end
    ],
)
def test_patient_book_bad_input_returns_400(client_for, patient, doctor, slot, body):
    payload = {"doctor": doctor.pk, "start": iso(slot), "reason_for_visit": "x", **body}
    r = client_for(patient).post("/api/appointments/", payload)
    assert r.status_code == 400, r.content
    assert not Appointment.objects.exists()


def test_patient_book_missing_fields_returns_400(client_for, patient):
    r = client_for(patient).post("/api/appointments/", {})
    assert r.status_code == 400
    assert "start" in r.json()


def test_patient_book_unverified_or_non_doctor_returns_400(client_for, patient, other_patient, slot):
    unverified = DoctorFactory(doctor_profile__is_verified=False)
    open_all_week(unverified)
    client = client_for(patient)
    assert post_booking(client, unverified, slot).status_code == 400
    assert post_booking(client, other_patient, slot).status_code == 400


def test_patient_book_malformed_json_returns_400(client_for, patient):
    r = client_for(patient).post("/api/appointments/", "{not json", content_type="application/json")
    assert r.status_code == 400


def test_doctor_book_returns_201_confirmed(client_for, patient, doctor, slot):
    r = client_for(doctor).post(
        "/api/appointments/",
        {
            "patient": patient.pk,
            "start": iso(slot),
            "end": iso(slot + dt.timedelta(minutes=90)),
            "reason_for_visit": "x",
        },
    )
    assert r.status_code == 201, r.content
    assert r.json()["status"] == "confirmed"
    assert dt.datetime.fromisoformat(r.json()["end"]) == slot + dt.timedelta(minutes=90)


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(lambda p, s: {"start": iso(s)}, id="missing-patient"),
        pytest.param(lambda p, s: {"patient": p.pk, "start": iso(s), "end": iso(s)}, id="end-equals-start"),
        pytest.param(lambda p, s: {"patient": p.pk, "start": iso(s), "end": "2030-01-01T10:00:00"}, id="naive-end"),
        pytest.param(lambda p, s: {"patient": 999999, "start": iso(s)}, id="unknown-patient"),
    ],
)
def test_doctor_book_bad_input_returns_400(client_for, patient, doctor, slot, body):
    r = client_for(doctor).post("/api/appointments/", body(patient, slot))
    assert r.status_code == 400


def test_doctor_book_self_or_another_doctor_as_patient_returns_400(client_for, doctor, other_doctor, slot):
    client = client_for(doctor)
    assert client.post("/api/appointments/", {"patient": doctor.pk, "start": iso(slot)}).status_code == 400
    assert client.post("/api/appointments/", {"patient": other_doctor.pk, "start": iso(slot)}).status_code == 400
    r = client.post("/api/appointments/", {"patient": 1, "doctor": other_doctor.pk, "start": iso(slot)})
    assert r.status_code == 400


def test_doctor_book_past_end_of_availability_returns_409(client_for, patient, doctor, slot):
    late = slot.replace(hour=17)
    r = client_for(doctor).post(
        "/api/appointments/", {"patient": patient.pk, "start": iso(late), "end": iso(late + dt.timedelta(hours=2))}
    )
    assert (r.status_code, r.json()["code"]) == (409, "slot_unavailable")


@pytest.mark.parametrize(("who", "expected"), [("anonymous", 401), ("staff", 400)])
def test_booking_without_a_patient_by_non_patients_is_refused(client_for, staff, doctor, slot, who, expected):
    # Staff book for a patient (appointments/tests/test_api_front_desk.py): without one it is a 400.
    user = {"anonymous": None, "staff": staff}[who]
    assert post_booking(client_for(user), doctor, slot).status_code == expected


# --- list and detail ------------------------------------------------------------------------------


def test_list_is_scoped_to_the_caller(client_for, patient, other_patient, doctor, other_doctor, staff, slot):
    mine = AppointmentFactory(patient=patient, doctor=doctor, start=slot)
    theirs = AppointmentFactory(patient=other_patient, doctor=other_doctor, start=slot)

    def ids(user: User) -> set[int]:
        return {row["id"] for row in client_for(user).get("/api/appointments/").json()["results"]}

    assert ids(patient) == {mine.pk}
    assert ids(other_patient) == {theirs.pk}
    assert ids(doctor) == {mine.pk}
    assert ids(other_doctor) == {theirs.pk}
    assert ids(staff) == {mine.pk, theirs.pk}
    assert client_for(None).get("/api/appointments/").status_code == 401


def test_list_filters_and_ordering(client_for, patient, doctor, other_doctor, slot):
    past = AppointmentFactory(
        patient=patient, doctor=doctor, start=slot - dt.timedelta(days=10), status=Status.COMPLETED
    )
    later = AppointmentFactory(patient=patient, doctor=other_doctor, start=slot + dt.timedelta(days=1))
    soon = AppointmentFactory(patient=patient, doctor=doctor, start=slot, status=Status.CONFIRMED)
    client = client_for(patient)

    def ids(query: str) -> list[int]:
        r = client.get(f"/api/appointments/{query}")
        assert r.status_code == 200, r.content
        return [row["id"] for row in r.json()["results"]]

    assert ids("") == [past.pk, soon.pk, later.pk]
    assert ids("?ordering=-start") == [later.pk, soon.pk, past.pk]
    assert ids("?status=confirmed") == [soon.pk]
    assert ids("?status=confirmed&status=completed") == [past.pk, soon.pk]
    assert ids("?status=confirmed,completed") == [past.pk, soon.pk]
    assert ids(f"?doctor={other_doctor.pk}") == [later.pk]
    assert ids(f"?patient={patient.pk}") == [past.pk, soon.pk, later.pk]
    assert ids("?when=upcoming") == [soon.pk, later.pk]
    assert ids("?when=past") == [past.pk]
    assert ids(f"?start_after={iso(slot).replace('+', '%2B')}") == [soon.pk, later.pk]
    assert ids(f"?start_before={iso(slot)}") == [past.pk]  # unencoded "+" arrives as a space


@pytest.mark.parametrize(
    "query",
    [
        "?status=bogus",
        "?status=pending,bogus",
        "?when=soon",
        "?start_after=2030-01-01T10:00:00",
        "?start_after=garbage",
        "?doctor=abc",
    ],
)
def test_list_bad_filters_return_400(client_for, patient, query):
    assert client_for(patient).get(f"/api/appointments/{query}").status_code == 400


def test_list_pages_without_filters_are_the_filtered_querys_pages(client_for, patient, doctor, staff):
    # Unfiltered lists page a `.values()` query built once per process (AppointmentRows.values_base); a filter
    # that keeps every row takes the filtered model query's path. Same rows, same order (ties on start broken
    # by id), same counts, page by page, for each kind of caller.
    base = dt.datetime(2030, 1, 7, 9, tzinfo=dt.UTC)
    other_doctor, other_patient = DoctorFactory(), PatientFactory()
    for index in range(7):
        start = base + dt.timedelta(hours=index // 2)  # two appointments at each start
        AppointmentFactory(doctor=doctor, patient=patient, start=start, status=Status.CANCELLED)
        AppointmentFactory(doctor=other_doctor, patient=other_patient, start=start, status=Status.CANCELLED)
    every_status = ",".join(Status.values)
    for user in (patient, doctor, staff):
        client = client_for(user)
        for page in (1, 2, 3, 4):
            fast = client.get(f"/api/appointments/?page_size=2&page={page}")
            filtered = client.get(f"/api/appointments/?page_size=2&page={page}&status={every_status}")
            assert fast.status_code == filtered.status_code
            if fast.status_code == 200:
                assert [r["id"] for r in fast.json()["results"]] == [r["id"] for r in filtered.json()["results"]]
                assert fast.json()["count"] == filtered.json()["count"]
                assert fast.json()["results"] == filtered.json()["results"]
    assert client_for(patient).get("/api/appointments/").json()["count"] == 7
    assert client_for(staff).get("/api/appointments/").json()["count"] == 14


def test_the_shared_values_query_is_never_evaluated(client_for, patient, doctor):
    # A cached queryset holding results would hand one caller's rows to the next.
    AppointmentFactory(doctor=doctor, patient=patient)
    AppointmentFactory()
    for user in (patient, doctor, patient):
        assert client_for(user).get("/api/appointments/").json()["count"] == 1
    shared = AppointmentRows._values_base
    assert shared is not None
    assert shared._result_cache is None


def test_list_query_count_is_constant(client_for, staff, django_assert_max_num_queries):
    base = dt.datetime(2030, 1, 7, 9, tzinfo=dt.UTC)
    doctors = [DoctorFactory() for _ in range(5)]
    patients = [PatientFactory() for _ in range(5)]
    for index in range(60):
        original = AppointmentFactory(
            doctor=doctors[index % 5],
            patient=patients[index % 5],
            start=base + dt.timedelta(hours=index),
            status=Status.REFERRED,
        )
        AppointmentFactory(
            doctor=doctors[(index + 1) % 5],
            patient=patients[index % 5],
            start=base + dt.timedelta(hours=index, minutes=30),
            referred_from=original,
        )
    client = client_for(staff)
    with django_assert_max_num_queries(6):
        r = client.get("/api/appointments/?page_size=100")
    assert len(r.json()["results"]) == 100
    assert any(row["referred_to"] for row in r.json()["results"])
    assert any(row["referred_from"] for row in r.json()["results"])


def test_detail_visibility_matrix(client_for, appointment, patient, other_patient, doctor, other_doctor, staff):
    url = f"/api/appointments/{appointment.pk}/"
    assert client_for(None).get(url).status_code == 401
    for user, expected in ((patient, 200), (doctor, 200), (staff, 200), (other_patient, 404), (other_doctor, 404)):
        assert client_for(user).get(url).status_code == expected
    assert client_for(patient).get("/api/appointments/999999/").status_code == 404


# --- edit and delete ------------------------------------------------------------------------------


def test_patient_patch_reason_while_pending(client_for, appointment, patient):
    r = client_for(patient).patch(f"/api/appointments/{appointment.pk}/", {"reason_for_visit": "fever"})
    assert (r.status_code, r.json()["reason_for_visit"]) == (200, "fever")


def test_doctor_patch_location(client_for, appointment, doctor):
    r = client_for(doctor).patch(f"/api/appointments/{appointment.pk}/", {"location": "Room 9"})
    assert (r.status_code, r.json()["location"]) == (200, "Room 9")


@pytest.mark.parametrize(
    ("actor", "body"),
    [
        ("patient", {"status": "confirmed"}),
        ("patient", {"start": "2030-01-07T10:00:00Z"}),
        ("patient", {"doctor": 1}),
        ("patient", {"location": "Home"}),
        ("doctor", {"reason_for_visit": "x"}),
        ("doctor", {"patient": 1, "location": "x"}),
        ("doctor", {}),
    ],
)
def test_patch_other_fields_returns_400_and_changes_nothing(client_for, appointment, patient, doctor, actor, body):
    user = {"patient": patient, "doctor": doctor}[actor]
    r = client_for(user).patch(f"/api/appointments/{appointment.pk}/", body)
    assert r.status_code == 400, r.content
    fresh = Appointment.objects.get(pk=appointment.pk)
    assert (fresh.status, fresh.start, fresh.location, fresh.reason_for_visit) == (
        appointment.status,
        appointment.start,
        appointment.location,
        appointment.reason_for_visit,
    )


def test_patient_patch_reason_after_confirmation_returns_400(client_for, confirmed, patient):
    assert client_for(patient).patch(f"/api/appointments/{confirmed.pk}/", {"reason_for_visit": "x"}).status_code == 400


def test_patch_by_outsiders(client_for, appointment, other_patient, staff):
    url = f"/api/appointments/{appointment.pk}/"
    assert client_for(other_patient).patch(url, {"reason_for_visit": "x"}).status_code == 404
    assert client_for(staff).patch(url, {"location": "x"}).status_code == 403
    assert client_for(None).patch(url, {"location": "x"}).status_code == 401


def test_put_returns_405(client_for, appointment, patient):
    assert client_for(patient).put(f"/api/appointments/{appointment.pk}/", {}).status_code == 405


def test_delete_cancels_and_keeps_record(client_for, appointment, patient):
    assert client_for(patient).delete(f"/api/appointments/{appointment.pk}/").status_code == 204
    appointment.refresh_from_db()
    assert appointment.status == Status.CANCELLED
    r = client_for(patient).delete(f"/api/appointments/{appointment.pk}/")
    assert (r.status_code, r.json()["code"]) == (409, "invalid_transition")


def test_delete_by_outsiders(client_for, appointment, other_doctor, other_patient):
    assert client_for(other_doctor).delete(f"/api/appointments/{appointment.pk}/").status_code == 404
    assert client_for(other_patient).delete(f"/api/appointments/{appointment.pk}/").status_code == 404
    appointment.refresh_from_db()
    assert appointment.status == Status.PENDING


# --- actions --------------------------------------------------------------------------------------


def action_url(appointment: Appointment, name: str) -> str:
    return reverse(f"appointment-{name}", args=[appointment.pk])


def test_doctor_confirm_defaults_location_to_clinic(client_for, appointment, doctor):
    r = client_for(doctor).post(action_url(appointment, "confirm"))
    assert (r.status_code, r.json()["status"], r.json()["location"]) == (200, "confirmed", "1 Health Street")


def test_doctor_confirm_with_location(client_for, appointment, doctor):
    r = client_for(doctor).post(action_url(appointment, "confirm"), {"location": "Ward B"})
    assert r.json()["location"] == "Ward B"


def test_doctor_confirm_twice_returns_409(client_for, confirmed, doctor):
    r = client_for(doctor).post(action_url(confirmed, "confirm"))
    assert (r.status_code, r.json()["code"]) == (409, "invalid_transition")


def test_patient_cancel_with_reason(client_for, confirmed, patient):
    r = client_for(patient).post(action_url(confirmed, "cancel"), {"reason": "travel"})
    assert (r.status_code, r.json()["status"], r.json()["cancellation_reason"]) == (200, "cancelled", "travel")


def test_patient_reschedule_returns_to_pending(client_for, confirmed, patient):
    new = confirmed.start + dt.timedelta(hours=2)
    r = client_for(patient).post(action_url(confirmed, "reschedule"), {"start": iso(new)})
    assert r.status_code == 200, r.content
    assert (r.json()["status"], dt.datetime.fromisoformat(r.json()["start"])) == ("pending", new)


def test_doctor_reschedule_keeps_confirmed(client_for, confirmed, doctor):
    r = client_for(doctor).post(
        action_url(confirmed, "reschedule"), {"start": iso(confirmed.start + dt.timedelta(hours=2))}
    )
    assert (r.status_code, r.json()["status"]) == (200, "confirmed")


@pytest.mark.parametrize("start", ["2030-01-07T10:00:00", "nope", ""])
def test_reschedule_bad_input_returns_400(client_for, confirmed, patient, start):
    assert client_for(patient).post(action_url(confirmed, "reschedule"), {"start": start}).status_code == 400


def test_reschedule_onto_taken_or_past_returns_409(client_for, confirmed, appointment, patient, other_patient):
    client = client_for(patient)
    r = client.post(action_url(confirmed, "reschedule"), {"start": iso(confirmed.start - dt.timedelta(days=9))})
    assert (r.status_code, r.json()["code"]) == (409, "slot_unavailable")
    other = AppointmentFactory(
        patient=other_patient, doctor=confirmed.doctor, start=confirmed.start + dt.timedelta(hours=3)
    )
    r = client.post(action_url(confirmed, "reschedule"), {"start": iso(other.start)})
    assert (r.status_code, r.json()["code"]) == (409, "slot_unavailable")


def test_complete_and_no_show_only_after_start(client_for, confirmed, doctor, patient):
    other = AppointmentFactory(
        patient=patient, doctor=doctor, start=confirmed.start + dt.timedelta(hours=1), status=Status.CONFIRMED
    )
    client = client_for(doctor)
    r = client.post(action_url(confirmed, "complete"))
    assert (r.status_code, r.json()["code"]) == (409, "invalid_transition")
    assert client.post(action_url(other, "no-show")).status_code == 409
    with time_machine.travel(other.end, tick=False):
        assert client.post(action_url(confirmed, "complete")).json()["status"] == "completed"
        assert client.post(action_url(other, "no-show")).json()["status"] == "no_show"
        assert client.post(action_url(other, "complete")).status_code == 409


def test_doctor_refer_returns_201_with_linked_new_appointment(client_for, appointment, doctor, patient):
    target = DoctorFactory(doctor_profile__specialty=doctor.doctor_profile.specialty)
    open_all_week(target)
    r = client_for(doctor).post(action_url(appointment, "refer"), {"doctor": target.pk, "reason": "specialist"})
    assert r.status_code == 201, r.content
    body = r.json()
    assert (body["status"], body["doctor"]["id"], body["patient"]["id"], body["referred_from"]) == (
        "pending",
        target.pk,
        patient.pk,
        appointment.pk,
    )
    original = client_for(doctor).get(f"/api/appointments/{appointment.pk}/").json()
    assert (original["status"], original["referred_to"]) == ("referred", body["id"])


@pytest.mark.parametrize("case", ["self", "other-specialty", "unknown", "patient", "unverified"])
def test_doctor_refer_bad_target_returns_400(client_for, appointment, doctor, patient, case):
    targets = {
        "self": lambda: doctor.pk,
        "other-specialty": lambda: DoctorFactory(doctor_profile__specialty=SpecialtyFactory(name="Cardio")).pk,
        "unknown": lambda: 999999,
        "patient": lambda: patient.pk,
        "unverified": lambda: DoctorFactory(doctor_profile__is_verified=False).pk,
    }
    r = client_for(doctor).post(action_url(appointment, "refer"), {"doctor": targets[case]()})
    assert r.status_code == 400
    appointment.refresh_from_db()
    assert appointment.status == Status.PENDING


def test_doctor_refer_to_busy_target_returns_409(client_for, appointment, doctor, other_patient):
    target = DoctorFactory(doctor_profile__specialty=doctor.doctor_profile.specialty)
    open_all_week(target)
    AppointmentFactory(doctor=target, patient=other_patient, start=appointment.start)
    r = client_for(doctor).post(action_url(appointment, "refer"), {"doctor": target.pk})
    assert (r.status_code, r.json()["code"]) == (409, "slot_unavailable")
    assert Appointment.objects.filter(referred_from=appointment).count() == 0


# The full matrix with staff is in test_api_front_desk.py.
DOCTOR_ACTIONS = ["confirm", "complete", "no-show", "refer"]
PARTICIPANT_ACTIONS = ["cancel", "reschedule"]


@pytest.mark.parametrize("name", DOCTOR_ACTIONS + PARTICIPANT_ACTIONS)
def test_action_permission_matrix(client_for, appointment, patient, other_patient, other_doctor, name):
    url = action_url(appointment, name)
    assert client_for(None).post(url, {}).status_code == 401
    assert client_for(other_patient).post(url, {}).status_code == (403 if name in DOCTOR_ACTIONS else 404)
    assert client_for(other_doctor).post(url, {}).status_code == 404
    if name in DOCTOR_ACTIONS:
        assert client_for(patient).post(url, {}).status_code == 403
    appointment.refresh_from_db()
    assert appointment.status == Status.PENDING


# --- history and notes ----------------------------------------------------------------------------


def test_history_lists_changes_oldest_first(client_for, patient, doctor, staff, other_patient, slot):
    client = client_for(patient)
    appointment_id = post_booking(client, doctor, slot).json()["id"]
    client_for(doctor).post(f"/api/appointments/{appointment_id}/confirm/")
    client.post(f"/api/appointments/{appointment_id}/cancel/", {"reason": "busy"})
    r = client_for(staff).get(f"/api/appointments/{appointment_id}/history/")
    assert r.status_code == 200
    assert [(row["from_status"], row["to_status"], row["by"], row["reason"]) for row in r.json()] == [
        ("", "pending", patient.pk, ""),
        ("pending", "confirmed", doctor.pk, ""),
        ("confirmed", "cancelled", patient.pk, "busy"),
    ]
    assert client_for(other_patient).get(f"/api/appointments/{appointment_id}/history/").status_code == 404
    assert StatusChange.objects.count() == 3


def test_participants_read_and_write_notes(client_for, appointment, patient, doctor):
    AppointmentNoteFactory(appointment=appointment)
    r = client_for(patient).post(f"/api/appointments/{appointment.pk}/notes/", {"text": "Allergic to penicillin"})
    assert r.status_code == 201
    assert set(r.json()) == {"id", "author", "text", "created_at"}
    assert r.json()["author"] == patient.pk
    listed = client_for(doctor).get(f"/api/appointments/{appointment.pk}/notes/").json()
    assert listed["count"] == 2
    assert listed["results"][-1]["text"] == "Allergic to penicillin"


def test_notes_outsiders_and_bad_input(client_for, appointment, patient, other_patient, staff):
    url = f"/api/appointments/{appointment.pk}/notes/"
    assert client_for(other_patient).get(url).status_code == 404
    assert client_for(other_patient).post(url, {"text": "x"}).status_code == 404
    assert client_for(staff).get(url).status_code == 403
    assert client_for(None).get(url).status_code == 401
    assert client_for(patient).post(url, {"text": ""}).status_code == 400
    assert client_for(patient).post(url, {}).status_code == 400
    assert client_for(patient).post(url, {"text": "x" * 6000}).status_code == 400
    assert not AppointmentNote.objects.exists()


def test_notes_query_count_is_constant(client_for, appointment, doctor, django_assert_max_num_queries):
    for _ in range(40):
        AppointmentNoteFactory(appointment=appointment)
    with django_assert_max_num_queries(6):
        r = client_for(doctor).get(f"/api/appointments/{appointment.pk}/notes/?page_size=40")
    assert len(r.json()["results"]) == 40


@pytest.mark.parametrize("body", [[1, 2], "text", 5, None])
def test_non_object_bodies_return_400(client_for, appointment, patient, doctor, body):
    patient_client, doctor_client = client_for(patient), client_for(doctor)
    base = f"/api/appointments/{appointment.pk}"
    assert patient_client.post("/api/appointments/", body, format="json").status_code == 400
    assert patient_client.patch(f"{base}/", body, format="json").status_code == 400
    assert patient_client.post(f"{base}/reschedule/", body, format="json").status_code == 400
    assert doctor_client.post(f"{base}/refer/", body, format="json").status_code == 400
    assert patient_client.post(f"{base}/notes/", body, format="json").status_code == 400
    assert doctor_client.post("/api/availability/", body, format="json").status_code == 400
    assert doctor_client.post("/api/time-off/", body, format="json").status_code == 400
    appointment.refresh_from_db()
    assert appointment.status == Status.PENDING
