"""API1:2023 Broken object-level authorization: another user's object is a 404, for every verb and action.

The victims are `other_patient` and `other_doctor`; the attackers are an unrelated `patient` and `doctor`
holding real JWTs. A 404 must look exactly like the one for an id that does not exist, and nothing may change.
"""

import datetime as dt

import pytest

from appointments.choices import Status
from appointments.models import Appointment, AppointmentNote, AvailabilityRule, TimeOff
from appointments.tests.factories import AppointmentFactory, AvailabilityRuleFactory, TimeOffFactory, next_slot
from consultations.models import Consultation
from consultations.tests.factories import ConsultationFactory
from notifications.choices import Kind
from notifications.models import Notification, WaitlistEntry
from notifications.tests.factories import NotificationFactory, WaitlistEntryFactory

pytestmark = pytest.mark.django_db

MISSING_ID = 987654321


def past_slot() -> dt.datetime:
    # Computed when a test runs, not at collection: a session may start before midnight and run past it.
    return next_slot(days=-2)


@pytest.fixture
def victim_appointment(other_patient, other_doctor) -> Appointment:
    return AppointmentFactory(
        patient=other_patient, doctor=other_doctor, start=next_slot(days=3), status=Status.PENDING
    )


@pytest.fixture
def victim_past_confirmed(other_patient, other_doctor) -> Appointment:
    return AppointmentFactory(patient=other_patient, doctor=other_doctor, start=past_slot(), status=Status.CONFIRMED)


def same_as_missing(client, method: str, path_for, obj_id: int, body: dict | None = None) -> tuple[int, int]:
    """Status for the victim's object and for an id that does not exist; bodies must match too."""
    send = getattr(client, method)
    kwargs = {"format": "json"} if method not in ("get", "delete") else {}
    args = (body or {},) if method not in ("get", "delete") else ()
    real = send(path_for(obj_id), *args, **kwargs)
    missing = send(path_for(MISSING_ID), *args, **kwargs)
    if real.status_code == 404:
        assert real.json() == missing.json()
    return real.status_code, missing.status_code


# --- appointments ------------------------------------------------------------------------------------

APPOINTMENT_ACTIONS = [
    # (method, suffix, body, roles allowed to call it at all)
    ("get", "", None, {"patient", "doctor"}),
    ("patch", "", {"reason_for_visit": "hijacked", "location": "attacker's place"}, {"patient", "doctor"}),
    ("delete", "", None, {"patient", "doctor"}),
    ("post", "confirm/", {"location": "attacker's place"}, {"doctor"}),
    ("post", "cancel/", {"reason": "hijacked"}, {"patient", "doctor"}),
    ("post", "reschedule/", {"start": "LATER"}, {"patient", "doctor"}),
    ("post", "refer/", {"doctor": 0}, {"doctor"}),
    ("get", "history/", None, {"patient", "doctor"}),
    ("get", "notes/", None, {"patient", "doctor"}),
    ("post", "notes/", {"text": "planted note"}, {"patient", "doctor"}),
]


@pytest.mark.parametrize("attacker_role", ["patient", "doctor"])
@pytest.mark.parametrize(("method", "suffix", "body", "roles"), APPOINTMENT_ACTIONS)
def test_attacker_touching_another_users_appointment_gets_404(
    request, bearer, victim_appointment, attacker_role, method, suffix, body, roles
):
    attacker = request.getfixturevalue(attacker_role)
    if suffix == "reschedule/":
        body = {"start": next_slot(days=4).isoformat()}  # "LATER", computed now rather than at collection
    if suffix == "refer/":
        body = {"doctor": attacker.pk if attacker_role == "doctor" else victim_appointment.doctor_id}
    real, missing = same_as_missing(
        bearer(attacker), method, lambda pk: f"/api/appointments/{pk}/{suffix}", victim_appointment.pk, body
    )
    # A role that may never call the action may be refused up front (403 for every id alike).
    expected = {404} if attacker_role in roles else {403, 404}
    assert real in expected
    assert real == missing
    victim_appointment.refresh_from_db()
    assert (victim_appointment.status, victim_appointment.reason_for_visit, victim_appointment.location) == (
        Status.PENDING,
        "Check-up",
        "",
    )
    assert not AppointmentNote.objects.filter(appointment=victim_appointment).exists()
    assert not Appointment.objects.exclude(pk=victim_appointment.pk).exists()


