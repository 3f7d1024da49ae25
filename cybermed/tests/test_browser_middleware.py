"""Session, session-auth and messages middleware stand aside under /api/ and work as Django's everywhere else."""

import pytest
from django.http import HttpResponse
from django.test import Client, RequestFactory

from cybermed import browser_middleware


def chain(request):
    """The three, in settings order, around a view that reports what they set up."""

    def view(req):
        return HttpResponse(",".join(name for name in ("session", "user", "_messages") if hasattr(req, name)))

    handler = browser_middleware.MessageMiddleware(view)
    handler = browser_middleware.AuthenticationMiddleware(handler)
    handler = browser_middleware.SessionMiddleware(handler)
    return handler(request).content.decode()


@pytest.mark.parametrize("path", ["/api/appointments/", "/api/", "/api"])
def test_api_requests_pass_straight_through(path):
    assert chain(RequestFactory().get(path)) == ""


@pytest.mark.parametrize("path", ["/admin/", "/apix/", "/activate/", "/"])
def test_other_requests_get_session_user_and_messages(path):
    assert chain(RequestFactory().get(path)) == "session,user,_messages"


@pytest.mark.django_db
def test_admin_login_still_needs_the_csrf_token_and_keeps_a_session(staff):
    strict = Client(enforce_csrf_checks=True)
    assert strict.post("/admin/login/", {"username": staff.email, "password": "x"}).status_code == 403
    client = Client()
    client.force_login(staff)
    assert client.get("/admin/").status_code == 200


@pytest.mark.django_db
def test_api_response_sets_no_cookie(api_client, patient):
    api_client.force_authenticate(patient)
    response = api_client.get("/api/appointments/")
    assert response.status_code == 200
    assert response.cookies == {}
    assert "Cookie" not in response.get("Vary", "")
