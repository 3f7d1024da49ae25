import datetime as dt

import pytest

from appointments.models import AvailabilityRule
from appointments.tests.factories import next_slot
from users.models import User


def open_all_week(doctor: User, start: dt.time = dt.time(8), end: dt.time = dt.time(18)) -> None:
    AvailabilityRule.objects.bulk_create(
        AvailabilityRule(doctor=doctor, weekday=day, start_time=start, end_time=end) for day in range(7)
    )


SHARED_DOCTORS = ("doctor", "other_doctor")


@pytest.fixture
def open_week(request: pytest.FixtureRequest) -> None:
    """Open whichever of the root `doctor` / `other_doctor` the test uses 08:00-18:00 UTC every day (30-minute slots).

    The root fixtures keep their meaning (no availability); a module whose tests book asks for open hours by
    name: `pytestmark = [..., pytest.mark.usefixtures("open_week")]`. A doctor the test does not use is not
    created."""
    for name in SHARED_DOCTORS:
        if name in request.fixturenames:
            open_all_week(request.getfixturevalue(name))


@pytest.fixture
def slot() -> dt.datetime:
    """A bookable start two days from now (10:00 UTC)."""
    return next_slot(days=2, hour=10)
