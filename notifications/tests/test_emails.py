"""Notification emails: sent from a background task, in the clinic's time zone, never with medical content."""

import datetime as dt
import logging
import smtplib
from types import SimpleNamespace

import pytest
from django.core import mail
from django.core.mail.backends.base import BaseEmailBackend
from django.core.management import call_command
from django.db import transaction
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from appointments.choices import Status
from appointments.events import AppointmentEventKind as Event
from appointments.tests.factories import AppointmentFactory
from consultations.signals import consultation_saved
from notifications.formatting import format_local
from notifications.models import Notification
from notifications.services import notification_create
from notifications.tasks import send_notification_email
from notifications.tests.factories import NotificationFactory, NotificationPreferenceFactory
from users.tests.factories import DoctorFactory

pytestmark = pytest.mark.django_db


class FailingEmailBackend(BaseEmailBackend):
    def send_messages(self, email_messages):  # noqa: ANN001, ANN201
        raise smtplib.SMTPServerDisconnected("mail server went away")


class RefusingEmailBackend(BaseEmailBackend):
    def send_messages(self, email_messages):  # noqa: ANN001, ANN201
        raise ConnectionRefusedError("connection refused")


@pytest.fixture
def lagos_doctor():
    return DoctorFactory(doctor_profile__timezone="Africa/Lagos")


@pytest.fixture
def lagos_appointment(patient, lagos_doctor):
    # 08:00 UTC is 09:00 in Lagos (UTC+1 all year).
    start = dt.datetime.combine(timezone.now().date() + dt.timedelta(days=5), dt.time(8), tzinfo=dt.UTC)
    return AppointmentFactory(patient=patient, doctor=lagos_doctor, start=start, status=Status.CONFIRMED)


def test_format_local_names_the_zone():
    moment = dt.datetime(2026, 3, 2, 8, 0, tzinfo=dt.UTC)
    assert format_local(moment, "Africa/Lagos") == "Monday 2 March 2026, 09:00 (Africa/Lagos)"


def test_format_local_follows_daylight_saving():
    assert format_local(dt.datetime(2026, 7, 1, 13, 0, tzinfo=dt.UTC), "America/New_York") == (
        "Wednesday 1 July 2026, 09:00 (America/New_York)"
    )
    assert format_local(dt.datetime(2026, 1, 7, 13, 0, tzinfo=dt.UTC), "America/New_York") == (
        "Wednesday 7 January 2026, 08:00 (America/New_York)"
    )


def test_doctor_confirming_emails_patient_in_clinic_time(
    patient, lagos_doctor, lagos_appointment, send_event, django_capture_on_commit_callbacks
):
    lagos_appointment.location = "Room 4"
    lagos_appointment.save()
    with django_capture_on_commit_callbacks(execute=True):
        send_event(lagos_appointment, Event.CONFIRMED, actor=lagos_doctor, previous_status=Status.PENDING)

    assert len(mail.outbox) == 1
    email = mail.outbox[0]
    assert email.to == [patient.email]
    local_day = lagos_appointment.start.date()
    expected_when = f"{local_day:%A} {local_day.day} {local_day:%B %Y}, 09:00 (Africa/Lagos)"
    assert expected_when in email.body
    assert "08:00" not in email.body
    assert "Room 4" in email.body
    html, mimetype = email.alternatives[0]
    assert mimetype == "text/html"
    assert expected_when in html
    assert Notification.objects.get().title in email.subject


def test_html_email_escapes_user_text(patient, doctor, appointment, send_event, django_capture_on_commit_callbacks):
    appointment.location = "<script>alert(1)</script>"
    appointment.save()
    with django_capture_on_commit_callbacks(execute=True):
        send_event(appointment, Event.CONFIRMED, actor=doctor, previous_status=Status.PENDING)

    html = mail.outbox[0].alternatives[0][0]
    assert "<script>" not in html
    assert "&lt;script&gt;" in html


