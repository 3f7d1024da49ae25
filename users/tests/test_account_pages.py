"""The server-rendered pages account emails link to when FRONTEND_URL is unset, and the links themselves."""

import re

import pytest
from django.core import mail
from django.test import Client

from users import services
from users.models import User
from users.tests.factories import DEFAULT_PASSWORD, PatientFactory
from users.tests.helpers import uid_and_token_from_last_email

pytestmark = pytest.mark.django_db

STRONG = "Another-str0ng-passphrase"


@pytest.fixture
def browser() -> Client:
    # A real browser gets no CSRF exemption; neither does this client.
    return Client(enforce_csrf_checks=True)


@pytest.fixture
def inactive_user(django_capture_on_commit_callbacks) -> User:
    with django_capture_on_commit_callbacks(execute=True):
        return services.user_register(
            email="new.person@example.com", password=STRONG, first_name="New", last_name="Person", role="patient"
        )


@pytest.fixture
def reset_user(django_capture_on_commit_callbacks) -> User:
    user = PatientFactory()
    with django_capture_on_commit_callbacks(execute=True):
        services.user_request_password_reset(email=user.email)
    return user


def link_from_last_email() -> str:
    return re.search(r"^(https?://\S+)$", mail.outbox[-1].body, re.MULTILINE).group(1)


def path_of(link: str, settings) -> str:
    assert link.startswith(settings.SITE_URL + "/")
    return link.removeprefix(settings.SITE_URL)


def post_form(browser: Client, path: str, data: dict[str, str] | None = None):
    """Submit the page's form the way a browser would: with the CSRF token the GET handed out."""
    page = browser.get(path)
    return browser.post(path, {"csrfmiddlewaretoken": str(page.context["csrf_token"]), **(data or {})})


def get_linked_page(browser: Client, settings, *markup: bytes):
    """GET the page the last email links to: a 200 holding each piece of `markup`, never cached."""
    response = browser.get(path_of(link_from_last_email(), settings))
    assert response.status_code == 200
    for piece in markup:
        assert piece in response.content
    assert "no-store" in response["Cache-Control"]
    return response


# --- Links in the emails ------------------------------------------------------------------------------


def test_activation_email_links_to_our_page_without_frontend_url(inactive_user, settings):
    uid, token = uid_and_token_from_last_email()

    assert link_from_last_email() == f"http://127.0.0.1:8000/account/activate/{uid}/{token}/"


def test_reset_email_links_to_our_page_on_the_configured_site_url(settings, django_capture_on_commit_callbacks):
    settings.SITE_URL = "https://api.clinic.example"
    user = PatientFactory()
    with django_capture_on_commit_callbacks(execute=True):
        services.user_request_password_reset(email=user.email)
    uid, token = uid_and_token_from_last_email()

    assert link_from_last_email() == f"https://api.clinic.example/account/password-reset/{uid}/{token}/"


@pytest.mark.parametrize(("kind", "path"), [("activation", "/activate"), ("password_reset", "/reset-password")])
def test_emails_link_to_the_frontend_when_it_is_set(kind, path, settings, django_capture_on_commit_callbacks):
    settings.FRONTEND_URL = "https://app.clinic.example"
    user = PatientFactory(is_active=kind == "password_reset")
    with django_capture_on_commit_callbacks(execute=True):
        if kind == "activation":
            services.user_activation_resend(email=user.email)
        else:
            services.user_request_password_reset(email=user.email)
    uid, token = uid_and_token_from_last_email()

    assert link_from_last_email() == f"https://app.clinic.example{path}?uid={uid}&token={token}"


# --- Activation page ---------------------------------------------------------------------------------


def test_anonymous_get_activation_page_shows_a_button_and_activates_nothing(browser, inactive_user, settings):
    get_linked_page(browser, settings, b'<form method="post">', b"csrfmiddlewaretoken")

    inactive_user.refresh_from_db()
    assert (inactive_user.is_active, inactive_user.activated_at) == (False, None)


def test_anonymous_post_activation_page_activates_and_allows_login(browser, inactive_user, settings):
    response = post_form(browser, path_of(link_from_last_email(), settings))

    assert response.status_code == 200
    assert b"is active" in response.content
    inactive_user.refresh_from_db()
    assert inactive_user.is_active
    login = Client().post(
        "/api/auth/login/", {"email": inactive_user.email, "password": STRONG}, content_type="application/json"
    )
    assert login.status_code == 200


