"""The booked statement on a second connection (PostgreSQL outside a transaction): same figures, own thread.

The reference comparison (test_against_reference.py) runs inside each test's transaction, where the statements
run one after the other on the test's connection; here the clinic is committed, so `in_parallel()` takes the
second connection for `booked()`, and the figures must still equal the straightforward computation.
"""

import threading
from zoneinfo import ZoneInfo

import pytest
from django.db import connection, connections, transaction

from reports import queries, selectors
from reports.selectors import Period, Scope
from reports.tests import reference
from reports.tests.test_against_reference import FIRST, LAST, _clinic

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def booked_calls(monkeypatch) -> list[dict]:
    """Where each booked() statement ran: its thread, and its connection (kept to check that it was closed)."""
    calls: list[dict] = []
    real = queries.booked

    def booked(*args: object) -> list[tuple]:
        rows = real(*args)
        wrapper = connections["default"]  # this thread's
        calls.append(
            {
                "thread": threading.get_ident(),
                "connection": wrapper,
                "backend": wrapper.connection.info.backend_pid,
                "jit": _setting("jit"),
            }
        )
        return rows

    monkeypatch.setattr(queries, "booked", booked)
    return calls


def _setting(name: str) -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_setting(%s)", [name])
        return cursor.fetchone()[0]


def test_booked_time_on_a_second_connection_matches_the_reference(booked_calls):
    clinic = _clinic(3)
    period = Period(FIRST, LAST, ZoneInfo("Europe/Berlin"))
    scopes = [Scope(), Scope(specialty_id=clinic["specialty"])]
    for scope in scopes:
        assert selectors.summary(scope=scope, period=period) == reference.summary(scope=scope, period=period)
        assert selectors.per_doctor(scope=scope, period=period) == reference.per_doctor(scope=scope, period=period)
        for bucket in ("day", "week"):
            got = selectors.timeseries(scope=scope, period=period, bucket=bucket)
            assert got == reference.timeseries(scope=scope, period=period, bucket=bucket)
    assert len(booked_calls) == 8
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        own = cursor.fetchone()[0]
    for call in booked_calls:
        assert call["thread"] != threading.get_ident()
        assert call["backend"] != own
        assert call["jit"] == "off"  # the report's settings on that connection too
        assert call["connection"].connection is None  # closed once the statement was read


def test_one_doctors_booked_time_runs_on_the_callers_connection(booked_calls):
    clinic = _clinic(2)
    doctor = clinic["doctors"][2]
    period = Period(FIRST, LAST, doctor.doctor_profile.zone)
    scope = Scope(doctor_id=doctor.pk)
    got = selectors.timeseries(scope=scope, period=period, bucket="day")
    assert got == reference.timeseries(scope=scope, period=period, bucket="day")
    assert sum(row["booked_minutes"] for row in got) > 0
    assert [call["thread"] for call in booked_calls] == [threading.get_ident()]


def test_inside_a_transaction_booked_time_runs_on_the_callers_connection(booked_calls):
    clinic = _clinic(4)
    period = Period(FIRST, LAST, ZoneInfo("UTC"))
    with transaction.atomic():
        got = selectors.summary(scope=Scope(), period=period)
    assert got == reference.summary(scope=Scope(), period=period)
    assert got["appointments"] > 0
    assert clinic["doctors"]
    assert [call["thread"] for call in booked_calls] == [threading.get_ident()]


def test_an_error_in_the_second_connections_statement_reaches_the_caller(monkeypatch, booked_calls):
    _clinic(1)
    before = _setting("jit"), _setting("work_mem")

    def broken(*args: object) -> list[tuple]:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1 / 0")
        return []

    monkeypatch.setattr(queries, "booked", broken)
    with pytest.raises(Exception, match="division by zero"):
        selectors.summary(scope=Scope(), period=Period(FIRST, LAST, ZoneInfo("UTC")))
    # The request's connection is left as it was: its settings put back.
    assert (_setting("jit"), _setting("work_mem")) == before
