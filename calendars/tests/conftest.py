import datetime as dt
from collections.abc import Iterator

import pytest
import time_machine
from rest_framework.test import APIClient

from calendars import services
from users.models import User

# A Wednesday in British Summer Time; the clocks go back on Sunday 25 October 2026.
NOW = dt.datetime(2026, 7, 1, 12, 0, tzinfo=dt.UTC)


@pytest.fixture(autouse=True)
def frozen_now() -> Iterator[dt.datetime]:
    with time_machine.travel(NOW, tick=False):
        yield NOW


@pytest.fixture
def london_doctor(doctor: User) -> User:
    doctor.first_name, doctor.last_name = "Ada", "Lovelace"
    doctor.save(update_fields=["first_name", "last_name"])
    doctor.doctor_profile.timezone = "Europe/London"
    doctor.doctor_profile.save(update_fields=["timezone"])
    return doctor


def feed_path(token: str) -> str:
    return f"/calendar/{token}.ics"


@pytest.fixture
def feed_token() -> callable:
    def make(user: User) -> str:
        return services.calendar_feed_rotate(user=user)

    return make


@pytest.fixture
def anonymous() -> APIClient:
    return APIClient()
