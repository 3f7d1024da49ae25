"""Fixtures shared by every app's tests, and the opt-in shifted clock (CYBERMED_TEST_NOW)."""

import datetime as dt
import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import time_machine
from django.core.cache import cache
from django.db import connection, connections
from rest_framework.test import APIClient

from notifications import sms
from users.models import User
from users.tests.factories import DoctorFactory, PatientFactory, StaffFactory

CLOCK_VARIABLE = "CYBERMED_TEST_NOW"
_session_clock: time_machine.travel | None = None


def _shifted_now() -> dt.datetime | None:
    value = os.environ.get(CLOCK_VARIABLE, "").strip()
    if not value:
        return None
    try:
        now = dt.datetime.fromisoformat(value)
    except ValueError:
        now = None
    if now is None or now.tzinfo is None:
        raise pytest.UsageError(f"{CLOCK_VARIABLE} must be an ISO 8601 instant with an offset, got {value!r}")
    return now


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config) -> None:
    """Run the whole session at CYBERMED_TEST_NOW, if set, so that CI proves no test depends on the real date.

    Started here (not in a fixture) so that collection-time code sees the shifted clock too. time-machine
    patches the time functions process-wide, so threads (race tests) share the shift; monotonic clocks and
    signal timers are untouched, so pytest-timeout and sleeps keep real time. The clock ticks from the
    shifted instant. Subprocesses (tests/system servers) run on the real clock, which they share with
    each other and with the data they seed themselves.
    """
    global _session_clock
    now = _shifted_now()
    if now is not None and _session_clock is None:
        _session_clock = time_machine.travel(now, tick=True)
        _session_clock.start()


def pytest_unconfigure(config) -> None:
    global _session_clock
    if _session_clock is not None:
        _session_clock.stop()
        _session_clock = None


def pytest_report_header(config) -> str | None:
    now = _shifted_now()
    return f"clock: shifted to {now.isoformat()} ({now:%A}) by {CLOCK_VARIABLE}" if now else None


@pytest.fixture(autouse=True)
def _fast_and_isolated(settings, tmp_path) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.MEDIA_ROOT = str(tmp_path / "media")
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.SMS_BACKEND = "notifications.sms.backends.locmem.SmsBackend"
    sms.outbox.clear()
    cache.clear()


@pytest.fixture
def api_client() -> APIClient:
    return APIClient()


@pytest.fixture
def client_for() -> Callable[[User | None], APIClient]:
    """An APIClient authenticated as `user` (anonymous for None)."""

    def make(user: User | None) -> APIClient:
        client = APIClient()
        if user is not None:
            client.force_authenticate(user)
        return client

    return make


@pytest.fixture
def patient(db) -> User:
    return PatientFactory()


@pytest.fixture
def other_patient(db) -> User:
    return PatientFactory()


@pytest.fixture
def doctor(db) -> User:
    return DoctorFactory()


@pytest.fixture
def other_doctor(db) -> User:
    return DoctorFactory()


@pytest.fixture
def staff(db) -> User:
    return StaffFactory()


CHROMIUM = shutil.which("chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture
def browser(monkeypatch) -> Iterator:
    """Debian's chromium driven by Playwright (never `playwright install`, which downloads its own browsers)."""
    if CHROMIUM is None:
        pytest.skip("chromium is not installed (apt-get install -y chromium)")
    from playwright.sync_api import sync_playwright

    # Playwright's sync API keeps an event loop on this thread; the test's own ORM calls are still
    # plain synchronous code, which Django would otherwise refuse next to a running loop.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            launched.close()
            # The test's database connections were made in Playwright's context: closed here, where they can be
            # seen, or one outlives the test and PostgreSQL's test database cannot be dropped at the end.
            connections.close_all()


@pytest.fixture
def screenshot(tmp_path) -> Callable[..., Path]:
    """`screenshot(page, name)` writes a full-page PNG to the test's tmp_path and, if set, to SCREENSHOT_DIR."""
    folders = [tmp_path / "screenshots"]
    if os.environ.get("SCREENSHOT_DIR"):
        folders.append(Path(os.environ["SCREENSHOT_DIR"]))

    def take(page, name: str) -> Path:
        for folder in folders:
            folder.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(folder / f"{name}.png"), full_page=True)
        return folders[0] / f"{name}.png"

    return take


def pytest_collection_modifyitems(config, items) -> None:
    if connection.vendor == "postgresql":
        return
    skip = pytest.mark.skip(reason="needs PostgreSQL (set DATABASE_URL)")
    for item in items:
        if "postgres" in item.keywords:
            item.add_marker(skip)
