"""The database settings as each environment produces them, read by running settings.py afresh."""

import os
import runpy
from pathlib import Path

import pytest
from django.db.utils import ConnectionHandler

SETTINGS_FILE = Path(__file__).resolve().parents[1] / "settings.py"
SQLITE_OPTIONS = {
    "transaction_mode": "IMMEDIATE",
    "timeout": 20,
    "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL",
}


def database_settings(monkeypatch, **env: str) -> dict:
    for name in ("DATABASE_URL", "SQLITE_PATH", "DB_PREPARED_STATEMENTS"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return runpy.run_path(str(SETTINGS_FILE))["DATABASES"]["default"]


@pytest.mark.parametrize(
    "env",
    [
        pytest.param({}, id="default"),
        pytest.param({"SQLITE_PATH": "/srv/data/db.sqlite3"}, id="sqlite-path"),
        pytest.param({"DATABASE_URL": "sqlite:////srv/data/db.sqlite3"}, id="database-url"),
    ],
)
def test_sqlite_gets_immediate_transactions_busy_timeout_and_wal_however_configured(monkeypatch, env):
    database = database_settings(monkeypatch, **env)
    assert database["ENGINE"] == "django.db.backends.sqlite3"
    assert database["OPTIONS"] == SQLITE_OPTIONS


def test_sqlite_option_in_the_database_url_wins(monkeypatch):
    database = database_settings(monkeypatch, DATABASE_URL="sqlite:////srv/data/db.sqlite3?timeout=5")
    assert database["OPTIONS"] == {**SQLITE_OPTIONS, "timeout": 5}


def test_postgresql_gets_no_sqlite_options(monkeypatch):
    database = database_settings(monkeypatch, DATABASE_URL="postgres://app@db.example:5432/cybermed")
    assert database["ENGINE"] == "cybermed.db_backends.postgresql"
    assert "transaction_mode" not in database.get("OPTIONS", {})


def test_postgresql_prepares_repeated_statements_unless_turned_off(monkeypatch):
    url = "postgres://app@db.example:5432/cybermed"
    options = database_settings(monkeypatch, DATABASE_URL=url)["OPTIONS"]
    assert (options["server_side_binding"], options["prepare_threshold"]) == (True, 5)
    options = database_settings(monkeypatch, DATABASE_URL=url, DB_PREPARED_STATEMENTS="false").get("OPTIONS", {})
    assert "server_side_binding" not in options
    assert "prepare_threshold" not in options


def test_sqlite_file_from_database_url_opens_in_wal_with_immediate_writes(monkeypatch, tmp_path, django_db_blocker):
    database = database_settings(monkeypatch, DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}")
    connections = ConnectionHandler({"default": database})  # a handler of its own, apart from the tests' one
    connection = connections["default"]
    try:
        with django_db_blocker.unblock(), connection.cursor() as cursor:
            cursor.execute("PRAGMA journal_mode")
            assert cursor.fetchone() == ("wal",)
            cursor.execute("PRAGMA synchronous")
            assert cursor.fetchone() == (1,)  # NORMAL
            cursor.execute("PRAGMA busy_timeout")
            assert cursor.fetchone() == (20000,)
        assert connection.transaction_mode == "IMMEDIATE"
    finally:
        connections.close_all()


def test_sqlite_connections_are_persistent_unless_turned_off(monkeypatch):
    assert database_settings(monkeypatch)["CONN_MAX_AGE"] == 60
    assert database_settings(monkeypatch, DB_CONN_MAX_AGE="0")["CONN_MAX_AGE"] == 0


def test_postgresql_pool_replaces_persistent_connections(monkeypatch):
    url = "postgres://cybermed@db.internal:5432/cybermed"
    plain = database_settings(monkeypatch, DATABASE_URL=url)
    assert plain["CONN_MAX_AGE"] == 60
    assert "pool" not in plain.get("OPTIONS", {})
    pooled = database_settings(monkeypatch, DATABASE_URL=url, DB_POOL_MAX_SIZE="8", DB_CONN_MAX_AGE="60")
    assert pooled["CONN_MAX_AGE"] == 0  # Django refuses a pool with persistent connections
    assert pooled["CONN_HEALTH_CHECKS"] is True  # Django then has the pool check each connection it lends
    assert pooled["OPTIONS"]["pool"] == {"min_size": 1, "max_size": 8, "timeout": 10}


def test_pool_is_postgresql_only(monkeypatch):
    database = database_settings(monkeypatch, DATABASE_URL="sqlite:////srv/data/db.sqlite3", DB_POOL_MAX_SIZE="8")
    assert "pool" not in database["OPTIONS"]


@pytest.mark.skipif(not os.environ.get("DATABASE_URL", "").startswith("postgres"), reason="the pool is PostgreSQL's")
@pytest.mark.django_db
def test_pooled_connections_serve_queries_and_go_back_to_the_pool(monkeypatch):
    from django.db import connection as test_connection

    settings_dict = database_settings(monkeypatch, DATABASE_URL=os.environ["DATABASE_URL"], DB_POOL_MAX_SIZE="2")
    settings_dict["NAME"] = test_connection.settings_dict["NAME"]  # the test database pytest-django made
    connection = ConnectionHandler({"default": settings_dict})["default"]
    try:
        for _round in range(3):
            with connection.cursor() as cursor:
                cursor.execute("SELECT 1")
                assert cursor.fetchone() == (1,)
            connection.close()  # back to the pool: the next round reuses it
        stats = connection.pool.get_stats()
        assert stats["pool_size"] <= 2
        assert stats.get("connections_num", 0) <= 2  # three rounds, at most the pool's connections opened
    finally:
        connection.close_pool()
