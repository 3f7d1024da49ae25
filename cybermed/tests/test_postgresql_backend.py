"""The PostgreSQL backend (cybermed.db_backends.postgresql): its health check (no round trip while the connection
is idle and its socket quiet, the server's own answer otherwise), its prepared statements and its timestamps."""

import datetime as dt
import select
from collections.abc import Iterator

import psycopg
import pytest
from django.db import connections
from django.db.backends.base.base import BaseDatabaseWrapper
from psycopg import adapters
from psycopg.pq import Format

from cybermed.db_backends.postgresql.base import UtcTimestamptzLoader

TIMESTAMPTZ_OID = adapters.types["timestamptz"].oid

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]


@pytest.fixture
def wrapper(django_db_blocker) -> Iterator[BaseDatabaseWrapper]:
    """A connection of its own to the test database, apart from the test's transaction."""
    wrapper = connections.create_connection("default")
    with django_db_blocker.unblock():
        wrapper.ensure_connection()
        yield wrapper
        wrapper.close()


class _Recorder:
    """Counts what is sent to the server through the psycopg connection's cursors."""

    def __init__(self, connection: psycopg.Connection) -> None:
        self.statements = 0
        self._cursor = connection.cursor

    def cursor(self, *args: object, **kwargs: object) -> psycopg.Cursor:
        self.statements += 1
        return self._cursor(*args, **kwargs)


@pytest.fixture
def recorder(wrapper, monkeypatch) -> _Recorder:
    recorder = _Recorder(wrapper.connection)
    monkeypatch.setattr(wrapper.connection, "cursor", recorder.cursor)
    return recorder


def _terminate(wrapper: BaseDatabaseWrapper) -> None:
    """End the wrapper's server process from another connection, and wait until its socket says so."""
    pid = wrapper.connection.info.backend_pid
    params = wrapper.get_connection_params()
    with psycopg.connect(**{**params, "autocommit": True}) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", [pid])
    poller = select.poll()
    poller.register(wrapper.connection.fileno(), select.POLLIN)
    assert poller.poll(5000), "the server said nothing on the terminated connection's socket"


def test_the_engine_is_the_projects_backend(wrapper):
    assert wrapper.settings_dict["ENGINE"] == "cybermed.db_backends.postgresql"
    assert wrapper.settings_dict["CONN_HEALTH_CHECKS"] is True
    assert wrapper.connection.prepare_threshold == 5


def test_a_statement_run_a_fifth_time_is_prepared(wrapper):
    with wrapper.cursor() as cursor:
        for value in range(6):
            cursor.execute("SELECT %s::int + 1", [value])
            assert cursor.fetchone() == (value + 1,)
        cursor.execute("SELECT statement FROM pg_prepared_statements")
        assert [row[0] for row in cursor.fetchall()] == ["SELECT $1::int + 1"]


def test_an_idle_connection_with_a_quiet_socket_is_usable_without_a_round_trip(wrapper, recorder):
    assert wrapper.is_usable() is True
    assert recorder.statements == 0


def test_a_connection_the_server_terminated_is_not_usable(wrapper, recorder):
    _terminate(wrapper)
    assert wrapper.is_usable() is False
    assert recorder.statements == 1  # the pending input made it ask, and the question failed


def test_a_request_after_the_server_dropped_the_connection_gets_a_new_one(wrapper):
    old_pid = wrapper.connection.info.backend_pid
    _terminate(wrapper)
    wrapper.close_if_unusable_or_obsolete()  # what Django runs when a request starts
    with wrapper.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        assert cursor.fetchone()[0] != old_pid


def test_without_poll_the_server_is_asked(wrapper, recorder, monkeypatch):
    monkeypatch.delattr(select, "poll")  # as on Windows
    assert wrapper.is_usable() is True
    assert recorder.statements == 1


def test_a_connection_inside_a_transaction_is_asked(wrapper, recorder):
    wrapper.connection.execute("BEGIN")
    before = recorder.statements
    try:
        assert wrapper.is_usable() is True
        assert recorder.statements == before + 1
    finally:
        wrapper.connection.execute("ROLLBACK")


def test_after_an_error_the_server_is_asked(wrapper, recorder):
    wrapper.errors_occurred = True
    assert wrapper.is_usable() is True
    assert recorder.statements == 1


def test_a_closed_connection_is_not_usable(wrapper, recorder):
    wrapper.connection.close()
    assert wrapper.is_usable() is False
    assert recorder.statements == 0


TIMESTAMPS = [
    "2030-03-04 09:00:00+00",
    "2030-03-31 01:30:00.000001+00",  # microseconds; a night the clocks change in Europe
    "2029-10-28 02:59:59.999999+02",  # another offset, read back in UTC
    "0001-01-01 00:00:00+00",
    "9999-12-31 23:59:59.999999+00",
]


def _select(values: list[str]) -> str:
    return "SELECT " + ", ".join(f"'{value}'::timestamptz" for value in values) + ", NULL::timestamptz"


def _expected(values: list[str]) -> tuple:
    return (*(dt.datetime.fromisoformat(value).astimezone(dt.UTC) for value in values), None)


def test_timestamps_are_read_by_psycopgs_own_loader_as_utc_datetimes(wrapper):
    with wrapper.cursor() as cursor:
        cursor.execute(_select(TIMESTAMPS))
        row = cursor.fetchone()
        loader = cursor.cursor.adapters.get_loader(TIMESTAMPTZ_OID, Format.TEXT)(TIMESTAMPTZ_OID, cursor.cursor)
    assert row == _expected(TIMESTAMPS)
    assert all(value.tzinfo is dt.UTC for value in row[:-1])
    assert isinstance(loader, UtcTimestamptzLoader)
    assert type(loader.load.__self__) is adapters.get_loader(TIMESTAMPTZ_OID, Format.TEXT)  # no Python per value


def test_timestamps_read_in_a_session_set_to_another_zone_are_still_utc(wrapper):
    with wrapper.cursor() as cursor:
        cursor.execute("SET TIME ZONE 'Europe/Paris'")
    with wrapper.cursor() as cursor:
        cursor.execute(_select(TIMESTAMPS[:-1]))  # 9999-12-31 23:59 UTC is year 10000 in Paris: no Python datetime
        row = cursor.fetchone()
    assert row == _expected(TIMESTAMPS[:-1])
    assert all(value.tzinfo is dt.UTC for value in row[:-1])
