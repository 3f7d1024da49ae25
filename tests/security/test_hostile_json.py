"""Bodies no JSON endpoint can use: deep nesting, NaN/Infinity and numbers past a float's range.

Every endpoint shares one parser (cybermed.api.parsers.JSONParser), so each such body is the same
400 `{"detail": ...}` wherever it is sent, before any view code runs; the sweep below sends them to
every operation of the OpenAPI document that takes a body, as every kind of caller.
"""

import re

import pytest
import yaml
from rest_framework.test import APIClient

from cybermed.api.parsers import MAX_JSON_DEPTH
from users.models import User
from users.tests.factories import DoctorFactory, PatientFactory, StaffFactory

pytestmark = pytest.mark.django_db

DEEP_ARRAYS = "[" * 100_000 + "]" * 100_000
DEEP_OBJECTS = '{"a":' * 50_000 + "1" + "}" * 50_000
# Deep enough to be refused by the depth rule, shallow enough that json.loads itself succeeds.
JUST_TOO_DEEP = '{"email": ' + "[" * MAX_JSON_DEPTH + "]" * MAX_JSON_DEPTH + "}"
UNUSABLE_BODIES = {
    "100k nested arrays": DEEP_ARRAYS,
    "50k nested objects": DEEP_OBJECTS,
    "depth 65": JUST_TOO_DEEP,
    "1e400": '{"doctor": 1e400, "specialty": 1e400, "appointment": 1e400, "weekday": 1e400}',
    "-1e400": '{"slot_minutes": -1e400}',
    "NaN": '{"doctor": NaN}',
    "Infinity": '{"doctor": Infinity}',
    "-Infinity": '{"doctor": -Infinity}',
}

SWEEP = ["100k nested arrays", "50k nested objects", "depth 65", "1e400", "NaN"]


def body_operations(api_client: APIClient) -> list[tuple[str, str]]:
    schema = yaml.safe_load(api_client.get("/api/schema/").content)
    operations = []
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            content = operation.get("requestBody", {}).get("content", {})
            if "application/json" in content:
                operations.append((method, re.sub(r"\{[^}]+\}", "1", path)))
    return operations


def assert_parse_error(response) -> None:
    assert response.status_code == 400, (response.status_code, response.content[:300])
    body = response.json()
    assert set(body) == {"detail"}
    assert body["detail"].startswith("JSON parse error")


@pytest.fixture
def _no_throttles(settings) -> None:
    rates = dict.fromkeys(settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"])
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": rates}


@pytest.mark.usefixtures("_no_throttles")
def test_every_json_operation_as_every_caller_refuses_unusable_bodies_with_400(api_client):
    operations = body_operations(api_client)
    assert len(operations) >= 25  # the sweep really covers the API (the body-taking operations in the schema)
    callers: list[User | None] = [None, PatientFactory(), DoctorFactory(), StaffFactory(is_superuser=True)]
    statuses = set()
    for user in callers:
        client = APIClient()
        if user is not None:
            client.force_authenticate(user)
        for method, url in operations:
            for name in SWEEP:
                body = UNUSABLE_BODIES[name]
                r = getattr(client, method)(url, body, content_type="application/json")
                statuses.add(r.status_code)
                # Where the request gets as far as reading the body, the body is refused; never a 500.
                assert r.status_code in {400, 401, 403, 404, 405}, (user, method, url, name, r.content[:300])
                if r.status_code == 400:
                    assert_parse_error(r)
    assert 400 in statuses


@pytest.mark.parametrize("body", UNUSABLE_BODIES.values(), ids=UNUSABLE_BODIES.keys())
@pytest.mark.parametrize(
    "url",
    ["/api/auth/register/", "/api/auth/login/", "/api/auth/login/refresh/", "/api/auth/password/reset/"],
)
def test_anonymous_unusable_body_on_public_endpoints_is_parse_error(api_client, url, body):
    assert_parse_error(api_client.post(url, body, content_type="application/json"))


@pytest.mark.parametrize("body", UNUSABLE_BODIES.values(), ids=UNUSABLE_BODIES.keys())
def test_patient_unusable_body_on_me_patch_is_parse_error(client_for, patient, body):
    # MeView sets its own parser_classes (JSON and multipart): the JSON one is the project's too.
    assert_parse_error(client_for(patient).patch("/api/auth/me/", body, content_type="application/json"))


def test_patient_body_at_the_depth_limit_reaches_the_serializer(client_for, patient):
    nested = "[" * (MAX_JSON_DEPTH - 1) + "]" * (MAX_JSON_DEPTH - 1)
    r = client_for(patient).patch("/api/auth/me/", '{"bio": ' + nested + "}", content_type="application/json")

    assert r.status_code == 400
    assert "bio" in r.json()  # a field error, not a parse error


def test_doctor_deep_prescriptions_are_parse_error(client_for, doctor):
    prescriptions = '[{"drug": ' + "[" * MAX_JSON_DEPTH + "]" * MAX_JSON_DEPTH + "}]"
    r = client_for(doctor).post(
        "/api/consultations/",
        '{"appointment": 1, "prescriptions": ' + prescriptions + "}",
        content_type="application/json",
    )
    assert_parse_error(r)


def test_anonymous_large_finite_numbers_and_long_integers_are_not_parse_errors(api_client):
    r = api_client.post(
        "/api/auth/login/",
        '{"email": 1e308, "password": 123456789012345678901234567890}',
        content_type="application/json",
    )

    assert r.status_code == 400
    assert set(r.json()) == {"email", "password"}  # each field says it wants a string
