"""LOG_FORMAT=json: one JSON object per line with the request's fields, secrets redacted; plain stays the default."""

import io
import json
import logging
import runpy
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.test import Client

from cybermed.logs import JSONFormatter
from cybermed.middleware import RequestIDFilter

SETTINGS_FILE = Path(__file__).resolve().parents[1] / "settings.py"


@pytest.fixture
def json_lines() -> Iterator[io.StringIO]:
    """What a JSON console handler (as LOG_FORMAT=json configures it) writes during the test."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JSONFormatter())
    handler.addFilter(RequestIDFilter())
    root = logging.getLogger()
    previous_level = root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    try:
        yield stream
    finally:
        root.removeHandler(handler)
        root.setLevel(previous_level)


def records(stream: io.StringIO) -> list[dict]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


@pytest.mark.django_db
def test_access_line_is_one_json_object_with_the_request_fields(json_lines, api_client, patient):
    api_client.force_authenticate(patient)
    response = api_client.get("/api/notifications/", HTTP_X_REQUEST_ID="req-123")

    (access,) = [r for r in records(json_lines) if r["logger"] == "cybermed.access"]
    assert access["request_id"] == "req-123" == response["X-Request-ID"]
    assert access["method"] == "GET"
    assert access["path"] == "/api/notifications/"
    assert access["status"] == 200
    assert isinstance(access["duration_ms"], float)
    assert access["user_id"] == str(patient.pk)
    assert access["level"] == "INFO"
    assert access["time"].endswith("+00:00")


@pytest.mark.django_db
def test_json_lines_redact_calendar_tokens_and_leave_out_the_request_object(json_lines):
    token = "S3cr3tT0ken" * 4
    # A 404 is only in the access line (QuietOrdinaryClientErrorsFilter); a 405 also gets Django's warning line.
    assert Client().get(f"/calendar/{token}.ics?x=1").status_code == 404
    assert Client().post(f"/calendar/{token}.ics?x=1").status_code == 405

    output = json_lines.getvalue()
    assert token not in output
    lines = records(json_lines)
    access = [r for r in lines if r["logger"] == "cybermed.access"]
    assert [(r["path"], r["status"]) for r in access] == [
        ("/calendar/<redacted>.ics", 404),
        ("/calendar/<redacted>.ics", 405),
    ]
    (not_allowed,) = [r for r in lines if r["logger"] == "django.request"]
    assert "request" not in not_allowed
    assert not_allowed["status_code"] == 405
    assert "/calendar/<redacted>.ics" in not_allowed["message"]


def test_exception_is_kept_inside_the_json_object(json_lines):
    try:
        raise ValueError("boom")
    except ValueError:
        logging.getLogger("cybermed.test").exception("failed")

    (line,) = json_lines.getvalue().splitlines()
    record = json.loads(line)
    assert record["message"] == "failed"
    assert "ValueError: boom" in record["exc_info"]
    assert record["request_id"] == "-"


def logging_settings(monkeypatch, **env: str) -> dict:
    monkeypatch.delenv("LOG_FORMAT", raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return runpy.run_path(str(SETTINGS_FILE))["LOGGING"]


def test_plain_text_is_the_default(monkeypatch):
    assert logging_settings(monkeypatch)["handlers"]["console"]["formatter"] == "plain"


def test_log_format_json_selects_the_json_formatter(monkeypatch):
    config = logging_settings(monkeypatch, LOG_FORMAT="json")
    assert config["handlers"]["console"]["formatter"] == "json"
    assert config["formatters"]["json"]["()"] == "cybermed.logs.JSONFormatter"


def test_unknown_log_format_is_refused(monkeypatch):
    with pytest.raises(ImproperlyConfigured, match="LOG_FORMAT"):
        logging_settings(monkeypatch, LOG_FORMAT="xml")


@pytest.mark.django_db
def test_ordinary_client_errors_leave_only_the_access_line(api_client, patient, caplog):
    caplog.set_level(logging.INFO)
    assert api_client.get("/api/appointments/").status_code == 401
    api_client.force_authenticate(patient)
    assert api_client.get("/api/reports/summary/").status_code == 403
    assert api_client.get("/api/appointments/999999/").status_code == 404
    assert api_client.post("/api/appointments/", {}, format="json").status_code == 400

    statuses = [r.getMessage().split()[2] for r in caplog.records if r.name == "cybermed.access"]
    assert statuses == ["401", "403", "404", "400"]
    warnings = [r.status_code for r in caplog.records if r.name == "django.request"]
    assert warnings == [400]
