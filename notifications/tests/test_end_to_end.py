"""Through the real appointments API: the signals its services send reach the right people."""

import datetime as dt

import pytest
from django.core import mail
from django.db import transaction

from appointments.choices import Status
from appointments.models import AvailabilityRule
from appointments.services import appointment_book
from appointments.tests.factories import AppointmentFactory, next_slot
from notifications.choices import Kind
from notifications.models import Notification
from notifications.tests.factories import WaitlistEntryFactory
from users.tests.factories import PatientFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def open_doctor(doctor):
    AvailabilityRule.objects.bulk_create(
        AvailabilityRule(doctor=doctor, weekday=day, start_time=dt.time(8), end_time=dt.time(18)) for day in range(7)
    )
    return doctor


def book(client, doctor, start: dt.datetime):
    return client.post(
        "/api/appointments/",
        {"doctor": doctor.pk, "start": start.isoformat(), "reason_for_visit": "cough"},
        format="json",
    )


def test_patient_booking_notifies_and_emails_the_doctor(
    client_for, patient, open_doctor, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        r = book(client_for(patient), open_doctor, next_slot(days=3))
    assert r.status_code == 201, r.content

    assert list(Notification.objects.values_list("user_id", "kind", "appointment_id")) == [
        (open_doctor.pk, Kind.APPOINTMENT_CREATED, r.json()["id"])
    ]
    assert [m.to for m in mail.outbox] == [[open_doctor.email]]
    assert "(UTC)" in mail.outbox[0].body
    assert client_for(open_doctor).get("/api/notifications/unread-count/").json() == {"unread": 1}
    assert client_for(patient).get("/api/notifications/unread-count/").json() == {"unread": 0}


def test_rejected_booking_notifies_nobody(
    client_for, patient, other_patient, open_doctor, django_capture_on_commit_callbacks
):
    start = next_slot(days=3)
    with django_capture_on_commit_callbacks(execute=True):
        assert book(client_for(other_patient), open_doctor, start).status_code == 201
    Notification.objects.all().delete()
    mail.outbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        r = book(client_for(patient), open_doctor, start)

    assert r.status_code == 409
    assert Notification.objects.count() == 0
    assert mail.outbox == []


def test_doctor_confirming_then_patient_cancelling_notifies_each_other_and_the_waitlist(
    client_for, patient, open_doctor, django_capture_on_commit_callbacks
):
    start = next_slot(days=4)
    waiter = PatientFactory()
    WaitlistEntryFactory(patient=waiter, doctor=open_doctor, start_date=start.date(), end_date=start.date())
    with django_capture_on_commit_callbacks(execute=True):
        appt_id = book(client_for(patient), open_doctor, start).json()["id"]
    with django_capture_on_commit_callbacks(execute=True):
        r = client_for(open_doctor).post(f"/api/appointments/{appt_id}/confirm/", {"location": "Room 9"}, format="json")
    assert r.status_code == 200, r.content
    with django_capture_on_commit_callbacks(execute=True):
        r = client_for(patient).post(f"/api/appointments/{appt_id}/cancel/", {"reason": "better"}, format="json")
    assert r.status_code == 200, r.content

    got = sorted(Notification.objects.values_list("user_id", "kind"))
    assert got == sorted(
        [
            (open_doctor.pk, Kind.APPOINTMENT_CREATED),
            (patient.pk, Kind.APPOINTMENT_CONFIRMED),
            (open_doctor.pk, Kind.APPOINTMENT_CANCELLED),
            (waiter.pk, Kind.SLOT_OPENED),
        ]
    )
    assert Notification.objects.get(kind=Kind.APPOINTMENT_CONFIRMED).data["location"] == "Room 9"
    opened = Notification.objects.get(kind=Kind.SLOT_OPENED)
    assert opened.data["doctor"] == open_doctor.pk
    assert dt.datetime.fromisoformat(opened.data["start"]) == start
    assert sorted(m.to[0] for m in mail.outbox) == sorted(
        [open_doctor.email, patient.email, open_doctor.email, waiter.email]
    )


def test_booking_rolled_back_after_the_service_notifies_nobody(
    patient, open_doctor, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        try:
            with transaction.atomic():
                appointment_book(doctor=open_doctor, patient=patient, start=next_slot(days=3), by=patient)
                raise RuntimeError("a later step of the same request failed")
        except RuntimeError:
            pass

    assert callbacks == []
    assert Notification.objects.count() == 0
    assert mail.outbox == []


def test_doctor_writing_and_amending_consultation_notifies_patient_without_content(
    client_for, patient, doctor, django_capture_on_commit_callbacks
):
    appt = AppointmentFactory(patient=patient, doctor=doctor, status=Status.CONFIRMED, start=next_slot(days=2))
    client = client_for(doctor)
    with django_capture_on_commit_callbacks(execute=True):
        r = client.post(
            "/api/consultations/",
            {"appointment": appt.pk, "medical_history": "SECRET-HISTORY", "treatment_plan": "SECRET-PLAN"},
            format="json",
        )
    assert r.status_code == 201, r.content
    with django_capture_on_commit_callbacks(execute=True):
        r = client.patch(f"/api/consultations/{r.json()['id']}/", {"treatment_plan": "SECRET-NEW"}, format="json")
    assert r.status_code == 200, r.content

    assert list(Notification.objects.order_by("id").values_list("user_id", "kind")) == [
        (patient.pk, Kind.CONSULTATION_CREATED),
        (patient.pk, Kind.CONSULTATION_UPDATED),
    ]
    assert [m.to for m in mail.outbox] == [[patient.email], [patient.email]]
    everything = "".join(f"{n.title}{n.message}{n.data}" for n in Notification.objects.all()) + "".join(
        m.subject + m.body + m.alternatives[0][0] for m in mail.outbox
    )
    assert "SECRET" not in everything
