import datetime as dt
from collections.abc import Callable

import pytest

from appointments.choices import Status
from appointments.events import AppointmentChange, AppointmentEventKind
from appointments.models import Appointment
from appointments.signals import appointment_changed
from appointments.tests.conftest import open_week, slot  # noqa: F401  (the front-desk tests book into open hours)
from appointments.tests.factories import AppointmentFactory, next_slot
from users.models import User


@pytest.fixture
def appointment(patient: User, doctor: User) -> Appointment:
    return AppointmentFactory(patient=patient, doctor=doctor, status=Status.PENDING, start=next_slot(days=3))


@pytest.fixture
def send_event() -> Callable[..., None]:
    """Send `appointment_changed` with the payload appointments.services would build: a change other than
    CREATED carries the time the appointment held before, its current time unless the test says otherwise."""

    def send(
        appointment: Appointment,
        kind: AppointmentEventKind,
        *,
        actor: User | None = None,
        previous_status: str | None = None,
        previous_start: dt.datetime | None = None,
        previous_end: dt.datetime | None = None,
        referral: Appointment | None = None,
    ) -> None:
        if kind != AppointmentEventKind.CREATED:
            previous_start = previous_start or appointment.start
            previous_end = previous_end or appointment.end
        change = AppointmentChange.of(
            kind,
            appointment,
            actor=actor,
            previous_status=previous_status,
            previous_start=previous_start,
            previous_end=previous_end,
            referral=referral,
        )
        appointment_changed.send(sender=Appointment, change=change)

    return send
