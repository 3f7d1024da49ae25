"""API4:2023 Unrestricted resource consumption: page-size caps, upload caps, range caps, throttles."""

import datetime as dt
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image
from rest_framework.test import APIClient

from appointments.tests.factories import AppointmentFactory, next_slot
from notifications.models import Notification
from notifications.tests.factories import NotificationFactory
from users.tests.factories import DEFAULT_PASSWORD

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]
LOGIN = "/api/auth/login/"


@pytest.fixture
def rates(settings):
    """Set throttle rates for this test, e.g. rates(login="3/min"); unnamed scopes are switched off."""

    def apply(**scopes: str | None) -> None:
        settings.REST_FRAMEWORK = {
            **settings.REST_FRAMEWORK,
            "DEFAULT_THROTTLE_RATES": {
                scope: scopes.get(scope)
                for scope in ("anon", "user", "login", "register", "refresh", "password_reset", "activation_resend")
            },
        }

    return apply


def login(client: APIClient, email: str, **headers: str):
    return client.post(LOGIN, {"email": email, "password": "wrong-password-1"}, format="json", **headers)


def image_file(size: tuple[int, int], fmt: str = "PNG", name: str = "pic.png") -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(buffer, fmt)
    return SimpleUploadedFile(name, buffer.getvalue(), content_type=f"image/{fmt.lower()}")


# --- pagination --------------------------------------------------------------------------------------


def test_huge_page_size_on_notifications_capped_at_100(bearer, patient):
    Notification.objects.bulk_create(NotificationFactory.build_batch(105, user=patient))
    r = bearer(patient).get("/api/notifications/", {"page_size": 100000})
    assert r.status_code == 200
    assert (r.json()["count"], len(r.json()["results"])) == (105, 100)


def test_huge_page_size_on_appointments_capped_at_100(bearer, patient, doctor):
    AppointmentFactory.create_batch(
        101, patient=patient, doctor=doctor, start=next_slot(days=3), status="cancelled"
    )  # terminal rows may share a start
    r = bearer(patient).get("/api/appointments/", {"page_size": 5000})
    assert r.status_code == 200
    assert len(r.json()["results"]) == 100


@pytest.mark.parametrize("page_size", ["0", "-5", "abc", "1e9", "99999999999999999999999"])
def test_garbage_page_size_never_500(bearer, patient, page_size):
    r = bearer(patient).get("/api/notifications/", {"page_size": page_size})
    assert r.status_code in (200, 400, 404)


@pytest.mark.parametrize("page", ["0", "-1", "abc", "99999999999999999999999"])
def test_out_of_range_page_number_gets_404_not_500(bearer, patient, page):
    r = bearer(patient).get("/api/notifications/", {"page": page})
    assert r.status_code == 404
    assert r["Content-Type"].startswith("application/json")


# --- request and upload size -------------------------------------------------------------------------


def test_oversized_json_body_rejected_not_500(api_client):
    body = json.dumps({"email": "a@example.com", "password": "x" * (7 * 1024 * 1024)})
    r = api_client.post(LOGIN, data=body, content_type="application/json")
    assert r.status_code in (400, 413)
    assert r["Content-Type"].startswith("application/json")


def test_profile_picture_over_5_mib_rejected(bearer, patient):
    blob = SimpleUploadedFile("big.png", b"\x89PNG\r\n\x1a\n" + os.urandom(5 * 1024 * 1024 + 10), "image/png")
    r = bearer(patient).patch("/api/auth/me/", {"profile_picture": blob}, format="multipart")
    assert r.status_code == 400
    assert "profile_picture" in r.json()


def test_profile_picture_decompression_bomb_dimensions_rejected(bearer, patient):
    r = bearer(patient).patch("/api/auth/me/", {"profile_picture": image_file((4097, 16))}, format="multipart")
    assert r.status_code == 400
    assert "profile_picture" in r.json()


