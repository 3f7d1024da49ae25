"""The authenticated user is cached between requests (users/user_cache.py) and forgotten on every change."""

import datetime as dt

import pytest
import time_machine
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import RefreshToken

from users import user_cache
from users.choices import Role
from users.models import User
from users.tests.factories import DEFAULT_PASSWORD

pytestmark = pytest.mark.django_db
ME = "/api/auth/me/"


def bearer(user: User) -> tuple[APIClient, RefreshToken]:
    refresh = RefreshToken.for_user(user)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {refresh.access_token}")
    return client, refresh


def user_queries(client: APIClient, path: str = ME) -> tuple[int, list[str]]:
    with CaptureQueriesContext(connection) as queries:
        status = client.get(path).status_code
    return status, [q["sql"] for q in queries if 'FROM "users_user"' in q["sql"]]


def test_second_request_reads_the_user_from_the_cache(patient):
    client, _ = bearer(patient)
    assert user_queries(client)[0] == 200
    status, reads = user_queries(client)
    assert status == 200
    assert reads == []
    assert user_cache.recall(patient.pk) == patient


def test_no_cache_when_turned_off(patient, settings):
    settings.AUTH_USER_CACHE_SECONDS = 0
    client, _ = bearer(patient)
    client.get(ME)
    status, reads = user_queries(client)
    assert status == 200
    assert len(reads) == 1


def test_cached_user_expires_after_the_ttl(patient, settings):
    settings.AUTH_USER_CACHE_SECONDS = 30
    client, _ = bearer(patient)
    client.get(ME)
    with time_machine.travel(dt.timedelta(seconds=31)):  # relative: the access token is still valid
        assert user_cache.recall(patient.pk) is None


def test_deactivated_user_is_refused_at_once(patient):
    client, _ = bearer(patient)
    assert client.get(ME).status_code == 200
    patient.is_active = False
    patient.save(update_fields=["is_active"])
    assert client.get(ME).status_code == 401


def test_role_and_staff_changes_are_seen_at_once(patient):
    client, _ = bearer(patient)
    assert client.get(ME).json()["role"] == Role.PATIENT
    assert client.get("/api/reports/doctors/?from=2030-01-01&to=2030-01-07").status_code == 403
    patient.role = Role.DOCTOR
    patient.is_staff = True
    patient.save()
    assert client.get(ME).json()["role"] == Role.DOCTOR
    assert client.get("/api/reports/doctors/?from=2030-01-01&to=2030-01-07").status_code == 200


def test_deleted_user_is_refused_at_once(patient):
    client, _ = bearer(patient)
    assert client.get(ME).status_code == 200
    User.objects.filter(pk=patient.pk).delete()
    assert client.get(ME).status_code == 401


def test_password_change_forgets_the_cached_user(patient):
    client, _ = bearer(patient)
    client.get(ME)
    new = "An0ther-long-passphrase!"
    response = client.post(
        "/api/auth/password/change/", {"old_password": DEFAULT_PASSWORD, "new_password": new}, format="json"
    )
    assert response.status_code in (200, 204), response.content
    assert user_cache.recall(patient.pk) is None
    status, reads = user_queries(client)
    assert status == 200
    assert len(reads) == 1  # read again, then cached again


def test_logout_forgets_the_cached_user(patient):
    client, refresh = bearer(patient)
    client.get(ME)
    assert user_cache.recall(patient.pk) is not None
    assert client.post("/api/auth/logout/", {"refresh": str(refresh)}, format="json").status_code in (200, 204, 205)
    assert user_cache.recall(patient.pk) is None


def test_inactive_user_is_never_cached(patient):
    patient.is_active = False
    patient.save()
    client, _ = bearer(patient)
    assert client.get(ME).status_code == 401
    assert user_cache.recall(patient.pk) is None


def test_cached_user_carries_no_password_hash_but_password_checks_still_work(patient):
    client, _ = bearer(patient)
    client.get(ME)
    cached = user_cache.recall(patient.pk)
    assert "password" in cached.get_deferred_fields()
    assert patient.password not in str(cache.get(f"auth-user:v1:{patient.pk}").__dict__)
    assert cached.check_password(DEFAULT_PASSWORD)  # loads the hash from the database
