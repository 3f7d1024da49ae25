"""Fixtures shared by every app's tests."""

from collections.abc import Callable

import pytest
from django.core.cache import cache
from django.db import connection
from rest_framework.test import APIClient

from users.models import User
from users.tests.factories import DoctorFactory, PatientFactory, StaffFactory


@pytest.fixture(autouse=True)
def _fast_and_isolated(settings, tmp_path) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.MEDIA_ROOT = str(tmp_path / "media")
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    cache.clear()


@pytest.fixture
def api_client() -> APIClient:
    return APIClient()


@pytest.fixture
def client_for() -> Callable[[User | None], APIClient]:
    """An APIClient authenticated as `user` (anonymous for None)."""

    def make(user: User | None) -> APIClient:
        client = APIClient()
        if user is not None:
            client.force_authenticate(user)
        return client

    return make


@pytest.fixture
def patient(db) -> User:
    return PatientFactory()


@pytest.fixture
def other_patient(db) -> User:
    return PatientFactory()


@pytest.fixture
def doctor(db) -> User:
    return DoctorFactory()


@pytest.fixture
def other_doctor(db) -> User:
    return DoctorFactory()


@pytest.fixture
def staff(db) -> User:
    return StaffFactory()


def pytest_collection_modifyitems(config, items) -> None:
    if connection.vendor == "postgresql":
        return
    skip = pytest.mark.skip(reason="needs PostgreSQL (set DATABASE_URL)")
    for item in items:
        if "postgres" in item.keywords:
            item.add_marker(skip)
