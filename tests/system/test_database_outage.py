"""A live gunicorn server whose database goes away answers 503 JSON, and recovers by itself."""

from urllib.parse import urlsplit

import pytest

from cybermed.testing import assert_json_503
from tests.system import servers

pytestmark = [pytest.mark.postgres, pytest.mark.timeout(180)]


@pytest.fixture
def proxy(database_url) -> servers.TCPProxy:
    target = urlsplit(database_url)
    proxy = servers.TCPProxy(target.hostname or "127.0.0.1", target.port or 5432)
    proxy.open()
    yield proxy
    proxy.close()


@pytest.fixture
def server(database_url, proxy, log_dir) -> servers.Server:
    through_proxy = servers.database_url_with_name(database_url, urlsplit(database_url).path[1:], port=proxy.port)
    server = servers.start_gunicorn(servers.base_env(through_proxy, DB_CONN_MAX_AGE="60"), log_dir, workers=1)
    yield server
    server.stop()


def test_server_answers_503_json_while_database_is_down_and_recovers_without_restart(database_url, proxy, server):
    seeded = servers.run_seed(database_url, {"patients": 1})
    bearer = {"Authorization": f"Bearer {seeded['patients'][0]['access']}"}
    session_cookie = {"Cookie": "sessionid=" + "x" * 32}  # any session key makes the admin read the database
    worker_before = server.worker_pids()

    assert server.get("/api/health/").json() == {"status": "ok", "database": "ok"}
    assert server.get("/api/auth/me/", headers=bearer).status_code == 200

    proxy.close()
    health = server.get("/api/health/")
    assert_json_503(health)
    assert health.json() == {"status": "error", "database": "unavailable"}
    # A DRF view that reads the database (not /api/auth/me/: it may answer from the cached user, users/user_cache.py)
    assert_json_503(server.get("/api/appointments/", headers=bearer))  # DRF view: exception handler
    assert_json_503(server.get("/admin/", headers=session_cookie))  # outside DRF: the middleware

    proxy.open()
    assert server.get("/api/health/").json() == {"status": "ok", "database": "ok"}
    assert server.get("/api/auth/me/", headers=bearer).json()["id"] == seeded["patients"][0]["id"]
    assert server.get("/admin/", headers=session_cookie, allow_redirects=False).status_code == 302
    assert server.process.poll() is None
    assert server.worker_pids() == worker_before, "the same worker recovered; nothing was restarted"
