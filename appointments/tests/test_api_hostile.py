"""Hostile input on every scheduling endpoint: each answer is a clear 4xx JSON, never a 500.

Bodies are sent as raw JSON text so that escapes like a lone surrogate (`\\ud800`) arrive exactly as a
hostile client would send them.
"""

import datetime as dt
import json

import pytest
from rest_framework.test import APIClient

from appointments.choices import Status
from appointments.models import Appointment, AppointmentNote, AvailabilityRule, TimeOff
from appointments.tests.factories import AppointmentFactory, TimeOffFactory
from users.models import User
from users.tests.factories import DEFAULT_PASSWORD

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("open_week")]

ABSURD_DATETIMES = [
    "9999-12-31T23:59:59+14:00",
    "0001-01-01T00:00:00-12:00",
    "0001-01-01T00:00:00+14:00",
    "9999-12-31T23:59:59-12:00",
]
NOT_STRINGS = [12, 1.5, True, ["text"], {"text": "x"}]
BAD_TEXT = ["a\u0000b", "\ud800", "x" * 100_001]


def send(client: APIClient, method: str, url: str, body: object):
    """Raw JSON with ASCII escapes, as a hand-written hostile client would send it."""
    return getattr(client, method)(url, json.dumps(body), content_type="application/json")


def assert_400_json(response) -> None:
    assert response.status_code == 400, response.content
    assert response["Content-Type"].startswith("application/json")
    assert isinstance(response.json(), dict)


def jwt_client(user: User) -> APIClient:
    client = APIClient()
    r = client.post("/api/auth/login/", {"email": user.email, "password": DEFAULT_PASSWORD}, format="json")
    assert r.status_code == 200, r.content
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {r.json()['access']}")
    return client


@pytest.fixture
def pending(patient: User, doctor: User, slot: dt.datetime) -> Appointment:
    return AppointmentFactory(patient=patient, doctor=doctor, start=slot, status=Status.PENDING)


# --- datetimes at the ends of the calendar ------------------------------------------------------------


@pytest.mark.parametrize("value", ABSURD_DATETIMES)
def test_patient_book_absurd_datetime_returns_400(client_for, patient, doctor, value):
    r = send(client_for(patient), "post", "/api/appointments/", {"doctor": doctor.pk, "start": value})
    assert_400_json(r)
    assert "start" in r.json()


@pytest.mark.parametrize("value", ABSURD_DATETIMES)
def test_doctor_book_absurd_start_or_end_returns_400(client_for, patient, doctor, slot, value):
    client = client_for(doctor)
    assert_400_json(send(client, "post", "/api/appointments/", {"patient": patient.pk, "start": value}))
    body = {"patient": patient.pk, "start": slot.isoformat(), "end": value}
    assert_400_json(send(client, "post", "/api/appointments/", body))
    assert not Appointment.objects.exists()


@pytest.mark.parametrize("value", ABSURD_DATETIMES)
def test_participants_reschedule_or_refer_to_absurd_datetime_returns_400(
    client_for, pending, patient, doctor, other_doctor, value
):
    url = f"/api/appointments/{pending.pk}"
    assert_400_json(send(client_for(patient), "post", f"{url}/reschedule/", {"start": value}))
    assert_400_json(send(client_for(doctor), "post", f"{url}/refer/", {"doctor": other_doctor.pk, "start": value}))
    pending.refresh_from_db()
    assert pending.status == Status.PENDING


@pytest.mark.parametrize("value", ABSURD_DATETIMES)
def test_doctor_time_off_absurd_datetime_returns_400(client_for, doctor, value):
    client = client_for(doctor)
    ok = {"start": "2031-01-01T00:00:00Z", "end": "2031-01-02T00:00:00Z"}
    assert_400_json(send(client, "post", "/api/time-off/", {**ok, "start": value}))
    assert_400_json(send(client, "post", "/api/time-off/", {**ok, "end": value}))
    time_off = TimeOffFactory(doctor=doctor)
    assert_400_json(send(client, "patch", f"/api/time-off/{time_off.pk}/", {"end": value}))


@pytest.mark.parametrize(
    "query",
    [
        "start_before=0001-01-01T00:00:00%2B14:00",
        "start_after=0001-01-01T00:00:00-12:00",
        "start_after=9999-12-31T23:59:59%2B14:00",
        "start_before=9999-12-31T23:59:59-12:00",
    ],
)
def test_patient_list_absurd_datetime_filter_returns_400(client_for, patient, query):
    assert_400_json(client_for(patient).get(f"/api/appointments/?{query}"))


