"""An /api/ path without its trailing slash gets a JSON 308 to the slashed path, whatever the method."""

import re

import pytest
from django.test import Client
from django.urls import get_resolver
from rest_framework.test import APIClient

from tests.security.test_api9_inventory import all_routes, normalize
from users.tests.factories import DEFAULT_PASSWORD

pytestmark = pytest.mark.django_db

METHODS = ["get", "head", "post", "put", "patch", "delete", "options"]


def api_paths() -> list[str]:
    routes = {normalize(r) for r in all_routes(get_resolver().url_patterns)}
    return sorted(re.sub(r"\{\}", "1", r) for r in routes if r.startswith("/api/"))


@pytest.mark.parametrize("method", METHODS)
def test_unslashed_api_path_gets_json_308_keeping_the_query_string(api_client, method):
    r = getattr(api_client, method)("/api/auth/login?next=%2Fhome&x=1")
    assert r.status_code == 308
    assert r["Location"] == "/api/auth/login/?next=%2Fhome&x=1"
    assert r["Content-Type"] == "application/json"
    if method != "head":
        assert r.json() == {
            "detail": "This URL ends with a slash: /api/auth/login/?next=%2Fhome&x=1",
            "code": "trailing_slash_required",
        }


@pytest.mark.parametrize("method", METHODS)
def test_every_api_route_without_its_slash_redirects_to_it(method):
    client = Client()
    wrong = {}
    for path in api_paths():
        r = getattr(client, method)(path.rstrip("/"))
        if (r.status_code, r.get("Location"), r["Content-Type"]) != (308, path, "application/json"):
            wrong[path] = (r.status_code, r.get("Location"), r["Content-Type"])
    assert wrong == {}


def test_client_following_the_redirect_repeats_the_post_with_its_body(api_client, patient):
    r = api_client.post(
        "/api/auth/login", {"email": patient.email, "password": DEFAULT_PASSWORD}, format="json", follow=True
    )
    assert r.redirect_chain == [("/api/auth/login/", 308)]
    assert r.status_code == 200
    assert set(r.json()) >= {"access", "refresh"}


def test_unslashed_post_redirects_with_debug_on_too(api_client, settings):
    # Django's own APPEND_SLASH raises a RuntimeError (a 500) for a POST when DEBUG is on.
    settings.DEBUG = True
    assert api_client.post("/api/auth/register", {}, format="json").status_code == 308


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("path", ["/api/no-such-endpoint", "/api/no-such-endpoint/", "/api"])
def test_unknown_api_path_stays_json_404(method, path):
    r = getattr(APIClient(), method)(path)
    assert r.status_code == 404
    assert r["Content-Type"] == "application/json"
    assert "Location" not in r


def test_slashed_api_path_is_served_directly(api_client):
    assert api_client.get("/api/health/").status_code == 200


def test_admin_keeps_djangos_slash_redirect():
    r = Client().get("/admin")
    assert (r.status_code, r["Location"]) == (301, "/admin/")
