"""The per-appointment calendar, SEQUENCE bumps and the invitations in emails."""

import datetime as dt
import email

import pytest
from django.core import mail

from appointments import services as appointment_services
from appointments.choices import Status
from appointments.events import AppointmentEventKind as Event
from appointments.tests.factories import AppointmentFactory
from calendars.tests.conftest import NOW
from calendars.tests.helpers import events, parse

pytestmark = pytest.mark.django_db


@pytest.fixture
def appt(london_doctor, patient):
    start = NOW + dt.timedelta(days=2)
    return AppointmentFactory(doctor=london_doctor, patient=patient, start=start, end=start + dt.timedelta(minutes=30))


# --- GET /api/appointments/{id}/ics/ ------------------------------------------------------------------


@pytest.mark.parametrize("who", ["patient", "doctor"])
def test_participant_gets_appointment_ics(client_for, appt, who):
    user = appt.patient if who == "patient" else appt.doctor
    r = client_for(user).get(f"/api/appointments/{appt.pk}/ics/", HTTP_ACCEPT="application/json")
    assert r.status_code == 200
    assert r["Content-Type"].startswith("text/calendar")
    assert r["Cache-Control"] == "no-store"
    (event,) = events(r.content).values()
    assert str(event["UID"]) == f"appointment-{appt.pk}@127.0.0.1"
    other = "Dr Ada Lovelace" if who == "patient" else appt.patient.get_full_name()
    assert str(event["SUMMARY"]).startswith(f"Appointment with {other}")
    assert b"Check-up" not in r.content  # the reason for the visit


@pytest.mark.parametrize("who", ["other_patient", "other_doctor", "staff"])
def test_non_participant_appointment_ics_404(client_for, appt, request, who):
    r = client_for(request.getfixturevalue(who)).get(f"/api/appointments/{appt.pk}/ics/")
    assert r.status_code == 404
    assert r["Content-Type"] == "application/json"
    assert r.json()["detail"]


def test_anonymous_appointment_ics_401_json(anonymous, appt):
    r = anonymous.get(f"/api/appointments/{appt.pk}/ics/", HTTP_ACCEPT="text/calendar")
    assert (r.status_code, r["Content-Type"]) == (401, "application/json")


@pytest.mark.parametrize("pk", ["0", "99999999", "abc", "1e3", "-1"])
def test_participant_bad_appointment_id_404(client_for, patient, pk):
    assert client_for(patient).get(f"/api/appointments/{pk}/ics/").status_code == 404


# --- SEQUENCE -------------------------------------------------------------------------------------


def test_sequence_bumps_on_every_time_or_status_change(appt, london_doctor, patient):
    assert appt.sequence == 0
    appt = appointment_services.appointment_confirm(appointment=appt, by=london_doctor)
    assert appt.sequence == 1
    appointment_services.appointment_update(appointment=appt, by=london_doctor, location="Room 4")
    appt.refresh_from_db()
    assert appt.sequence == 1  # a location edit is neither time nor status
    new_start = appt.start + dt.timedelta(hours=1)
    appt = appointment_services.appointment_transition(
        appointment=appt,
        to=Status.CONFIRMED,
        by=london_doctor,
        event=Event.RESCHEDULED,
        changes={"start": new_start, "end": new_start + dt.timedelta(minutes=30)},
    )
    assert appt.sequence == 2
    appt = appointment_services.appointment_cancel(appointment=appt, by=patient, reason="")
    appt.refresh_from_db()
    assert appt.sequence == 3


def test_feed_shows_bumped_sequence_and_cancel(client_for, anonymous, appt, patient, feed_token):
    path = f"/calendar/{feed_token(patient)}.ics"
    appointment_services.appointment_cancel(appointment=appt, by=patient, reason="")
    (event,) = events(anonymous.get(path).content).values()
    assert (int(event["SEQUENCE"]), str(event["STATUS"])) == (1, "CANCELLED")


# --- Invitations in emails --------------------------------------------------------------------------


def _invitation(message) -> tuple[str, bytes]:
    parsed = email.message_from_bytes(message.message().as_bytes())
    (part,) = [p for p in parsed.walk() if p.get_content_type() == "text/calendar"]
    return part.get_param("method"), part.get_payload(decode=True)


def test_confirmation_email_carries_request(django_capture_on_commit_callbacks, appt, london_doctor, patient):
    with django_capture_on_commit_callbacks(execute=True):
        appointment_services.appointment_confirm(appointment=appt, by=london_doctor)
    (message,) = [m for m in mail.outbox if m.to == [patient.email]]
    method, body = _invitation(message)
    assert method == "REQUEST"
    cal = parse(body)
    assert str(cal["METHOD"]) == "REQUEST"
    (event,) = events(body).values()
    assert str(event["UID"]) == f"appointment-{appt.pk}@127.0.0.1"
    assert (int(event["SEQUENCE"]), str(event["STATUS"])) == (1, "CONFIRMED")
    assert str(event["ORGANIZER"]) == "mailto:no-reply@cybermed.local"
    assert event["ORGANIZER"].params["CN"] == "Dr Ada Lovelace"
    assert str(event["ATTENDEE"]) == f"mailto:{patient.email}"
    assert b"Check-up" not in body


def test_cancellation_email_carries_cancel_with_higher_sequence(
    django_capture_on_commit_callbacks, appt, london_doctor, patient
):
    with django_capture_on_commit_callbacks(execute=True):
        appointment_services.appointment_confirm(appointment=appt, by=london_doctor)
    _, request_body = _invitation(mail.outbox[-1])
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        appointment_services.appointment_cancel(appointment=appt, by=london_doctor, reason="")
    (message,) = mail.outbox
    method, body = _invitation(message)
    assert method == "CANCEL"
    assert str(parse(body)["METHOD"]) == "CANCEL"
    (cancel,) = events(body).values()
    (request,) = events(request_body).values()
    assert str(cancel["UID"]) == str(request["UID"])
    assert int(cancel["SEQUENCE"]) > int(request["SEQUENCE"])
    assert str(cancel["STATUS"]) == "CANCELLED"


def test_reschedule_email_carries_request_with_new_time(django_capture_on_commit_callbacks, appt, patient):
    new_start = appt.start + dt.timedelta(hours=3)
    with django_capture_on_commit_callbacks(execute=True):
        appointment_services.appointment_transition(
            appointment=appt,
            to=Status.PENDING,
            by=patient,
            event=Event.RESCHEDULED,
            changes={"start": new_start, "end": new_start + dt.timedelta(minutes=30)},
        )
    (message,) = [m for m in mail.outbox if m.to == [appt.doctor.email]]
    method, body = _invitation(message)
    (event,) = events(body).values()
    assert method == "REQUEST"
    assert event.decoded("DTSTART") == new_start
    assert (int(event["SEQUENCE"]), str(event["STATUS"])) == (1, "TENTATIVE")


def test_completion_email_carries_no_invitation(django_capture_on_commit_callbacks, london_doctor, patient):
    start = NOW - dt.timedelta(hours=2)
    appt = AppointmentFactory(
        doctor=london_doctor, patient=patient, start=start, end=start + dt.timedelta(minutes=30), status="confirmed"
    )
    with django_capture_on_commit_callbacks(execute=True):
        appointment_services.appointment_complete(appointment=appt, by=london_doctor)
    (message,) = mail.outbox
    parsed = email.message_from_bytes(message.message().as_bytes())
    assert [p for p in parsed.walk() if p.get_content_type() == "text/calendar"] == []
