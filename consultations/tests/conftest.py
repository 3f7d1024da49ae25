from collections.abc import Iterator

import pytest

from appointments.choices import Status
from appointments.models import Appointment
from appointments.tests.factories import AppointmentFactory
from consultations.models import Consultation
from consultations.tests.factories import ConsultationFactory
from users.models import User


@pytest.fixture
def appointment(doctor: User, patient: User) -> Appointment:
    return AppointmentFactory(doctor=doctor, patient=patient, status=Status.CONFIRMED)


@pytest.fixture
def consultation(appointment: Appointment) -> Consultation:
    return ConsultationFactory(appointment=appointment)


@pytest.fixture
def signal_calls() -> Iterator[list[dict]]:
    """Connects a receiver to `consultation_saved` for the test and returns the list of its calls."""
    from consultations.signals import consultation_saved

    calls: list[dict] = []

    def receiver(sender, **kwargs) -> None:
        calls.append(kwargs)

    consultation_saved.connect(receiver, weak=False, dispatch_uid="consultations-test-receiver")
    yield calls
    consultation_saved.disconnect(dispatch_uid="consultations-test-receiver")
