from collections.abc import Iterator

import pytest

from appointments.choices import Status
from appointments.models import Appointment
from appointments.tests.factories import AppointmentFactory
from consultations.models import Consultation
from consultations.signals import consultation_saved
from consultations.tests.factories import ConsultationFactory
from cybermed.testing import capture_signal
from users.models import User


@pytest.fixture
def appointment(doctor: User, patient: User) -> Appointment:
    return AppointmentFactory(doctor=doctor, patient=patient, status=Status.CONFIRMED)


@pytest.fixture
def consultation(appointment: Appointment) -> Consultation:
    return ConsultationFactory(appointment=appointment)


@pytest.fixture
def signal_calls() -> Iterator[list[dict]]:
    """The keyword arguments of every `consultation_saved` sent during the test."""
    with capture_signal(consultation_saved) as calls:
        yield calls