def test_patient_with_email_disabled_gets_notification_but_no_email(
    patient, doctor, appointment, send_event, django_capture_on_commit_callbacks
):
    NotificationPreferenceFactory(user=patient, email_enabled=False)
    with django_capture_on_commit_callbacks(execute=True):
        send_event(appointment, Event.CONFIRMED, actor=doctor, previous_status=Status.PENDING)

    assert Notification.objects.filter(user=patient).count() == 1
    assert mail.outbox == []


def test_email_goes_only_to_the_recipient(patient, doctor, appointment, send_event, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        send_event(appointment, Event.CREATED, actor=patient)

    assert [m.to for m in mail.outbox] == [[doctor.email]]


def test_consultation_email_says_record_changed_without_content(
    patient, doctor, appointment, django_capture_on_commit_callbacks
):
    consultation = SimpleNamespace(pk=5, appointment_id=appointment.pk, treatment_plan="SECRET-PLAN")
    with django_capture_on_commit_callbacks(execute=True):
        consultation_saved.send(sender=object, consultation=consultation, created=False, actor=doctor)

    assert len(mail.outbox) == 1
    email = mail.outbox[0]
    assert email.to == [patient.email]
    assert "consultation record" in email.body
    assert "SECRET" not in email.body + email.subject + email.alternatives[0][0]


@pytest.mark.parametrize("backend", ["FailingEmailBackend", "RefusingEmailBackend"])
def test_failing_mail_server_does_not_fail_the_change(
    backend, settings, patient, doctor, appointment, send_event, django_capture_on_commit_callbacks, caplog
):
    settings.EMAIL_BACKEND = f"notifications.tests.test_emails.{backend}"
    with caplog.at_level(logging.ERROR, logger="notifications.tasks"), django_capture_on_commit_callbacks(execute=True):
        send_event(appointment, Event.CONFIRMED, actor=doctor, previous_status=Status.PENDING)

    assert Notification.objects.filter(user=patient).count() == 1
    assert "could not email notification" in caplog.text


def test_email_task_raises_when_mail_server_fails_so_the_queue_retries(settings, patient):
    settings.EMAIL_BACKEND = "notifications.tests.test_emails.FailingEmailBackend"
    notification = NotificationFactory(user=patient, kind="reminder", title="t", message="m")

    with pytest.raises(smtplib.SMTPServerDisconnected):
        send_notification_email.call(notification_id=notification.pk)

    notification.refresh_from_db()
    assert notification.emailed_at is None  # the retry will send it
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    assert send_notification_email.call(notification_id=notification.pk) is True
    assert len(mail.outbox) == 1


def test_email_task_delivered_twice_sends_one_email(patient):
    notification = NotificationFactory(user=patient, kind="reminder", title="t", message="m")

    assert send_notification_email.call(notification_id=notification.pk) is True
    assert send_notification_email.call(notification_id=notification.pk) is False

    assert len(mail.outbox) == 1
    notification.refresh_from_db()
    assert notification.emailed_at is not None


def test_email_task_ignores_missing_notification():
    assert send_notification_email.call(notification_id=999_999) is False
    assert mail.outbox == []


@pytest.mark.django_db(transaction=True)
def test_email_waits_for_the_db_worker(settings, patient):
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    with transaction.atomic():
        notification = notification_create(user=patient, kind="reminder", title="Reminder", message="Soon.")
        assert mail.outbox == []  # nothing is queued before the commit

    assert mail.outbox == []
    assert list(DBTaskResult.objects.values_list("status", flat=True)) == ["READY"]
    call_command("db_worker", batch=True, startup_delay=False, reload=False, interval=0)

    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == [patient.email]
    assert "Soon." in mail.outbox[0].body
    assert list(DBTaskResult.objects.values_list("status", flat=True)) == ["SUCCESSFUL"]
    assert notification.pk in DBTaskResult.objects.get().args_kwargs["kwargs"].values()
