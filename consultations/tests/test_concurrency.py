import threading

import pytest
from django.db import IntegrityError, connection
from rest_framework.test import APIClient

from appointments.choices import Status
from appointments.tests.factories import AppointmentFactory
from consultations import services
from consultations.models import Consultation
from cybermed.exceptions import AlreadyExists, conflict_for_integrity_error, constraint_name
from users.tests.factories import DoctorFactory


def _post_concurrently(user, body: dict, n: int = 2) -> list:
    barrier = threading.Barrier(n)
    results: list = []

    def worker() -> None:
        client = APIClient()
        client.force_authenticate(user)
        try:
            barrier.wait(timeout=10)
            r = client.post("/api/consultations/", body, format="json")
            results.append((r.status_code, r.json().get("code")))
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_doctor_concurrent_double_create_returns_one_201_and_one_409():
    doctor = DoctorFactory()
    appt = AppointmentFactory(doctor=doctor, status=Status.CONFIRMED)
    results = _post_concurrently(doctor, {"appointment": appt.pk, "treatment_plan": "Rest."})
    assert sorted(results) == [(201, None), (409, "already_exists")]
    assert Consultation.objects.filter(appointment=appt).count() == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_doctor_concurrent_create_past_check_is_stopped_by_constraint(monkeypatch):
    """With the service's existence check out of the way, the database constraint still gives one 409."""
    doctor = DoctorFactory()
    appt = AppointmentFactory(doctor=doctor, status=Status.CONFIRMED)

    monkeypatch.setattr(services, "consultation_exists_for", lambda **kwargs: False)
    results = _post_concurrently(doctor, {"appointment": appt.pk})
    assert sorted(results) == [(201, None), (409, "already_exists")]
    assert Consultation.objects.filter(appointment=appt).count() == 1


@pytest.mark.django_db
def test_unique_constraint_violation_maps_to_already_exists(consultation):
    with pytest.raises(IntegrityError) as excinfo:
        Consultation.objects.create(
            appointment=consultation.appointment, doctor=consultation.doctor, patient=consultation.patient
        )
    assert constraint_name(excinfo.value) == "consultation_one_per_appointment"
    assert isinstance(conflict_for_integrity_error(excinfo.value), AlreadyExists)
