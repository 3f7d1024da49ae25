"""API8:2023 Security misconfiguration: headers, no debug output, JSON errors, deploy checks."""

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client
from rest_framework.test import APIClient

from cybermed import settings as cybermed_settings
from cybermed.api.views import HealthView

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.django_db

PRODUCTION_ENV = {
    "DEBUG": "false",
    "ALLOWED_HOSTS": "api.cybermed.example",
    "CSRF_TRUSTED_ORIGINS": "https://api.cybermed.example",
    "SITE_URL": "https://api.cybermed.example",
    "SECURE_SSL_REDIRECT": "true",
    "SECURE_HSTS_SECONDS": "31536000",
    "SESSION_COOKIE_SECURE": "true",
    "CSRF_COOKIE_SECURE": "true",
    "TRUST_PROXY_SSL_HEADER": "true",
}


def run_deploy_check(**env: str) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if k not in PRODUCTION_ENV and k != "SECRET_KEY"}
    return subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def assert_json_without_internals(response, *secrets_: str) -> None:
    assert response["Content-Type"].startswith("application/json"), response["Content-Type"]
    body = response.content.decode()
    assert "Traceback" not in body
    assert "<html" not in body.lower()
    for secret in secrets_:
        assert secret not in body


def test_tests_run_with_debug_off_like_production():
    assert settings.DEBUG is False


def test_clickjacking_and_sniffing_blocked_by_security_headers(api_client):
    r = api_client.get("/api/health/")
    assert r["X-Content-Type-Options"] == "nosniff"
    assert r["X-Frame-Options"] == "DENY"
    assert r["Referrer-Policy"] == "same-origin"
    assert r["Cross-Origin-Opener-Policy"] == "same-origin"


def test_security_headers_also_on_error_responses(api_client):
    r = api_client.get("/api/no-such-endpoint/")
    assert r.status_code == 404
    assert (r["X-Content-Type-Options"], r["X-Frame-Options"]) == ("nosniff", "DENY")