@pytest.mark.parametrize(
    "query",
    ["start=9999-12-30&end=9999-12-31", "start=9999-12-31&end=9999-12-31", "start=0001-01-01&end=0001-01-02"],
)
def test_patient_slots_at_calendar_ends_returns_400(client_for, patient, doctor, query):
    assert_400_json(client_for(patient).get(f"/api/doctors/{doctor.pk}/slots/?{query}"))


# --- ids ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("query", ["doctor=99999999999999999999", "patient=-99999999999999999999", "doctor=1.5"])
def test_patient_list_impossible_id_filter_returns_400(client_for, patient, query):
    assert_400_json(client_for(patient).get(f"/api/appointments/?{query}"))


@pytest.mark.parametrize("query", ["doctor=123456", "patient=-1"])
def test_patient_list_unknown_id_filter_returns_empty_page(client_for, patient, pending, query):
    r = client_for(patient).get(f"/api/appointments/?{query}")
    assert (r.status_code, r.json()["count"]) == (200, 0)


@pytest.mark.parametrize(
    "make_value",
    [
        lambda pk: pk + 0.5,
        lambda pk: f"{pk}.5",
        lambda pk: True,
        lambda pk: 0,
        lambda pk: -pk,
        lambda pk: 99999999999999999999,
        lambda pk: [pk],
        lambda pk: {"id": pk},
        lambda pk: None,
        lambda pk: "\u0000",
    ],
)
def test_patient_book_malformed_doctor_id_returns_400(client_for, patient, doctor, slot, make_value):
    body = {"doctor": make_value(doctor.pk), "start": slot.isoformat()}
    r = send(client_for(patient), "post", "/api/appointments/", body)
    assert_400_json(r)
    assert "doctor" in r.json()
    assert not Appointment.objects.exists()


def test_patient_book_doctor_id_as_digit_string_returns_201(client_for, patient, doctor, slot):
    r = send(client_for(patient), "post", "/api/appointments/", {"doctor": str(doctor.pk), "start": slot.isoformat()})
    assert r.status_code == 201, r.content


@pytest.mark.parametrize("value", [1.5, True, 99999999999999999999, [1], None])
def test_doctor_book_or_refer_malformed_ids_returns_400(client_for, pending, patient, doctor, slot, value):
    client = client_for(doctor)
    body = {"patient": value, "start": (slot + dt.timedelta(hours=2)).isoformat()}
    assert_400_json(send(client, "post", "/api/appointments/", body))
    assert_400_json(send(client, "post", f"/api/appointments/{pending.pk}/refer/", {"doctor": value}))
    assert Appointment.objects.count() == 1


@pytest.mark.parametrize("pk", ["99999999999999999999", "-1", "0", "abc", "1.5"])
def test_doctor_actions_on_impossible_ids_return_404(client_for, doctor, pk):
    client = client_for(doctor)
    assert client.get(f"/api/appointments/{pk}/").status_code == 404
    assert client.delete(f"/api/appointments/{pk}/").status_code == 404
    for action in ("confirm", "cancel", "complete", "no-show", "notes"):
        assert send(client, "post", f"/api/appointments/{pk}/{action}/", {}).status_code == 404
    assert client.get(f"/api/availability/{pk}/").status_code == 404
    assert client.get(f"/api/time-off/{pk}/").status_code == 404
    assert client.get(f"/api/doctors/{pk}/slots/?start=2030-01-01&end=2030-01-02").status_code == 404


# --- text fields ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("value", NOT_STRINGS + BAD_TEXT)
def test_patient_text_fields_reject_non_strings_nul_and_surrogates(client_for, pending, patient, doctor, slot, value):
    client = client_for(patient)
    later = (slot + dt.timedelta(hours=2)).isoformat()
    booking = {"doctor": doctor.pk, "start": later, "reason_for_visit": value}
    assert_400_json(send(client, "post", "/api/appointments/", booking))
    assert_400_json(send(client, "patch", f"/api/appointments/{pending.pk}/", {"reason_for_visit": value}))
    assert_400_json(send(client, "post", f"/api/appointments/{pending.pk}/notes/", {"text": value}))
    assert_400_json(send(client, "post", f"/api/appointments/{pending.pk}/cancel/", {"reason": value}))
    pending.refresh_from_db()
    assert (pending.status, pending.reason_for_visit) == (Status.PENDING, "Check-up")
    assert Appointment.objects.count() == 1
    assert not AppointmentNote.objects.exists()


