"""Posting a message runs as one SQL statement on PostgreSQL and through the ORM elsewhere
(messaging.services.message_post): the same sequence of posts must leave the same rows and queue the same email
checks on both paths."""

import datetime as dt

import pytest
import time_machine
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from messaging import services
from messaging.models import Message, Thread
from messaging.tests.factories import ThreadFactory
from users.tests.factories import DoctorFactory, PatientFactory

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]

DELAY = 120
START = dt.datetime(2030, 3, 4, 9, 0, tzinfo=dt.UTC)
# (seconds after START, who posts): a burst from the doctor, replies, two posts at the very same instant, a
# check taken for lost exactly when a second delay has passed (the queued check is never run here) and one just
# before, then both taken for lost.
SCRIPT = [
    (0, "doctor"),
    (1, "doctor"),
    (2, "patient"),
    (30, "doctor"),
    (30, "doctor"),
    (200, "patient"),
    (2 * DELAY, "doctor"),
    (2 * DELAY + 1.9, "patient"),
    (500, "doctor"),
    (501, "patient"),
]


@pytest.fixture(autouse=True)
def _deferring_backend(settings) -> None:
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    settings.MESSAGE_EMAIL_DELAY_SECONDS = DELAY


def replay(post, django_capture_on_commit_callbacks) -> list[dict]:
    """Run SCRIPT through `post` in a new thread; after each post, what it returned and the thread's state, with
    message ids replaced by their place in the script (the two runs' ids differ)."""
    with time_machine.travel(START, tick=False):
        patient, doctor = PatientFactory(), DoctorFactory()
        thread = ThreadFactory(patient=patient, doctor=doctor)
    people = {"patient": patient, "doctor": doctor}
    place: dict[int | None, int | None] = {None: None, 0: 0}
    states = []
    for seconds, who in SCRIPT:
        with time_machine.travel(START + dt.timedelta(seconds=seconds), tick=False):
            tasks_before = set(DBTaskResult.objects.values_list("pk", flat=True))
            with django_capture_on_commit_callbacks(execute=True):
                message = post(thread_id=thread.pk, sender=people[who], body=f"{who} at {seconds}")
        place[message.pk] = len(place) - 1
        stored = Message.objects.get(pk=message.pk)
        row = Thread.objects.get(pk=thread.pk)
        new_tasks = DBTaskResult.objects.exclude(pk__in=tasks_before)
        states.append(
            {
                "returned": (message.sender_id == people[who].pk, message.body, message.status, message.created_at),
                "stored": (stored.sender_id, stored.body, stored.status, stored.created_at, stored.retracted_at),
                "thread": (
                    place[row.last_message_id],
                    row.updated_at,
                    place[row.patient_read_up_to],
                    place[row.doctor_read_up_to],
                    row.patient_email_check_at,
                    row.doctor_email_check_at,
                ),
                "checks queued": sorted(
                    (
                        place[task.args_kwargs["kwargs"]["message_id"]],
                        task.args_kwargs["kwargs"]["recipient_id"] == patient.pk,
                        task.args_kwargs["kwargs"]["check_at"],
                    )
                    for task in new_tasks
                ),
            }
        )
    return [state | {"stored": state["stored"][1:]} for state in states]  # sender ids differ between runs


def test_posting_is_the_same_on_both_paths(django_capture_on_commit_callbacks):
    one_statement = replay(services._message_post_in_one_statement, django_capture_on_commit_callbacks)
    through_the_orm = replay(services._message_post_through_the_orm, django_capture_on_commit_callbacks)

    assert one_statement == through_the_orm
    # The script reaches every branch: each recipient's first check, bursts that queue nothing, and checks taken
    # for lost once a second delay has passed, the first exactly then.
    assert [step for step, state in enumerate(one_statement) if state["checks queued"]] == [0, 2, 6, 8, 9]
    assert one_statement[0]["thread"][2:4] == (0, 1)  # the doctor read their own message, the patient none


def test_the_statement_dates_a_message_no_earlier_than_the_one_before(thread, doctor, patient):
    """The statement takes its time before it waits for the thread's lock: a message that waited behind a later
    one is dated with the thread's last activity, so dates never go backwards within a thread."""
    later = timezone.now() + dt.timedelta(seconds=30)
    Thread.objects.filter(pk=thread.pk).update(updated_at=later)

    message = services._message_post_in_one_statement(thread_id=thread.pk, sender=doctor, body="waited")

    assert message.created_at == later == Message.objects.get(pk=message.pk).created_at
    thread.refresh_from_db()
    assert thread.updated_at == later


@pytest.mark.parametrize("thread_id", ["0", "abc", "", str(2**63), str(-(2**63) - 1), None])
def test_the_statement_finds_no_thread_for_ids_that_cannot_be_one(thread_id, doctor):
    with pytest.raises(Thread.DoesNotExist):
        services._message_post_in_one_statement(thread_id=thread_id, sender=doctor, body="x")
    assert not Message.objects.exists()


def test_the_statement_finds_no_thread_of_someone_else(thread):
    with pytest.raises(Thread.DoesNotExist):
        services._message_post_in_one_statement(thread_id=thread.pk, sender=PatientFactory(), body="x")
    assert not Message.objects.exists()
