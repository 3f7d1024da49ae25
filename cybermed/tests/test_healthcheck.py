"""The container health check (python -m cybermed.healthcheck) against a live server."""

from urllib.parse import urlsplit

import pytest

from cybermed import healthcheck


@pytest.mark.parametrize(
    ("allowed", "host"),
    [
        ("api.example.com,localhost", "api.example.com"),
        (".example.com", "example.com"),
        ("*", "localhost"),
        ("", "localhost"),
    ],
)
def test_host_header_comes_from_allowed_hosts(allowed, host):
    assert healthcheck.host_header(allowed) == host


@pytest.mark.django_db(transaction=True)
def test_healthcheck_passes_against_a_healthy_server(live_server, monkeypatch):
    monkeypatch.setenv("PORT", str(urlsplit(live_server.url).port))
    monkeypatch.setenv("ALLOWED_HOSTS", "localhost")
    assert healthcheck.main() == 0


@pytest.mark.django_db(transaction=True)
def test_healthcheck_fails_when_the_host_is_not_allowed(live_server, monkeypatch, settings):
    settings.ALLOWED_HOSTS = ["api.example.com"]
    monkeypatch.setenv("PORT", str(urlsplit(live_server.url).port))
    monkeypatch.setenv("ALLOWED_HOSTS", "elsewhere.example.org")
    assert healthcheck.main() == 1


def test_healthcheck_fails_when_nothing_listens(monkeypatch):
    monkeypatch.setenv("PORT", "1")
    assert healthcheck.main() == 1