def test_anonymous_activation_link_used_twice_says_so(browser, inactive_user, settings):
    path = path_of(link_from_last_email(), settings)
    post_form(browser, path)

    again_get = browser.get(path)
    again_post = post_form(browser, path)

    assert again_get.status_code == again_post.status_code == 400
    assert b"already been used" in again_get.content


def test_anonymous_activation_page_token_spent_between_get_and_post(browser, inactive_user, settings):
    uid, token = uid_and_token_from_last_email()
    path = f"/account/activate/{uid}/{token}/"
    page = browser.get(path)
    services.user_activate(uid=uid, token=token)  # e.g. through the API, or from a second tab

    response = browser.post(path, {"csrfmiddlewaretoken": str(page.context["csrf_token"])})

    assert response.status_code == 400
    assert b"already been used" in response.content


def test_anonymous_activation_post_without_csrf_token_is_refused(browser, inactive_user, settings):
    response = browser.post(path_of(link_from_last_email(), settings))

    assert response.status_code == 403
    inactive_user.refresh_from_db()
    assert not inactive_user.is_active


@pytest.mark.parametrize(
    "path",
    [
        "/account/activate/bm90LWEtdWlk/abc-def/",
        "/account/activate/MQ/cz8wrd-0123456789abcdef0123456789abcdef/",
        "/account/password-reset/bm90LWEtdWlk/abc-def/",
        "/account/password-reset/%00/%F0%9F%98%80/",
    ],
)
def test_anonymous_invalid_links_show_a_clear_message(browser, path):
    response = browser.get(path)

    assert response.status_code == 400
    assert b"invalid, has expired or has already been used" in response.content


def test_anonymous_other_methods_are_not_allowed(inactive_user):
    uid, token = uid_and_token_from_last_email()
    client = Client()  # past the CSRF check, which would answer 403 first

    assert client.put(f"/account/activate/{uid}/{token}/").status_code == 405
    assert client.delete(f"/account/password-reset/{uid}/{token}/").status_code == 405


# --- Password-reset page -----------------------------------------------------------------------------


def test_anonymous_get_reset_page_shows_the_form_and_changes_nothing(browser, reset_user, settings):
    get_linked_page(browser, settings, b'name="new_password1"', b'name="new_password2"')

    reset_user.refresh_from_db()
    assert reset_user.check_password(DEFAULT_PASSWORD)


def test_anonymous_reset_page_sets_the_password_once(browser, reset_user, settings):
    path = path_of(link_from_last_email(), settings)

    response = post_form(browser, path, {"new_password1": STRONG, "new_password2": STRONG})
    reused = post_form(browser, path, {"new_password1": STRONG + "x", "new_password2": STRONG + "x"})

    assert response.status_code == 200
    assert b"Your password has been changed" in response.content
    reset_user.refresh_from_db()
    assert reset_user.check_password(STRONG)
    assert reused.status_code == 400
    assert b"already been used" in reused.content


@pytest.mark.parametrize(
    ("new_password1", "new_password2", "message"),
    [
        ("12345678", "12345678", b"This password is entirely numeric."),
        ("short", "short", b"This password is too short."),
        ("password123", "password123", b"This password is too common."),
        (STRONG, STRONG + "!", b"The two password fields didn"),
    ],
)
def test_anonymous_reset_page_rejects_weak_or_mismatched_password(
    browser, reset_user, settings, new_password1, new_password2, message
):
    response = post_form(
        browser,
        path_of(link_from_last_email(), settings),
        {"new_password1": new_password1, "new_password2": new_password2},
    )

    assert response.status_code == 400
    assert message in response.content
    reset_user.refresh_from_db()
    assert reset_user.check_password(DEFAULT_PASSWORD)


def test_anonymous_reset_post_without_csrf_token_is_refused(browser, reset_user, settings):
    response = browser.post(
        path_of(link_from_last_email(), settings), {"new_password1": STRONG, "new_password2": STRONG}
    )

    assert response.status_code == 403
    reset_user.refresh_from_db()
    assert reset_user.check_password(DEFAULT_PASSWORD)


# --- Front page and the admin's "View site" -----------------------------------------------------------


def test_anonymous_front_page_redirects_to_the_api_docs(browser):
    response = browser.get("/", follow=True)

    assert response.redirect_chain == [("/api/docs/", 302)]
    assert response.status_code == 200


def test_staff_admin_view_site_link_leads_to_the_api_docs(browser, staff):
    browser.force_login(staff)

    page = browser.get("/admin/")

    assert page.status_code == 200
    assert b'<a href="/api/docs/">View site</a>' in page.content
