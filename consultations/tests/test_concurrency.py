import pytest
from django.db import IntegrityError
from rest_framework.test import APIClient

from appointments.choices import Status
from appointments.tests.factories import AppointmentFactory
from consultations import services
from consultations.models import Consultation
from cybermed.exceptions import AlreadyExists, conflict_for_integrity_error, constraint_name
from cybermed.testing import run_together
from users.tests.factories import DoctorFactory


def _post_concurrently(user, body: dict, n: int = 2) -> list:
    def post() -> tuple[int, str | None]:
        client = APIClient()
        client.force_authenticate(user)
        r = client.post("/api/consultations/", body, format="json")
        return r.status_code, r.json().get("code")

    return run_together([post] * n)


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
