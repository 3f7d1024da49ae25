"""Logs tie lines to a request id and never hold passwords, tokens, Authorization headers or medical data."""

import logging
import re

import pytest
from _pytest.logging import LogCaptureHandler
from rest_framework.test import APIClient

from appointments.choices import Status
from appointments.tests.factories import AppointmentFactory, next_slot
from cybermed.middleware import RequestIDFilter, request_id_var
from tests.security.conftest import access_token_for
from users.tests.factories import DEFAULT_PASSWORD

pytestmark = pytest.mark.django_db

MEDICAL_TEXT = "Suspected tuberculosis-8812, HIV-positive history"


@pytest.fixture
def all_logs(caplog):
    caplog.set_level(logging.DEBUG)
    request_ids = RequestIDFilter()
    caplog.handler.addFilter(request_ids)  # pytest reuses this handler across tests: take the filter off after
    yield caplog
    caplog.handler.removeFilter(request_ids)


def log_text(caplog) -> str:
    return "\n".join(f"{r.name} {r.getMessage()} {r.__dict__}" for r in caplog.records)


def access_records(caplog) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == "cybermed.access"]


def test_caller_request_id_echoed_on_response(api_client):
    r = api_client.get("/api/health/", HTTP_X_REQUEST_ID="req-42.abc")
    assert r["X-Request-ID"] == "req-42.abc"


def test_missing_request_id_generated_fresh_per_request(api_client):
    first, second = api_client.get("/api/health/")["X-Request-ID"], api_client.get("/api/health/")["X-Request-ID"]
    assert re.fullmatch(r"[0-9a-f]{32}", first)
    assert first != second


@pytest.mark.parametrize("forged", ["abc\nFAKE LOG LINE", "x" * 129, "<script>", "a b"])
def test_log_forging_request_id_replaced_with_generated_one(api_client, forged):
    r = api_client.get("/api/health/", HTTP_X_REQUEST_ID=forged)
    assert re.fullmatch(r"[0-9a-f]{32}", r["X-Request-ID"])


def test_every_request_writes_one_access_line_without_query_string(api_client, all_logs):
    r = api_client.get("/api/health/?email=someone@example.com&token=abc123", HTTP_X_REQUEST_ID="rid-1")
    (line,) = access_records(all_logs)
    assert (line.method, line.path, line.status, line.user_id, line.request_id) == (
        "GET",
        "/api/health/",
        200,
        "-",
        "rid-1",
    )
    assert line.duration_ms >= 0
    assert "abc123" not in log_text(all_logs)
    assert "someone@example.com" not in log_text(all_logs)
    assert r.status_code == 200


def test_log_forging_path_with_newline_stays_on_one_access_line(api_client, all_logs):
    api_client.get("/api/%0a2026-01-01 INFO cybermed.access GET /api/admin-backdoor/ 200/")
    (line,) = access_records(all_logs)
    assert "\n" not in line.getMessage()
    assert "\\x0a" in line.getMessage()


def test_access_line_names_the_jwt_user_by_id(patient, all_logs):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {access_token_for(patient)}")
    client.get("/api/notifications/unread-count/")
    (line,) = access_records(all_logs)
    assert line.user_id == str(patient.pk)


def test_request_id_put_on_records_of_other_loggers_during_the_request(api_client, all_logs):
    assert api_client.put("/api/health/", HTTP_X_REQUEST_ID="rid-405").status_code == 405
    not_allowed = [r for r in all_logs.records if r.name == "django.request"]
    assert not_allowed
    assert {r.request_id for r in not_allowed} == {"rid-405"}
    assert request_id_var.get() == "-"  # reset after the request


def test_configured_console_handler_formats_request_id(settings):
    handler = settings.LOGGING["handlers"]["console"]
    assert settings.LOGGING["filters"][handler["filters"][0]]["()"] == "cybermed.middleware.RequestIDFilter"
    assert "%(request_id)s" in settings.LOGGING["formatters"][handler["formatter"]]["format"]
    live = [
        h
        for h in logging.getLogger().handlers
        if any(isinstance(f, RequestIDFilter) for f in h.filters) and not isinstance(h, LogCaptureHandler)
    ]
    assert len(live) == 1
    assert "%(request_id)s" in live[0].formatter._fmt


def test_login_logs_hold_no_password_or_tokens(api_client, all_logs, patient):
    r = api_client.post("/api/auth/login/", {"email": patient.email, "password": DEFAULT_PASSWORD}, format="json")
    assert r.status_code == 200, r.content
    text = log_text(all_logs)
    assert DEFAULT_PASSWORD not in text
    assert r.json()["access"] not in text
    assert r.json()["refresh"] not in text
    assert [(line.path, line.status) for line in access_records(all_logs)] == [("/api/auth/login/", 200)]


def test_failed_login_logs_hold_no_password(api_client, all_logs, patient):
    api_client.post("/api/auth/login/", {"email": patient.email, "password": "Wrong-guess-Secret-991"}, format="json")
    assert "Wrong-guess-Secret-991" not in log_text(all_logs)


def test_authorization_header_never_logged(patient, all_logs):
    token = access_token_for(patient)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    client.get("/api/appointments/")
    client.credentials(HTTP_AUTHORIZATION="Bearer not-a-real-token-55aa")
    client.get("/api/appointments/")
    text = log_text(all_logs)
    assert token not in text
    assert "not-a-real-token-55aa" not in text


def test_consultation_post_logs_hold_no_medical_data(doctor, all_logs):
    appointment = AppointmentFactory(doctor=doctor, start=next_slot(days=1), status=Status.CONFIRMED)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {access_token_for(doctor)}")
    r = client.post(
        "/api/consultations/",
        {
            "appointment": appointment.pk,
            "medical_history": MEDICAL_TEXT,
            "examination_findings": MEDICAL_TEXT,
            "treatment_plan": MEDICAL_TEXT,
            "prescriptions": [{"drug": "Isoniazid-7731", "dose": "300mg", "frequency": "daily", "duration": "6m"}],
        },
        format="json",
    )
    assert r.status_code == 201, r.content
    text = log_text(all_logs)
    assert "tuberculosis-8812" not in text
    assert "Isoniazid-7731" not in text
    assert [(line.path, line.status) for line in access_records(all_logs)] == [("/api/consultations/", 201)]
