import datetime as dt
from collections.abc import Iterator
from decimal import Decimal

import pytest

from appointments.tests.conftest import open_all_week
from appointments.tests.factories import next_slot
from payments.tests.fake_paypal import CLIENT_ID, CLIENT_SECRET, WEBHOOK_ID, FakePayPal
from users.models import User
from users.tests.factories import DoctorFactory


@pytest.fixture(scope="session")
def fake_paypal_server() -> Iterator[FakePayPal]:
    server = FakePayPal().start()
    yield server
    server.stop()


@pytest.fixture
def paypal(fake_paypal_server: FakePayPal, settings) -> FakePayPal:
    """The fake PayPal, reset, with the app pointed at it (short timeouts, no pause between retries)."""
    fake_paypal_server.reset()
    settings.PAYPAL_API_BASE = fake_paypal_server.url
    settings.PAYPAL_CLIENT_ID, settings.PAYPAL_CLIENT_SECRET = CLIENT_ID, CLIENT_SECRET
    settings.PAYPAL_WEBHOOK_ID = WEBHOOK_ID
    settings.PAYPAL_READ_TIMEOUT_SECONDS = 0.5
    settings.PAYPAL_CONNECT_TIMEOUT_SECONDS = 0.5
    settings.PAYPAL_MAX_RETRIES = 2
    settings.PAYPAL_RETRY_BACKOFF_SECONDS = 0
    return fake_paypal_server


@pytest.fixture
def paid_doctor(db) -> User:
    doctor = DoctorFactory()
    profile = doctor.doctor_profile
    profile.consultation_fee, profile.currency = Decimal("40.00"), "EUR"
    profile.save()
    open_all_week(doctor)
    return doctor


@pytest.fixture
def slot() -> dt.datetime:
    return next_slot(days=2, hour=10)