def test_https_downgrade_blocked_by_hsts_when_configured(api_client, settings):
    settings.SECURE_HSTS_SECONDS = 31536000
    settings.SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    settings.SECURE_HSTS_PRELOAD = True
    r = api_client.get("/api/health/", secure=True)
    assert r["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains; preload"


def test_hsts_not_sent_over_plain_http_or_when_unconfigured(settings):
    # SecurityMiddleware reads its settings when the handler is built: one fresh client per setting.
    settings.SECURE_HSTS_SECONDS = 31536000
    assert "Strict-Transport-Security" not in APIClient().get("/api/health/")
    settings.SECURE_HSTS_SECONDS = 0
    assert "Strict-Transport-Security" not in APIClient().get("/api/health/", secure=True)


def test_plain_http_redirected_to_https_when_configured_except_health(api_client, settings):
    settings.SECURE_SSL_REDIRECT = True
    r = api_client.get("/api/schema/")
    assert (r.status_code, r["Location"]) == (301, "https://testserver/api/schema/")
    assert api_client.get("/api/health/").status_code == 200  # load balancers probe over plain HTTP


def test_unknown_api_path_gets_json_404_not_debug_page(api_client):
    r = api_client.get("/api/definitely/not/here/")
    assert r.status_code == 404
    assert_json_without_internals(r, "urlpatterns", "URLconf")


def test_unknown_non_api_path_gets_json_404(client):
    r = client.get("/wp-admin/setup.php")
    assert r.status_code == 404
    assert_json_without_internals(r)


def test_wrong_method_gets_json_405(api_client):
    r = api_client.delete("/api/health/")
    assert r.status_code == 405
    assert_json_without_internals(r)


def test_malformed_json_body_gets_400_not_500(api_client):
    r = api_client.post("/api/auth/login/", data="{not json", content_type="application/json")
    assert r.status_code == 400
    assert_json_without_internals(r)


def test_unsupported_media_type_gets_415_json(api_client):
    r = api_client.post("/api/auth/login/", data="<xml/>", content_type="application/xml")
    assert r.status_code == 415
    assert_json_without_internals(r)


def test_crash_in_api_view_gets_json_500_without_traceback(api_client, monkeypatch):
    def boom(self, request):
        raise RuntimeError("internal-detail-7f3a")

    monkeypatch.setattr(HealthView, "get", boom)
    r = api_client.get("/api/health/")
    assert r.status_code == 500
    assert r.json() == {"detail": "Internal server error.", "code": "server_error"}
    assert_json_without_internals(r, "internal-detail-7f3a", "RuntimeError")


def test_crash_outside_api_gets_json_500_without_traceback(crashing_admin):
    r = crashing_admin(RuntimeError("internal-detail-9c1b")).get("/admin/")
    assert r.status_code == 500
    assert_json_without_internals(r, "internal-detail-9c1b", "RuntimeError")


def test_host_header_injection_gets_json_400(client):
    r = client.get("/api/health/", HTTP_HOST="evil.example")
    assert r.status_code == 400
    assert_json_without_internals(r)


def test_cross_origin_read_allowed_only_for_allowlisted_origins(api_client, settings):
    settings.CORS_ALLOWED_ORIGINS = ["https://app.cybermed.example"]
    allowed = api_client.get("/api/health/", HTTP_ORIGIN="https://app.cybermed.example")
    assert allowed["Access-Control-Allow-Origin"] == "https://app.cybermed.example"
    denied = api_client.get("/api/health/", HTTP_ORIGIN="https://evil.example")
    assert "Access-Control-Allow-Origin" not in denied
    assert "Access-Control-Allow-Credentials" not in denied


def test_cross_origin_preflight_from_unknown_origin_not_allowed(api_client, settings):
    settings.CORS_ALLOWED_ORIGINS = ["https://app.cybermed.example"]
    r = api_client.options(
        "/api/auth/login/", HTTP_ORIGIN="https://evil.example", HTTP_ACCESS_CONTROL_REQUEST_METHOD="POST"
    )
    assert "Access-Control-Allow-Origin" not in r


def test_passwords_stored_with_argon2_first():
    # The autouse fixture swaps in a fast hasher for tests, so read the settings module itself.
    assert cybermed_settings.PASSWORD_HASHERS[0] == "django.contrib.auth.hashers.Argon2PasswordHasher"


def test_api_accepts_bearer_tokens_only_not_session_cookies(staff):
    client = Client()
    client.force_login(staff)  # a logged-in admin session must not authenticate API calls (no CSRF there)
    assert client.get("/api/auth/me/").status_code == 401


def test_production_settings_pass_deploy_checks():
    done = run_deploy_check(SECRET_KEY="ci-" + secrets.token_urlsafe(48), **PRODUCTION_ENV)
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.parametrize(
    ("override", "warning"),
    [
        ({"SECRET_KEY": ""}, "security.W009"),
        ({"DEBUG": "true"}, "security.W018"),
    ],
)
def test_insecure_production_setting_fails_deploy_checks(override, warning):
    env = {**PRODUCTION_ENV, "SECRET_KEY": "ci-" + secrets.token_urlsafe(48), **override}
    done = run_deploy_check(**env)
    assert done.returncode != 0
    assert warning in done.stdout + done.stderr


def test_server_refuses_to_start_with_development_secret_key():
    done = subprocess.run(
        [sys.executable, "-c", "import cybermed.wsgi"],
        cwd=ROOT,
        env={**{k: v for k, v in os.environ.items() if k != "SECRET_KEY"}, "DEBUG": "false", "SECRET_KEY": ""},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode != 0
    assert "Set SECRET_KEY" in done.stderr


def test_production_settings_with_loopback_email_links_fail_deploy_checks():
    env = {**PRODUCTION_ENV, "SITE_URL": "http://127.0.0.1:8000"}
    done = run_deploy_check(SECRET_KEY="ci-" + secrets.token_urlsafe(48), **env)
    assert done.returncode != 0
    assert "users.W001" in done.stdout + done.stderr
