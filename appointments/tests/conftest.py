import datetime as dt

import pytest

from appointments.models import AvailabilityRule
from appointments.tests.factories import next_slot
from users.models import User


def open_all_week(doctor: User, start: dt.time = dt.time(8), end: dt.time = dt.time(18)) -> None:
    AvailabilityRule.objects.bulk_create(
        AvailabilityRule(doctor=doctor, weekday=day, start_time=start, end_time=end) for day in range(7)
    )


@pytest.fixture
def doctor(doctor: User) -> User:
    """The shared doctor, open 08:00-18:00 UTC every day with 30-minute slots."""
    open_all_week(doctor)
    return doctor


@pytest.fixture
def other_doctor(other_doctor: User) -> User:
    open_all_week(other_doctor)
    return other_doctor


@pytest.fixture
def slot() -> dt.datetime:
    """A bookable start two days from now (10:00 UTC)."""
    return next_slot(days=2, hour=10)
