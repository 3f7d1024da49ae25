"""When the database is unreachable every endpoint answers 503 JSON (never an HTML 500)."""

import pytest
from django.db import InterfaceError, OperationalError, connection
from django.test import Client
from rest_framework.test import APIClient

from cybermed.testing import assert_json_503
from tests.security.conftest import access_token_for

pytestmark = pytest.mark.django_db


def database_down(error_class):
    def blocker(execute, sql, params, many, context):
        raise error_class("connection to server at 127.0.0.1 failed: Connection refused")

    return connection.execute_wrapper(blocker)


@pytest.mark.parametrize("error_class", [OperationalError, InterfaceError])
def test_health_reports_503_while_database_unreachable(api_client, error_class):
    with database_down(error_class):
        r = api_client.get("/api/health/")
    assert_json_503(r)
    body = r.json()
    assert body.get("database") == "unavailable" or body.get("code") == "service_unavailable"


@pytest.mark.parametrize("error_class", [OperationalError, InterfaceError])
def test_api_call_gets_503_json_while_database_unreachable(patient, error_class):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {access_token_for(patient)}")
    with database_down(error_class):
        r = client.get("/api/notifications/")
    assert_json_503(r)
    assert r.json()["code"] == "service_unavailable"


def test_admin_gets_503_json_while_database_unreachable(staff):
    client = Client(raise_request_exception=False)
    client.force_login(staff)
    with database_down(OperationalError):
        r = client.get("/admin/")  # the session and user are read in middleware and the admin, outside DRF
    assert_json_503(r)
    assert r.json()["code"] == "service_unavailable"
    assert r["X-Content-Type-Options"] == "nosniff"


def test_non_database_crash_outside_api_still_500_not_503(crashing_admin):
    assert crashing_admin(ValueError("not a database problem")).get("/admin/").status_code == 500


def test_database_back_serves_again_in_same_process(api_client):
    with database_down(OperationalError):
        assert api_client.get("/api/health/").status_code == 503
    assert api_client.get("/api/health/").status_code == 200