@pytest.mark.parametrize(
    ("name", "content", "content_type"),
    [
        ("evil.svg", b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>', "image/svg+xml"),
        ("evil.png", b"<?php system($_GET['c']); ?>", "image/png"),
        ("evil.gif", b"GIF89a\x01\x00\x01\x00\x00\x00\x00;", "image/gif"),
    ],
)
def test_non_image_or_disallowed_format_upload_rejected(bearer, patient, name, content, content_type):
    upload = SimpleUploadedFile(name, content, content_type=content_type)
    r = bearer(patient).patch("/api/auth/me/", {"profile_picture": upload}, format="multipart")
    assert r.status_code == 400


def test_valid_small_profile_picture_accepted(bearer, patient):
    r = bearer(patient).patch("/api/auth/me/", {"profile_picture": image_file((64, 64))}, format="multipart")
    assert r.status_code == 200, r.content
    assert r.json()["profile_picture"]


# --- range caps --------------------------------------------------------------------------------------


def test_slot_search_over_62_days_rejected(bearer, patient, doctor):
    start = next_slot(days=1).date()
    r = bearer(patient).get(
        f"/api/doctors/{doctor.pk}/slots/",
        {"start": start.isoformat(), "end": (start + dt.timedelta(days=63)).isoformat()},
    )
    assert r.status_code == 400


def test_waitlist_range_over_62_days_rejected(bearer, patient, doctor):
    start = next_slot(days=1).date()
    r = bearer(patient).post(
        "/api/waitlist/",
        {
            "doctor": doctor.pk,
            "start_date": start.isoformat(),
            "end_date": (start + dt.timedelta(days=63)).isoformat(),
        },
        format="json",
    )
    assert r.status_code == 400


# --- throttling --------------------------------------------------------------------------------------


def test_login_flood_gets_429_with_retry_after(api_client, rates, patient):
    rates(login="3/min")
    assert [login(api_client, patient.email).status_code for _ in range(3)] == [401] * 3
    r = login(api_client, patient.email)
    assert r.status_code == 429
    assert 0 < int(r["Retry-After"]) <= 60


def test_rotating_forged_x_forwarded_for_does_not_reset_login_count_without_proxies(
    api_client, rates, settings, patient
):
    rates(login="3/min")
    assert settings.REST_FRAMEWORK["NUM_PROXIES"] == 0
    codes = [login(api_client, patient.email, HTTP_X_FORWARDED_FOR=f"10.0.0.{i}").status_code for i in range(4)]
    assert codes == [401, 401, 401, 429]


def test_behind_one_proxy_client_is_the_last_forwarded_hop_not_a_spoofed_first_one(
    api_client, rates, settings, patient
):
    rates(login="3/min")
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "NUM_PROXIES": 1}
    spoofed = [
        login(api_client, patient.email, HTTP_X_FORWARDED_FOR=f"6.6.6.{i}, 203.0.113.7").status_code for i in range(4)
    ]
    assert spoofed == [401, 401, 401, 429]
    other_client = login(api_client, patient.email, HTTP_X_FORWARDED_FOR="6.6.6.1, 198.51.100.9")
    assert other_client.status_code == 401


def test_successful_logins_also_count_toward_login_throttle(api_client, rates, patient):
    rates(login="2/min")
    ok = [api_client.post(LOGIN, {"email": patient.email, "password": DEFAULT_PASSWORD}, format="json") for _ in "ab"]
    assert [r.status_code for r in ok] == [200, 200]
    assert login(api_client, patient.email).status_code == 429


def test_login_throttle_switched_off_with_none(api_client, rates, patient):
    rates(login=None)
    assert {login(api_client, patient.email).status_code for _ in range(15)} == {401}


@pytest.mark.parametrize(
    ("scope", "path", "body"),
    [
        ("register", "/api/auth/register/", {"email": "x", "password": "y"}),
        ("refresh", "/api/auth/login/refresh/", {"refresh": "not-a-token"}),
        ("password_reset", "/api/auth/password/reset/", {"email": "nobody@example.com"}),
        ("activation_resend", "/api/auth/activate/resend/", {"email": "nobody@example.com"}),
    ],
)
def test_abuse_of_sensitive_public_endpoint_throttled_per_scope(api_client, rates, scope, path, body):
    rates(**{scope: "2/min"})
    codes = [api_client.post(path, body, format="json").status_code for _ in range(3)]
    assert 429 not in codes[:2]
    assert codes[2] == 429


def test_anonymous_flood_throttled_by_anon_default(api_client, rates):
    rates(anon="3/min")
    codes = [api_client.post(LOGIN, {}, format="json").status_code for _ in range(4)]
    assert codes == [400, 400, 400, 429]


def test_authenticated_flood_throttled_by_user_default(bearer, rates, patient):
    rates(user="3/min")
    client = bearer(patient)
    codes = [client.get("/api/notifications/unread-count/").status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]


@pytest.mark.parametrize(("value", "expected"), [("none", None), ("NONE", None), ("4/min", "4/min")])
def test_throttle_rate_read_from_environment_per_scope_others_keep_safe_defaults(value, expected):
    code = "import json; from cybermed import settings; print(json.dumps(settings.THROTTLE_RATES))"
    env = {k: v for k, v in os.environ.items() if not k.startswith("THROTTLE_")}
    done = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={**env, "THROTTLE_LOGIN": value},
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    rates = json.loads(done.stdout)
    assert rates.pop("login") == expected
    assert set(rates) == {
        "anon",
        "user",
        "register",
        "refresh",
        "password_reset",
        "activation_resend",
        "calendar_feed",
        "messaging",
    }
    assert all(rates.values()), rates
