"""The "new message" email under a deferring backend: one queued check per recipient and burst, not one task per
message (messaging.services._claim_email_check, messaging.tasks._newest_to_email_about)."""

import datetime as dt

import pytest
import time_machine
from django.core import mail
from django_tasks_db.models import DBTaskResult

from messaging import services
from messaging.models import Thread
from messaging.tasks import send_message_email

pytestmark = pytest.mark.django_db

DELAY = 120


@pytest.fixture(autouse=True)
def _deferring_backend(settings) -> None:
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    settings.MESSAGE_EMAIL_DELAY_SECONDS = DELAY


def queued() -> list[DBTaskResult]:
    return list(DBTaskResult.objects.filter(status="READY").order_by("enqueued_at", "pk"))


@pytest.fixture
def run(django_capture_on_commit_callbacks):
    def run(task: DBTaskResult) -> bool:
        """Run a queued check as the worker would once it is due (its own commit included), and mark it done."""
        with django_capture_on_commit_callbacks(execute=True):
            result = send_message_email.call(*task.args_kwargs["args"], **task.args_kwargs["kwargs"])
        DBTaskResult.objects.filter(pk=task.pk).update(status="SUCCESSFUL")
        return result

    return run


def post(thread: Thread, sender, body: str, capture) -> int:
    with capture(execute=True):
        return services.message_post(thread_id=thread.pk, sender=sender, body=body).pk


def later(seconds: float) -> time_machine.travel:
    return time_machine.travel(dt.timedelta(seconds=seconds))


def test_a_burst_queues_one_check_due_a_delay_after_its_first_message(
    thread, patient, doctor, django_capture_on_commit_callbacks
):
    first = post(thread, doctor, "a", django_capture_on_commit_callbacks)
    post(thread, doctor, "b", django_capture_on_commit_callbacks)
    post(thread, doctor, "c", django_capture_on_commit_callbacks)

    [task] = queued()
    thread.refresh_from_db()
    assert task.args_kwargs["kwargs"]["message_id"] == first
    assert task.args_kwargs["kwargs"]["recipient_id"] == patient.pk
    assert task.run_after == thread.patient_email_check_at
    first_at = thread.messages.get(pk=first).created_at
    assert task.run_after == first_at + dt.timedelta(seconds=DELAY)
    assert thread.doctor_email_check_at is None


def test_the_check_waits_for_the_bursts_last_message_then_sends_one_email(
    thread, patient, doctor, run, django_capture_on_commit_callbacks
):
    post(thread, doctor, "a", django_capture_on_commit_callbacks)
    with later(DELAY - 10):
        last = post(thread, doctor, "b", django_capture_on_commit_callbacks)
    [check] = queued()

    with later(DELAY + 1):  # the first check is due; "b" came 11 s ago
        assert run(check) is False
    [again] = queued()
    thread.refresh_from_db()
    assert again.args_kwargs["kwargs"]["message_id"] == last
    assert again.run_after == thread.messages.get(pk=last).created_at + dt.timedelta(seconds=DELAY)
    assert thread.patient_email_check_at == again.run_after
    assert mail.outbox == []

    with later(2 * DELAY):
        assert run(again) is True
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == [patient.email]
    thread.refresh_from_db()
    assert thread.patient_email_check_at is None
    assert queued() == []


def test_a_message_after_the_check_ran_queues_a_new_one(thread, doctor, run, django_capture_on_commit_callbacks):
    post(thread, doctor, "a", django_capture_on_commit_callbacks)
    with later(DELAY + 1):
        assert run(queued()[0]) is True
        post(thread, doctor, "b", django_capture_on_commit_callbacks)
    assert len(queued()) == 1
    assert len(mail.outbox) == 1


def test_no_email_when_read_before_the_check(thread, patient, doctor, run, django_capture_on_commit_callbacks):
    message = post(thread, doctor, "a", django_capture_on_commit_callbacks)
    services.thread_mark_read(thread=thread, user=patient, up_to=message)

    with later(DELAY + 1):
        assert run(queued()[0]) is False
    assert mail.outbox == []
    thread.refresh_from_db()
    assert thread.patient_email_check_at is None


def test_no_email_when_every_message_since_the_check_was_queued_is_retracted(
    thread, doctor, run, django_capture_on_commit_callbacks
):
    message = post(thread, doctor, "a", django_capture_on_commit_callbacks)
    services.message_retract(message=thread.messages.get(pk=message), by=doctor)

    with later(DELAY + 1):
        assert run(queued()[0]) is False
    assert mail.outbox == []


def test_each_participant_has_a_check_of_their_own(thread, patient, doctor, run, django_capture_on_commit_callbacks):
    post(thread, doctor, "to the patient", django_capture_on_commit_callbacks)
    post(thread, patient, "to the doctor", django_capture_on_commit_callbacks)

    tasks = {task.args_kwargs["kwargs"]["recipient_id"]: task for task in queued()}
    assert set(tasks) == {patient.pk, doctor.pk}
    with later(DELAY + 1):
        # The patient's reply moved their watermark past the doctor's message: only the doctor is emailed.
        assert (run(tasks[patient.pk]), run(tasks[doctor.pk])) == (False, True)
    assert [m.to for m in mail.outbox] == [[doctor.email]]
    thread.refresh_from_db()
    assert (thread.patient_email_check_at, thread.doctor_email_check_at) == (None, None)


def test_a_check_long_overdue_is_taken_for_lost_and_the_old_one_does_nothing(
    thread, doctor, run, django_capture_on_commit_callbacks
):
    post(thread, doctor, "a", django_capture_on_commit_callbacks)
    [lost] = queued()
    with later(2 * DELAY + 5):  # due DELAY ago and still queued: a worker dropped it
        post(thread, doctor, "b", django_capture_on_commit_callbacks)
        assert len(queued()) == 2
        assert run(lost) is False  # no longer the recipient's check
    with later(3 * DELAY + 10):
        assert run(queued()[0]) is True
    assert len(mail.outbox) == 1


def test_a_check_shortly_overdue_still_covers_new_messages(thread, doctor, django_capture_on_commit_callbacks):
    post(thread, doctor, "a", django_capture_on_commit_callbacks)
    with later(DELAY + 30):  # the worker is 30 s behind
        post(thread, doctor, "b", django_capture_on_commit_callbacks)
    assert len(queued()) == 1


def test_each_message_gets_its_own_task_without_a_deferring_backend(
    settings, thread, doctor, django_capture_on_commit_callbacks
):
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    post(thread, doctor, "a", django_capture_on_commit_callbacks)
    post(thread, doctor, "b", django_capture_on_commit_callbacks)

    assert len(mail.outbox) == 2  # each decided at once (no delay to wait for a burst's end)
    thread.refresh_from_db()
    assert thread.patient_email_check_at is None
