"""API8:2023 Security misconfiguration: no response under /api/ (tokens, personal or medical data, errors) is cached."""

import re

import pytest
from django.db import OperationalError, connection
from django.test import Client
from django.urls import get_resolver
from rest_framework.test import APIClient

from cybermed.api.views import HealthView
from tests.security.test_api9_inventory import all_routes, normalize
from users.tests.factories import DEFAULT_PASSWORD

pytestmark = pytest.mark.django_db


def assert_no_store(r) -> None:
    assert r["Cache-Control"] == "no-store", (r.status_code, r.get("Cache-Control"))
    assert r["Pragma"] == "no-cache"


def login(client: APIClient, user) -> dict:
    r = client.post("/api/auth/login/", {"email": user.email, "password": DEFAULT_PASSWORD}, format="json")
    assert r.status_code == 200
    assert_no_store(r)
    return r.json()


def test_token_responses_are_not_stored(api_client, patient):
    tokens = login(api_client, patient)
    r = api_client.post("/api/auth/login/refresh/", {"refresh": tokens["refresh"]}, format="json")
    assert r.status_code == 200
    assert_no_store(r)


@pytest.mark.parametrize(
    "path",
    ["/api/auth/me/", "/api/patient-profile/", "/api/appointments/", "/api/consultations/", "/api/notifications/"],
)
def test_personal_and_medical_data_is_not_stored(api_client, patient, path):
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {login(api_client, patient)['access']}")
    r = api_client.get(path)
    assert r.status_code == 200, r.content[:200]
    assert_no_store(r)


def test_doctor_patient_list_is_not_stored(api_client, doctor):
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {login(api_client, doctor)['access']}")
    r = api_client.get("/api/patients/")
    assert r.status_code == 200
    assert_no_store(r)


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("get", "/api/auth/me/", 401),
        ("post", "/api/auth/login/", 400),
        ("get", "/api/appointments/999999/", 401),
        ("get", "/api/no-such-endpoint/", 404),
        ("delete", "/api/auth/login/", 405),
        ("get", "/api/health/", 200),
        ("get", "/api/schema/", 200),
    ],
)
def test_errors_and_public_responses_are_not_stored(api_client, method, path, status):
    r = getattr(api_client, method)(path)
    assert r.status_code == status
    assert_no_store(r)


def test_forbidden_and_not_found_for_a_user_are_not_stored(api_client, patient):
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {login(api_client, patient)['access']}")
    assert_no_store(forbidden := api_client.get("/api/availability/"))
    assert forbidden.status_code == 403
    assert_no_store(missing := api_client.get("/api/appointments/999999/"))
    assert missing.status_code == 404


def test_throttled_response_is_not_stored(api_client, settings, patient):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {**settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], "login": "1/min"},
    }
    login(api_client, patient)
    r = api_client.post("/api/auth/login/", {"email": patient.email, "password": DEFAULT_PASSWORD}, format="json")
    assert r.status_code == 429
    assert_no_store(r)


def database_down():
    def blocker(execute, sql, params, many, context):
        raise OperationalError("connection refused")

    return connection.execute_wrapper(blocker)


def test_503_from_the_exception_handler_is_not_stored(api_client):
    with database_down():
        r = api_client.get("/api/health/")
    assert r.status_code == 503
    assert_no_store(r)


def test_503_from_the_database_unavailable_middleware_is_not_stored(monkeypatch):
    # A database error that escapes DRF's handler: the middleware, not the view, writes this 503.
    def dispatch(self, request, *args, **kwargs):
        raise OperationalError("connection refused")

    monkeypatch.setattr(HealthView, "dispatch", dispatch)
    r = Client(raise_request_exception=False).get("/api/health/")
    assert (r.status_code, r.json()["code"]) == (503, "service_unavailable")
    assert_no_store(r)


def test_trailing_slash_redirect_is_not_stored(api_client):
    r = api_client.post("/api/auth/login", {}, format="json")
    assert r.status_code == 308
    assert_no_store(r)


def test_every_api_route_answers_no_store():
    # Whatever each answers an anonymous GET with (401, 404, 405, 200), none may be kept by a cache.
    routes = {normalize(r) for r in all_routes(get_resolver().url_patterns)}
    paths = sorted(re.sub(r"\{\}", "1", r) for r in routes if r.startswith("/api/"))
    assert len(paths) > 20
    client = Client(raise_request_exception=False)
    uncached = {path: client.get(path).get("Cache-Control") for path in paths}
    assert {path: value for path, value in uncached.items() if value != "no-store"} == {}


def test_non_api_responses_keep_their_own_caching(client):
    # The admin sets its own never_cache headers; static files stay cacheable.
    assert "Pragma" not in client.get("/no-such-page/")