@pytest.mark.parametrize("value", NOT_STRINGS + BAD_TEXT)
def test_doctor_text_fields_reject_non_strings_nul_and_surrogates(
    client_for, pending, patient, doctor, other_doctor, slot, value
):
    client = client_for(doctor)
    url = f"/api/appointments/{pending.pk}"
    later = (slot + dt.timedelta(hours=2)).isoformat()
    booking = {"patient": patient.pk, "start": later, "reason_for_visit": value}
    assert_400_json(send(client, "post", "/api/appointments/", booking))
    assert_400_json(send(client, "patch", f"{url}/", {"location": value}))
    assert_400_json(send(client, "post", f"{url}/confirm/", {"location": value}))
    assert_400_json(send(client, "post", f"{url}/refer/", {"doctor": other_doctor.pk, "reason": value}))
    assert_400_json(send(client, "post", f"{url}/notes/", {"text": value}))
    ok = {"start": "2031-01-01T00:00:00Z", "end": "2031-01-02T00:00:00Z"}
    assert_400_json(send(client, "post", "/api/time-off/", {**ok, "reason": value}))
    pending.refresh_from_db()
    assert (pending.status, pending.location) == (Status.PENDING, "")
    assert not TimeOff.objects.exists()


@pytest.mark.parametrize("value", ["\ud800", "\u0000", True, 1.5, [1], None, "7", -1])
def test_doctor_rule_with_bad_weekday_returns_400(client_for, doctor, value):
    client = client_for(doctor)
    body = {"weekday": value, "start_time": "19:00", "end_time": "20:00"}
    before = AvailabilityRule.objects.count()
    r = send(client, "post", "/api/availability/", body)
    assert_400_json(r)
    assert "weekday" in r.json()
    rule = AvailabilityRule.objects.filter(doctor=doctor).first()
    assert_400_json(send(client, "patch", f"/api/availability/{rule.pk}/", {"weekday": value}))
    assert AvailabilityRule.objects.count() == before


@pytest.mark.parametrize("value", ["\ud800", "\u0000", 900, "25:00", "9", None, ["09:00"]])
def test_doctor_rule_with_bad_time_returns_400(client_for, doctor, value):
    r = send(client_for(doctor), "post", "/api/availability/", {"weekday": 2, "start_time": value, "end_time": "20:00"})
    assert_400_json(r)


def test_patient_patch_with_unencodable_unknown_key_returns_400(client_for, pending, patient):
    r = client_for(patient).patch(
        f"/api/appointments/{pending.pk}/", '{"\\ud800": 1, "reason_for_visit": "x"}', content_type="application/json"
    )
    assert_400_json(r)


# --- the same through real JWT authentication ----------------------------------------------------------


def test_patient_with_jwt_hostile_requests_get_4xx_json(patient, doctor, pending, slot):
    client = jwt_client(patient)
    url = f"/api/appointments/{pending.pk}"
    answers = [
        send(client, "post", "/api/appointments/", {"doctor": doctor.pk + 0.5, "start": slot.isoformat()}),
        send(client, "post", "/api/appointments/", {"doctor": doctor.pk, "start": "9999-12-31T23:59:59+14:00"}),
        send(client, "post", "/api/appointments/", {"doctor": doctor.pk, "start": "2030-01-07T09:00:00"}),
        send(client, "post", "/api/appointments/", {"doctor": doctor.pk, "start": "2026-02-30T10:00:00Z"}),
        send(client, "patch", f"{url}/", {"reason_for_visit": "a\u0000b"}),
        send(client, "post", f"{url}/reschedule/", {"start": "0001-01-01T00:00:00-12:00"}),
        send(client, "post", f"{url}/notes/", {"text": 5}),
        client.get("/api/appointments/?doctor=99999999999999999999"),
        client.get("/api/appointments/?start_after=notadate"),
        client.get("/api/appointments/?status=bogus"),
        client.get("/api/appointments/?when=sometime"),
        client.get(f"/api/doctors/{doctor.pk}/slots/?start=abc&end=2030-01-01"),
        client.get(f"/api/doctors/{doctor.pk}/slots/?start=9999-12-31&end=9999-12-31"),
    ]
    assert [r.status_code for r in answers] == [400] * len(answers)
    assert all(isinstance(r.json(), dict) for r in answers)
    assert client.put(f"{url}/", {}, format="json").status_code == 405
    assert client.get(f"{url}/confirm/").json()["detail"]
