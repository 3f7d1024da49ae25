import pytest

from appointments.tests.factories import AppointmentFactory
from messaging.models import Thread
from messaging.tests.factories import ThreadFactory
from users.models import User


@pytest.fixture
def shared(patient: User, doctor: User) -> None:
    """`patient` and `doctor` share an appointment, so they may message each other."""
    AppointmentFactory(patient=patient, doctor=doctor)


@pytest.fixture
def thread(patient: User, doctor: User) -> Thread:
    return ThreadFactory(patient=patient, doctor=doctor)


@pytest.fixture
def pushes(monkeypatch: pytest.MonkeyPatch) -> list[dict]:
    """Every push sent through cybermed.realtime, as {user_ids, event, data}."""
    from cybermed import realtime

    sent: list[dict] = []
    original = realtime.push

    def record(*, user_ids, event, data, meta=None) -> None:
        sent.append({"user_ids": list(user_ids), "event": event, "data": data})
        original(user_ids=user_ids, event=event, data=data, meta=meta)

    monkeypatch.setattr(realtime, "push", record)
    return sent


@pytest.fixture(autouse=True)
def _fresh_channel_layer() -> None:
    """A new in-memory channel layer per test: its queues belong to the event loop that made them."""
    from channels.layers import channel_layers

    channel_layers.backends.clear()
