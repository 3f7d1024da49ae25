"""The figures statement on a second connection (PostgreSQL outside a transaction): same figures, own thread.

The reference comparison (test_against_reference.py) runs inside each test's transaction, where the statements
run one after the other on the test's connection; here the clinic is committed, so `in_parallel()` takes the
second connection, and the figures must still equal the straightforward computation.
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
def figures_calls(monkeypatch) -> list[dict]:
    """Where each figures() statement ran: its thread, and its connection (kept to check that it was closed)."""
    calls: list[dict] = []
    real = queries.figures

    def figures(frame: queries.Frame) -> list[tuple]:
        rows = real(frame)
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

    monkeypatch.setattr(queries, "figures", figures)
    return calls


def _setting(name: str) -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_setting(%s)", [name])
        return cursor.fetchone()[0]


def test_figures_on_a_second_connection_match_the_reference(figures_calls):
    clinic = _clinic(3)
    doctors = clinic["doctors"]
    period = Period(FIRST, LAST, ZoneInfo("Europe/Berlin"))
    scopes = [Scope(), Scope(specialty_id=clinic["specialty"]), Scope(doctor_id=doctors[2].pk)]
    for scope in scopes:
        assert selectors.summary(scope=scope, period=period) == reference.summary(scope=scope, period=period)
        assert selectors.per_doctor(scope=scope, period=period) == reference.per_doctor(scope=scope, period=period)
        for bucket in ("day", "week"):
            got = selectors.timeseries(scope=scope, period=period, bucket=bucket)
            assert got == reference.timeseries(scope=scope, period=period, bucket=bucket)
    assert len(figures_calls) == 12
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        own = cursor.fetchone()[0]
    for call in figures_calls:
        assert call["thread"] != threading.get_ident()
        assert call["backend"] != own
        assert call["jit"] == "off"  # the report's settings on that connection too
        assert call["connection"].connection is None  # closed once the statement was read


def test_inside_a_transaction_the_figures_run_on_the_callers_connection(figures_calls):
    clinic = _clinic(4)
    period = Period(FIRST, LAST, ZoneInfo("UTC"))
    with transaction.atomic():
        got = selectors.summary(scope=Scope(), period=period)
    assert got == reference.summary(scope=Scope(), period=period)
    assert got["appointments"] > 0
    assert clinic["doctors"]
    assert [call["thread"] for call in figures_calls] == [threading.get_ident()]


def test_an_error_in_the_second_connections_statement_reaches_the_caller(monkeypatch, figures_calls):
    _clinic(1)
    before = _setting("jit"), _setting("work_mem")

    def broken(frame: queries.Frame) -> list[tuple]:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1 / 0")
        return []

    monkeypatch.setattr(queries, "figures", broken)
    with pytest.raises(Exception, match="division by zero"):
        selectors.summary(scope=Scope(), period=Period(FIRST, LAST, ZoneInfo("UTC")))
    # The request's connection is left as it was: its settings put back.
    assert (_setting("jit"), _setting("work_mem")) == before
