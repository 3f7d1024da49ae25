"""Concurrency on PostgreSQL, with real threads."""

from collections import Counter

import pytest
from django_tasks_db.models import DBTaskResult
from rest_framework.test import APIClient

from appointments.tests.factories import AppointmentFactory
from cybermed.testing import run_together
from messaging.models import Message, Thread
from messaging.tests.factories import MessageFactory, ThreadFactory
from users.tests.factories import DoctorFactory, PatientFactory

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def post(user, url: str, body: dict):
    def call() -> int:
        client = APIClient()
        client.force_authenticate(user)
        return client.post(url, body, format="json").status_code

    return call


def test_patient_and_doctor_opening_their_thread_at_once_get_one_thread():
    patient, doctor = PatientFactory(), DoctorFactory()
    AppointmentFactory(patient=patient, doctor=doctor)

    codes = run_together(
        [post(patient, "/api/threads/", {"doctor": doctor.pk}), post(doctor, "/api/threads/", {"patient": patient.pk})]
        * 4
    )

    assert Counter(codes)[201] == 1
    assert set(codes) <= {200, 201}
    assert Thread.objects.count() == 1


def test_concurrent_posts_commit_in_id_order_and_last_message_is_the_newest():
    thread = ThreadFactory()
    url = f"/api/threads/{thread.pk}/messages/"

    codes = run_together([post(thread.patient if i % 2 else thread.doctor, url, {"body": f"m{i}"}) for i in range(12)])

    assert codes == [201] * 12
    thread.refresh_from_db()
    assert thread.last_message_id == Message.objects.filter(thread=thread).latest("pk").pk
    created = list(Message.objects.filter(thread=thread).order_by("pk").values_list("created_at", flat=True))
    assert created == sorted(created)


def test_concurrent_posts_from_both_sides_queue_one_email_check_each_and_keep_both_watermarks(settings):
    """Posts and read marks racing on one thread (the post is one statement on PostgreSQL, which takes the thread's
    lock and then reads its newest row): one queued check per recipient, and each watermark ends at or past the
    participant's own last message, never past the thread's."""
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    thread = ThreadFactory()
    url = f"/api/threads/{thread.pk}/messages/"
    MessageFactory(thread=thread, sender=thread.doctor)
    first = Message.objects.get(thread=thread).pk
    calls = [post(thread.patient if i % 2 else thread.doctor, url, {"body": f"m{i}"}) for i in range(12)]
    read_url = f"/api/threads/{thread.pk}/read/"
    calls += [post(user, read_url, {"up_to": first}) for user in (thread.patient, thread.doctor)]

    codes = run_together(calls)

    assert codes == [201] * 12 + [200, 200]
    recipients = Counter(task.args_kwargs["kwargs"]["recipient_id"] for task in DBTaskResult.objects.all())
    assert recipients == {thread.patient_id: 1, thread.doctor_id: 1}
    thread.refresh_from_db()
    newest = Message.objects.filter(thread=thread).latest("pk").pk
    own_last = {
        user_id: Message.objects.filter(thread=thread, sender_id=user_id).latest("pk").pk
        for user_id in (thread.patient_id, thread.doctor_id)
    }
    assert own_last[thread.patient_id] <= thread.patient_read_up_to <= newest
    assert own_last[thread.doctor_id] <= thread.doctor_read_up_to <= newest
