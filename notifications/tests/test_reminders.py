"""`send_reminders`: each participant of a confirmed appointment in the next 24 hours, exactly once."""

import datetime as dt
from io import StringIO

import pytest
from django.core import mail
from django.core.management import call_command
from django.utils import timezone

from appointments.choices import Status
from appointments.tests.factories import AppointmentFactory
from cybermed.testing import run_together
from notifications.choices import Kind
from notifications.models import Notification, ReminderSent
from notifications.services import reminders_send
from notifications.tests.factories import NotificationPreferenceFactory
from users.tests.factories import DoctorFactory, PatientFactory

pytestmark = pytest.mark.django_db


def soon(hours: float = 3) -> dt.datetime:
    return (timezone.now() + dt.timedelta(hours=hours)).replace(second=0, microsecond=0)


@pytest.fixture
def confirmed_soon(patient, doctor):
    return AppointmentFactory(patient=patient, doctor=doctor, status=Status.CONFIRMED, start=soon(), location="Room 2")


def reminded() -> list[tuple[int, int]]:
    return sorted(Notification.objects.filter(kind=Kind.REMINDER).values_list("user_id", "appointment_id"))


def test_system_reminds_both_participants_once(patient, doctor, confirmed_soon, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        assert reminders_send() == 2
    with django_capture_on_commit_callbacks(execute=True):
        assert reminders_send() == 0

    assert reminded() == sorted([(patient.pk, confirmed_soon.pk), (doctor.pk, confirmed_soon.pk)])
    assert sorted(m.to[0] for m in mail.outbox) == sorted([patient.email, doctor.email])
    n = Notification.objects.get(user=patient)
    assert n.data["location"] == "Room 2"
    assert n.data["start"] == confirmed_soon.start.isoformat()
    assert "(UTC)" in n.message


@pytest.mark.parametrize(
    ("status", "hours"),
    [
        (Status.PENDING, 3),
        (Status.CANCELLED, 3),
        (Status.COMPLETED, 3),
        (Status.CONFIRMED, 25),
        (Status.CONFIRMED, -1),
    ],
)
def test_system_does_not_remind_outside_rule(status, hours, patient, doctor):
    AppointmentFactory(patient=patient, doctor=doctor, status=status, start=soon(hours))

    assert reminders_send() == 0
    assert reminded() == []


def test_patient_with_reminders_disabled_is_not_reminded(patient, doctor, confirmed_soon):
    NotificationPreferenceFactory(user=patient, reminders_enabled=False)

    assert reminders_send() == 1
    assert reminded() == [(doctor.pk, confirmed_soon.pk)]


def test_patient_with_email_disabled_gets_reminder_without_email(
    patient, doctor, confirmed_soon, django_capture_on_commit_callbacks
):
    NotificationPreferenceFactory(user=patient, email_enabled=False)
    with django_capture_on_commit_callbacks(execute=True):
        assert reminders_send() == 2

    assert [m.to for m in mail.outbox] == [[doctor.email]]


def test_rescheduled_appointment_gets_a_fresh_reminder(patient, doctor, confirmed_soon):
    assert reminders_send() == 2
    confirmed_soon.start += dt.timedelta(hours=2)
    confirmed_soon.end += dt.timedelta(hours=2)
    confirmed_soon.save()

    assert reminders_send() == 2
    assert reminders_send() == 0
    assert ReminderSent.objects.count() == 4


def test_reminder_already_recorded_is_skipped_even_without_prefilter(patient, doctor, confirmed_soon):
    from notifications.services import _reminder_send

    assert _reminder_send(appointment=confirmed_soon, user=patient) is True
    assert _reminder_send(appointment=confirmed_soon, user=patient) is False
    assert Notification.objects.filter(user=patient).count() == 1


def test_command_prints_how_many_were_sent(confirmed_soon):
    out = StringIO()
    call_command("send_reminders", stdout=out)
    call_command("send_reminders", stdout=out)

    assert out.getvalue().splitlines() == ["Sent 2 reminder(s).", "Sent 0 reminder(s)."]


def test_reminders_query_count_does_not_grow_per_appointment(django_assert_max_num_queries):
    doctors = DoctorFactory.create_batch(3)
    for i in range(12):
        AppointmentFactory(doctor=doctors[i % 3], patient=PatientFactory(), status=Status.CONFIRMED, start=soon(1 + i))
    # Four reads up front (the last: who opted in to SMS), then per reminder only writes: two savepoints and
    # their releases, two inserts. No per-reminder reads of users, profiles or preferences.
    with django_assert_max_num_queries(4 + 24 * 6):
        assert reminders_send() == 24


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_concurrent_runs_send_each_reminder_once(patient, doctor, confirmed_soon):
    others = [
        AppointmentFactory(doctor=doctor, patient=PatientFactory(), status=Status.CONFIRMED, start=soon(4 + i))
        for i in range(5)
    ]
    results = run_together([reminders_send, reminders_send])

    expected = 2 * (1 + len(others))
    assert sum(results) == expected
    assert ReminderSent.objects.count() == expected
    assert Notification.objects.filter(kind=Kind.REMINDER).count() == expected
    assert len(mail.outbox) == expected