@pytest.mark.parametrize("suffix", ["complete/", "no-show/"])
def test_doctor_closing_another_doctors_past_appointment_gets_404(bearer, doctor, victim_past_confirmed, suffix):
    real, missing = same_as_missing(
        bearer(doctor), "post", lambda pk: f"/api/appointments/{pk}/{suffix}", victim_past_confirmed.pk, {}
    )
    assert (real, missing) == (404, 404)
    victim_past_confirmed.refresh_from_db()
    assert victim_past_confirmed.status == Status.CONFIRMED


def test_attacker_putting_another_users_appointment_never_succeeds(bearer, patient, victim_appointment):
    r = bearer(patient).put(
        f"/api/appointments/{victim_appointment.pk}/", {"reason_for_visit": "hijacked"}, format="json"
    )
    assert r.status_code in (404, 405)


@pytest.mark.parametrize("attacker_role", ["patient", "doctor"])
def test_attacker_filtering_appointment_list_by_victim_sees_nothing(
    request, bearer, victim_appointment, other_patient, other_doctor, attacker_role
):
    client = bearer(request.getfixturevalue(attacker_role))
    for query in ({}, {"patient": other_patient.pk}, {"doctor": other_doctor.pk}):
        r = client.get("/api/appointments/", query)
        assert r.status_code in (200, 400)
        if r.status_code == 200:
            assert r.json()["count"] == 0


# --- consultations -----------------------------------------------------------------------------------


@pytest.fixture
def victim_consultation(other_patient, other_doctor) -> Consultation:
    appointment = AppointmentFactory(
        patient=other_patient, doctor=other_doctor, start=past_slot(), status=Status.COMPLETED
    )
    return ConsultationFactory(appointment=appointment)


@pytest.mark.parametrize("attacker_role", ["patient", "doctor"])
@pytest.mark.parametrize(
    ("method", "suffix", "body"),
    [
        ("get", "", None),
        ("patch", "", {"treatment_plan": "tampered"}),
        ("put", "", {"treatment_plan": "tampered", "medical_history": "x"}),
        ("get", "revisions/", None),
    ],
)
def test_attacker_reading_or_amending_another_patients_consultation_gets_404(
    request, bearer, victim_consultation, attacker_role, method, suffix, body
):
    client = bearer(request.getfixturevalue(attacker_role))
    real, missing = same_as_missing(
        client, method, lambda pk: f"/api/consultations/{pk}/{suffix}", victim_consultation.pk, body
    )
    expected = {404} if method == "get" or attacker_role == "doctor" else {403, 404}
    assert real in expected
    assert real == missing
    victim_consultation.refresh_from_db()
    assert victim_consultation.treatment_plan == "Rest and fluids."


@pytest.mark.parametrize("attacker_role", ["patient", "doctor"])
def test_attacker_deleting_another_patients_consultation_never_succeeds(
    request, bearer, victim_consultation, attacker_role
):
    r = bearer(request.getfixturevalue(attacker_role)).delete(f"/api/consultations/{victim_consultation.pk}/")
    assert r.status_code in (404, 405)
    assert Consultation.objects.filter(pk=victim_consultation.pk).exists()


def test_doctor_creating_consultation_for_another_doctors_appointment_rejected(bearer, doctor, victim_past_confirmed):
    r = bearer(doctor).post(
        "/api/consultations/", {"appointment": victim_past_confirmed.pk, "treatment_plan": "x"}, format="json"
    )
    assert r.status_code in (400, 404)
    assert not Consultation.objects.exists()


@pytest.mark.parametrize("attacker_role", ["patient", "doctor"])
def test_attacker_listing_consultations_of_victim_sees_nothing(
    request, bearer, victim_consultation, other_patient, attacker_role
):
    client = bearer(request.getfixturevalue(attacker_role))
    for query in ({}, {"patient": other_patient.pk}, {"appointment": victim_consultation.appointment_id}):
        r = client.get("/api/consultations/", query)
        assert r.status_code in (200, 400)
        if r.status_code == 200:
            assert r.json()["count"] == 0


# --- notifications -----------------------------------------------------------------------------------


@pytest.fixture
def victim_notification(other_patient) -> Notification:
    return NotificationFactory(
        user=other_patient, kind=Kind.APPOINTMENT_CONFIRMED, title="Confirmed", message="Your HIV test visit"
    )


@pytest.mark.parametrize(("method", "suffix"), [("get", ""), ("post", "read/")])
def test_attacker_reading_another_users_notification_gets_404(bearer, patient, victim_notification, method, suffix):
    real, missing = same_as_missing(
        bearer(patient), method, lambda pk: f"/api/notifications/{pk}/{suffix}", victim_notification.pk, {}
    )
    assert (real, missing) == (404, 404)
    victim_notification.refresh_from_db()
    assert victim_notification.is_read is False


