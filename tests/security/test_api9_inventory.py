"""API9:2023 Improper inventory management: every route under /api/ is documented, nothing else is exposed."""

import re

import pytest
from django.urls import URLPattern, URLResolver, get_resolver
from drf_spectacular.generators import SchemaGenerator

pytestmark = pytest.mark.django_db

# The schema and the docs page describe the API; they are not operations of it.
SELF_DESCRIBING = {"/api/schema/", "/api/docs/", "/api/docs/realtime/"}  # the schema, its UI, the socket protocol page


def is_format_suffix(route: str) -> bool:
    return "<format>" in route or "<drf_format_suffix" in route


def walk(patterns, prefix: str = ""):
    for pattern in patterns:
        route = prefix + str(pattern.pattern)
        if is_format_suffix(route):
            continue
        if isinstance(pattern, URLResolver):
            yield from walk(pattern.url_patterns, route)
        elif isinstance(pattern, URLPattern):
            yield route


def normalize(route: str) -> str:
    """`api/doctors/<int:doctor_id>/slots/`, `^api/x/(?P<pk>[^/.]+)/$` and `/api/x/{id}/` all become `/api/x/{}/`."""
    route = re.sub(r"\(\?P<\w+>[^)]*\)", "{}", route)
    route = re.sub(r"<(?:\w+:)?\w+>", "{}", route)
    route = route.replace("^", "").replace("$", "").replace("\\", "")
    route = re.sub(r"\{[^}]*\}", "{}", route)
    return "/" + route.lstrip("/")


@pytest.fixture(scope="module")
def schema() -> dict:
    return SchemaGenerator().get_schema(request=None, public=True)


def test_every_api_route_appears_in_the_schema(schema):
    routes = {normalize(r) for r in walk(get_resolver().url_patterns)}
    api_routes = {r for r in routes if r.startswith("/api/")} - SELF_DESCRIBING
    documented = {normalize(p) for p in schema["paths"]}
    assert api_routes, "no /api/ routes found"
    assert sorted(api_routes - documented) == []


def test_schema_documents_no_route_that_does_not_exist(schema):
    routes = {normalize(r) for r in walk(get_resolver().url_patterns)}
    assert sorted({normalize(p) for p in schema["paths"]} - routes) == []


def all_routes(patterns, prefix: str = ""):
    for pattern in patterns:
        route = prefix + str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            yield from all_routes(pattern.url_patterns, route)
        else:
            yield route


def test_no_undocumented_format_suffix_duplicates_exposed():
    # `/api/appointments.json` and friends are extra, undocumented routes for every endpoint.
    assert sorted(r for r in all_routes(get_resolver().url_patterns) if is_format_suffix(r)) == []


def test_no_api_root_listing_exposed(api_client):
    assert api_client.get("/api/").status_code == 404


def test_contract_operations_all_documented(schema):
    expected = {
        ("get", "/api/health/"),
        ("post", "/api/auth/register/"),
        ("post", "/api/auth/login/"),
        ("post", "/api/auth/login/refresh/"),
        ("post", "/api/auth/logout/"),
        ("get", "/api/auth/me/"),
        ("patch", "/api/auth/me/"),
        ("post", "/api/auth/password/change/"),
        ("post", "/api/auth/password/reset/"),
        ("post", "/api/auth/password/reset/confirm/"),
        ("post", "/api/auth/activate/"),
        ("post", "/api/auth/activate/resend/"),
        ("get", "/api/doctor-profile/"),
        ("post", "/api/doctor-profile/"),
        ("get", "/api/patient-profile/"),
        ("post", "/api/patient-profile/"),
        ("get", "/api/specialties/"),
        ("get", "/api/doctors/"),
        ("get", "/api/doctors/{}/"),
        ("post", "/api/doctors/{}/verify/"),
        ("get", "/api/patients/"),
        ("get", "/api/patients/{}/"),
        ("get", "/api/availability/"),
        ("post", "/api/availability/"),
        ("delete", "/api/availability/{}/"),
        ("get", "/api/time-off/"),
        ("post", "/api/time-off/"),
        ("get", "/api/doctors/{}/slots/"),
        ("get", "/api/appointments/"),
        ("post", "/api/appointments/"),
        ("get", "/api/appointments/{}/"),
        ("patch", "/api/appointments/{}/"),
        ("delete", "/api/appointments/{}/"),
        *(
            ("post", f"/api/appointments/{{}}/{a}/")
            for a in ("confirm", "cancel", "reschedule", "complete", "no-show", "refer")
        ),
        ("get", "/api/appointments/{}/history/"),
        ("get", "/api/appointments/{}/notes/"),
        ("post", "/api/appointments/{}/notes/"),
        ("get", "/api/consultations/"),
        ("post", "/api/consultations/"),
        ("get", "/api/consultations/{}/"),
        ("patch", "/api/consultations/{}/"),
        ("get", "/api/consultations/{}/revisions/"),
        ("get", "/api/notifications/"),
        ("get", "/api/notifications/{}/"),
        ("post", "/api/notifications/{}/read/"),
        ("post", "/api/notifications/read-all/"),
        ("get", "/api/notifications/unread-count/"),
        ("get", "/api/notifications/preferences/"),
        ("patch", "/api/notifications/preferences/"),
        ("get", "/api/waitlist/"),
        ("post", "/api/waitlist/"),
        ("delete", "/api/waitlist/{}/"),
    }
    documented = {(m, normalize(p)) for p, item in schema["paths"].items() for m in item}
    assert sorted(expected - documented) == []


def test_schema_and_docs_served_without_internet(api_client):
    assert api_client.get("/api/schema/").status_code == 200
    docs = api_client.get("/api/docs/")
    assert docs.status_code == 200
    assert b"cdn.jsdelivr.net" not in docs.content
    assert b"unpkg.com" not in docs.content
