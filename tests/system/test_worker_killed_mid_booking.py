"""A gunicorn worker killed with SIGKILL in the middle of a booking leaves no half-written appointment.

The booking service inserts the Appointment, then its first StatusChange, in one transaction. The test
holds a SHARE lock on the StatusChange table, so the worker's booking stops right between the two
inserts; it then kills the worker with SIGKILL, releases the lock and checks the database.
"""

import os
import signal
import threading
import time

import psycopg
import pytest
import requests

from tests.system import servers

pytestmark = [pytest.mark.postgres, pytest.mark.timeout(180)]


def wait_for(predicate, timeout: float = 30, interval: float = 0.1):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise TimeoutError("condition not met in time")


def test_worker_killed_between_appointment_and_history_insert_leaves_no_rows(database_url, log_dir):
    seeded = servers.run_seed(database_url, {"patients": 1})
    env = servers.base_env(database_url, THROTTLE_USER="none", THROTTLE_ANON="none")
    server = servers.start_gunicorn(env, log_dir, workers=1)
    patient = seeded["patients"][0]
    booking = {"doctor": seeded["doctor"]["id"], "start": seeded["slot"], "reason_for_visit": "killed"}
    headers = {"Authorization": f"Bearer {patient['access']}"}
    try:
        (worker,) = server.worker_pids()
        with (
            psycopg.connect(database_url, connect_timeout=5) as blocker,
            psycopg.connect(database_url, autocommit=True, connect_timeout=5) as observer,
        ):
            blocker.execute("LOCK TABLE appointments_statuschange IN SHARE MODE")
            outcome: dict = {}

            def post() -> None:
                try:
                    outcome["response"] = server.post("/api/appointments/", json=booking, headers=headers, timeout=60)
                except requests.RequestException as exc:
                    outcome["error"] = exc

            client = threading.Thread(target=post, daemon=True)
            client.start()

            def stuck_backend():
                row = observer.execute(
                    "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"
                    " AND query LIKE 'INSERT INTO \"appointments_statuschange\"%%'"
                ).fetchone()
                return row and row[0]

            backend = wait_for(stuck_backend)
            # The same transaction has already written the appointment row (it holds a write lock on the table).
            (holds_appointment_write,) = observer.execute(
                "SELECT count(*) FROM pg_locks WHERE pid = %s AND relation = 'appointments_appointment'::regclass"
                " AND mode = 'RowExclusiveLock' AND granted",
                [backend],
            ).fetchone()
            assert holds_appointment_write == 1

            os.kill(worker, signal.SIGKILL)
            client.join(timeout=30)
            assert "error" in outcome or outcome["response"].status_code >= 500, outcome
            blocker.rollback()  # release the lock: the orphaned backend finishes its insert, then sees the dead client

            wait_for(
                lambda: not observer.execute("SELECT 1 FROM pg_stat_activity WHERE pid = %s", [backend]).fetchone()
            )
            counts = observer.execute(
                "SELECT (SELECT count(*) FROM appointments_appointment),"
                " (SELECT count(*) FROM appointments_statuschange)"
            ).fetchone()
            assert counts == (0, 0)

        # gunicorn replaces the worker; the slot was never held, so the same booking now succeeds.
        wait_for(lambda: server.worker_pids() and server.worker_pids() != [worker])
        servers.wait_healthy(server)
        retry = server.post("/api/appointments/", json=booking, headers=headers)
        assert retry.status_code == 201, retry.text
    finally:
        server.stop()
