"""Concurrent use of one refresh token, on PostgreSQL with real threads."""

import pytest
from rest_framework.test import APIClient
from rest_framework_simplejwt.token_blacklist.models import OutstandingToken

from cybermed.testing import run_together
from users.tests.factories import DEFAULT_PASSWORD, PatientFactory

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]
THREADS = 10


def test_same_refresh_token_sent_concurrently_succeeds_exactly_once():
    user = PatientFactory()
    login = APIClient().post("/api/auth/login/", {"email": user.email, "password": DEFAULT_PASSWORD})
    refresh = login.json()["refresh"]

    def attempt() -> int:
        return APIClient().post("/api/auth/login/refresh/", {"refresh": refresh}).status_code

    codes = run_together([attempt] * THREADS)

    assert sorted(codes) == [200] + [401] * (THREADS - 1), codes
    # One login token and one rotated token; the losers issued nothing.
    assert OutstandingToken.objects.filter(user=user).count() == 2


def test_refresh_racing_password_change_never_outlives_it():
    user = PatientFactory()
    client = APIClient()
    refresh = client.post("/api/auth/login/", {"email": user.email, "password": DEFAULT_PASSWORD}).json()["refresh"]

    def do_refresh():
        response = APIClient().post("/api/auth/login/refresh/", {"refresh": refresh})
        return response.json().get("refresh") if response.status_code == 200 else response.status_code

    def change_password() -> int:
        owner = APIClient()
        owner.force_authenticate(user)
        body = {"old_password": DEFAULT_PASSWORD, "new_password": "Brand-new-passphrase-42"}
        return owner.post("/api/auth/password/change/", body).status_code

    outcomes = run_together([do_refresh, change_password] * 3)

    # Whatever order they ran in, no refresh token issued before or during the change survives it.
    for new_refresh in [o for o in outcomes if isinstance(o, str)]:
        assert APIClient().post("/api/auth/login/refresh/", {"refresh": new_refresh}).status_code == 401
