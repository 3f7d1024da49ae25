"""The database settings as each environment produces them, read by running settings.py afresh."""

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
    for name in ("DATABASE_URL", "SQLITE_PATH"):
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
    assert database["ENGINE"] == "django.db.backends.postgresql"
    assert "transaction_mode" not in database.get("OPTIONS", {})


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