@pytest.mark.parametrize("method", ["patch", "put", "delete"])
def test_attacker_changing_another_users_notification_never_succeeds(bearer, patient, victim_notification, method):
    r = getattr(bearer(patient), method)(f"/api/notifications/{victim_notification.pk}/", {"is_read": True})
    assert r.status_code in (404, 405)
    assert Notification.objects.filter(pk=victim_notification.pk, is_read=False).exists()


def test_read_all_marks_only_the_callers_notifications(bearer, patient, victim_notification):
    r = bearer(patient).post("/api/notifications/read-all/")
    assert (r.status_code, r.json()) == (200, {"updated": 0})
    victim_notification.refresh_from_db()
    assert victim_notification.is_read is False


def test_attacker_listing_notifications_sees_only_own(bearer, patient, victim_notification):
    r = bearer(patient).get("/api/notifications/")
    assert r.json()["count"] == 0
    assert bearer(patient).get("/api/notifications/unread-count/").json() == {"unread": 0}


# --- patients directory ------------------------------------------------------------------------------


def test_doctor_reading_patient_without_appointment_gets_404(bearer, doctor, other_patient, victim_appointment):
    real, missing = same_as_missing(bearer(doctor), "get", lambda pk: f"/api/patients/{pk}/", other_patient.pk)
    assert (real, missing) == (404, 404)
    listed = bearer(doctor).get("/api/patients/").json()
    assert other_patient.pk not in [row["id"] for row in listed["results"]]


def test_doctor_sees_patient_once_they_have_an_appointment(bearer, other_doctor, other_patient, victim_appointment):
    assert bearer(other_doctor).get(f"/api/patients/{other_patient.pk}/").status_code == 200


# --- waitlist ----------------------------------------------------------------------------------------


@pytest.fixture
def victim_waitlist_entry(other_patient, doctor) -> WaitlistEntry:
    start = next_slot(days=1).date()
    return WaitlistEntryFactory(
        patient=other_patient, doctor=doctor, start_date=start, end_date=start + dt.timedelta(days=7)
    )


def test_attacker_deleting_another_patients_waitlist_entry_gets_404(bearer, patient, victim_waitlist_entry):
    real, missing = same_as_missing(
        bearer(patient), "delete", lambda pk: f"/api/waitlist/{pk}/", victim_waitlist_entry.pk
    )
    assert (real, missing) == (404, 404)
    assert WaitlistEntry.objects.filter(pk=victim_waitlist_entry.pk).exists()


def test_attacker_listing_waitlist_sees_only_own(bearer, patient, victim_waitlist_entry):
    assert bearer(patient).get("/api/waitlist/").json()["count"] == 0


# --- availability and time off -----------------------------------------------------------------------


@pytest.fixture
def victim_rule(other_doctor) -> AvailabilityRule:
    return AvailabilityRuleFactory(doctor=other_doctor, weekday=2)


@pytest.fixture
def victim_time_off(other_doctor) -> TimeOff:
    return TimeOffFactory(doctor=other_doctor)


@pytest.mark.parametrize(
    ("method", "body"),
    [
        ("get", None),
        ("patch", {"end_time": "18:00"}),
        ("put", {"weekday": 2, "start_time": "06:00", "end_time": "07:00"}),
        ("delete", None),
    ],
)
def test_doctor_touching_another_doctors_availability_rule_gets_404(bearer, doctor, victim_rule, method, body):
    real, missing = same_as_missing(bearer(doctor), method, lambda pk: f"/api/availability/{pk}/", victim_rule.pk, body)
    assert (real, missing) == (404, 404)
    victim_rule.refresh_from_db()
    assert (victim_rule.start_time, victim_rule.end_time) == (dt.time(9), dt.time(17))


@pytest.mark.parametrize(("method", "body"), [("get", None), ("patch", {"reason": "hijacked"}), ("delete", None)])
def test_doctor_touching_another_doctors_time_off_gets_404(bearer, doctor, victim_time_off, method, body):
    real, missing = same_as_missing(bearer(doctor), method, lambda pk: f"/api/time-off/{pk}/", victim_time_off.pk, body)
    assert (real, missing) == (404, 404)
    victim_time_off.refresh_from_db()
    assert victim_time_off.reason == "Conference"


def test_doctor_lists_only_own_availability_and_time_off(bearer, doctor, victim_rule, victim_time_off):
    client = bearer(doctor)
    assert client.get("/api/availability/").json()["count"] == 0
    assert client.get("/api/time-off/").json()["count"] == 0
