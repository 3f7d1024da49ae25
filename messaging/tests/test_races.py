"""Concurrency on PostgreSQL, with real threads."""

from collections import Counter

import pytest
from rest_framework.test import APIClient

from appointments.tests.factories import AppointmentFactory
from cybermed.testing import run_together
from messaging.models import Message, Thread
from messaging.tests.factories import ThreadFactory
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
