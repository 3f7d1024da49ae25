"""Celery worker and beat for real, against Redis and against RabbitMQ (one run of each test per broker).

- a booking made through the API (gunicorn) is emailed by the worker (file email backend);
- two beats firing the reminder job every second send each reminder once;
- a worker killed with SIGKILL in the middle of an email task neither loses nor duplicates the email: the
  test holds a row lock on the notifications so the task stops inside its transaction, kills the worker's
  whole process group, and a second worker gets the unacknowledged message again.

Each test gets its own queue (CELERY_QUEUE_PREFIX), deleted afterwards; Redis uses db 12 unless
SYSTEM_CELERY_REDIS_URL says otherwise, RabbitMQ SYSTEM_AMQP_URL (guest/guest on 127.0.0.1 by default).
"""

import contextlib
import os
import re
import secrets
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import psycopg
import pytest

from tests.system import servers

pytestmark = [pytest.mark.postgres, pytest.mark.timeout(120)]

BROKERS = {
    "redis": os.environ.get("SYSTEM_CELERY_REDIS_URL", "redis://127.0.0.1:6379/12"),
    "rabbitmq": os.environ.get("SYSTEM_AMQP_URL", "amqp://guest:guest@127.0.0.1:5672//"),
}


def wait_for(predicate: Callable[[], object], timeout: float, what: str, logs: Callable[[], str] = str) -> object:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.2)
    raise TimeoutError(f"{what}: not within {timeout}s\n{logs()}")


def broker_reachable(url: str) -> bool:
    from kombu import Connection

    try:
        with Connection(url, connect_timeout=2) as connection:
            connection.ensure_connection(max_retries=1)
    except Exception:  # noqa: BLE001 (any failure means: not reachable)
        return False
    return True


def flush_if_redis(url: str) -> None:
    """Empty our Redis database (db 12 is this suite's): unacknowledged leftovers of an earlier run would
    otherwise be restored before, and slow down, the redelivery the kill test waits for."""
    if url.startswith("redis://"):
        import redis

        redis.Redis.from_url(url, socket_timeout=5).flushdb()


@pytest.fixture(scope="module", params=sorted(BROKERS))
def broker(request) -> Iterator[str]:
    url = BROKERS[request.param]
    if not broker_reachable(url):
        pytest.skip(f"needs {request.param} at {url}")
    flush_if_redis(url)
    yield url
    flush_if_redis(url)


@pytest.fixture
def run(database_url, broker, tmp_path) -> Iterator[dict]:
    """Environment, email folder and a starter for servers, workers and beats; everything is stopped after.

    Each test has its own queue (CELERY_QUEUE_PREFIX), deleted afterwards, so that nothing left queued by one
    test (a beat's last ticks) reaches the next."""
    url = broker
    prefix = f"systest-{secrets.token_hex(4)}."
    outbox = tmp_path / "outbox"
    outbox.mkdir()
    env = servers.base_env(
        database_url,
        THROTTLE_USER="none",
        THROTTLE_ANON="none",
        TASKS_BACKEND="cybermed.celery_backend.CeleryBackend",
        CELERY_BROKER_URL=url,
        CELERY_QUEUE_PREFIX=prefix,
        CELERY_VISIBILITY_TIMEOUT="2",
        EMAIL_BACKEND="django.core.mail.backends.filebased.EmailBackend",
        EMAIL_FILE_PATH=str(outbox),
        REMINDERS_EVERY_SECONDS="1",
        LOG_LEVEL="INFO",
    )
    started: list = []

    def worker(**extra_env: str) -> servers.CeleryProcess:
        process = servers.start_celery("worker", {**env, **extra_env}, tmp_path)
        started.append(process)
        return process

    def beat() -> servers.CeleryProcess:
        process = servers.start_celery("beat", env, tmp_path)
        started.append(process)
        return process

    def gunicorn() -> servers.Server:
        server = servers.start_gunicorn(env, tmp_path, workers=1)
        started.append(server)
        return server

    def logs() -> str:
        return "\n".join(f"--- {p.log_path.name}\n{p.log()[-3000:]}" for p in started)

    try:
        yield {"env": env, "outbox": outbox, "worker": worker, "beat": beat, "gunicorn": gunicorn, "logs": logs}
    finally:
        for process in reversed(started):
            process.stop()
        from kombu import Connection, Queue

        with Connection(url, connect_timeout=5) as connection, contextlib.suppress(Exception):
            Queue(f"{prefix}default").bind(connection.default_channel).delete()


def sent_emails(outbox: Path) -> list[str]:
    """The recipients of every email the file backend wrote, one entry per message."""
    return [
        match.group(1)
        for path in sorted(outbox.iterdir())
        for match in re.finditer(r"^To: (.+)$", path.read_text(errors="replace"), flags=re.MULTILINE)
    ]


def query(database_url: str, sql: str, *params: object) -> list[tuple]:
    with psycopg.connect(database_url, autocommit=True, connect_timeout=5) as conn:
        return conn.execute(sql, params).fetchall()


def book(server: servers.Server, seeded: dict) -> int:
    patient = seeded["patients"][0]
    response = server.post(
        "/api/appointments/",
        json={"doctor": seeded["doctor"]["id"], "start": seeded["slot"], "reason_for_visit": "chest pain"},
        headers={"Authorization": f"Bearer {patient['access']}"},
    )
    assert response.status_code == 201, response.text
    return response.json()["id"]


def notifications_of(database_url: str, appointment_id: int) -> list[tuple]:
    return query(
        database_url,
        "SELECT n.id, u.email, n.emailed_at FROM notifications_notification n JOIN users_user u ON u.id = n.user_id"
        " WHERE n.appointment_id = %s ORDER BY n.id",
        appointment_id,
    )


def test_booking_through_the_api_is_emailed_by_the_worker(run, database_url):
    seeded = servers.run_seed(database_url, {"patients": 1, "tag": secrets.token_hex(3)})
    server = run["gunicorn"]()
    run["worker"]()

    appointment_id = book(server, seeded)

    notifications = wait_for(
        lambda: (rows := notifications_of(database_url, appointment_id)) and all(r[2] for r in rows) and rows,
        40,
        "every notification of the booking emailed",
        run["logs"],
    )
    recipients = sorted(email for _, email, _ in notifications)
    assert seeded["doctor"]["email"] in recipients
    wait_for(lambda: len(sent_emails(run["outbox"])) >= len(recipients), 10, "emails written", run["logs"])
    assert sorted(sent_emails(run["outbox"])) == recipients
    mail = "".join(path.read_text() for path in run["outbox"].iterdir())
    assert "chest pain" not in mail  # the reason for the visit never leaves in an email


def test_two_beats_firing_every_second_send_each_reminder_once(run, database_url):
    seeded = servers.run_seed(database_url, {"patients": 1, "confirmed_soon": True, "tag": secrets.token_hex(3)})
    appointment_id = seeded["confirmed_soon"]
    run["worker"]()
    beats = [run["beat"](), run["beat"]()]

    def reminders() -> list[tuple]:
        return query(
            database_url, "SELECT user_id FROM notifications_remindersent WHERE appointment_id = %s", appointment_id
        )

    wait_for(lambda: len(reminders()) == 2, 40, "both reminders recorded", run["logs"])
    # Let both beats fire the job a few more times, then stop them and let the worker drain.
    wait_for(
        lambda: all(b.log().count("Sending due task send-reminders") >= 3 for b in beats),
        20,
        "beats firing",
        run["logs"],
    )
    for beat in beats:
        beat.stop()
    wait_for(lambda: len(sent_emails(run["outbox"])) >= 2, 20, "reminder emails written", run["logs"])
    time.sleep(1)  # anything still queued from the last ticks runs now

    assert len(reminders()) == 2
    reminder_rows = query(
        database_url,
        "SELECT user_id FROM notifications_notification WHERE appointment_id = %s AND kind = 'reminder'",
        appointment_id,
    )
    assert len(reminder_rows) == 2
    assert sorted(sent_emails(run["outbox"])) == sorted([seeded["doctor"]["email"], seeded["patients"][0]["email"]])


def test_worker_killed_mid_email_neither_loses_nor_duplicates_it(run, database_url):
    seeded = servers.run_seed(database_url, {"patients": 1, "tag": secrets.token_hex(3)})
    server = run["gunicorn"]()
    appointment_id = book(server, seeded)  # no worker yet: the email tasks wait in the broker
    notifications = notifications_of(database_url, appointment_id)
    assert notifications
    assert not any(emailed for _, _, emailed in notifications)

    with (
        psycopg.connect(database_url, connect_timeout=5) as blocker,
        psycopg.connect(database_url, autocommit=True, connect_timeout=5) as observer,
    ):
        ids = [n[0] for n in notifications]
        blocker.execute("SELECT id FROM notifications_notification WHERE id = ANY(%s) FOR UPDATE", (ids,))
        first = run["worker"]()

        def task_waits_on_the_row_lock() -> bool:
            return bool(
                observer.execute(
                    "SELECT 1 FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"
                    # The query text is cut at 1 kB, before its FOR UPDATE: the lock wait is what tells.
                    ' AND query LIKE \'SELECT "notifications_notification"."id"%%\''
                ).fetchall()
            )

        def activity() -> str:
            rows = observer.execute(
                "SELECT wait_event_type, wait_event, state, left(query, 300) FROM pg_stat_activity"
                " WHERE datname = current_database()"
            ).fetchall()
            return "\n".join(map(str, rows)) + "\n" + run["logs"]()

        wait_for(task_waits_on_the_row_lock, 40, "the email task blocked inside its transaction", activity)
        first.kill()
        blocker.rollback()

    assert sent_emails(run["outbox"]) == []
    run["worker"]()
    wait_for(
        lambda: all(row[2] for row in notifications_of(database_url, appointment_id)),
        40,
        "every email sent after the redelivery",
        run["logs"],
    )
    wait_for(lambda: len(sent_emails(run["outbox"])) >= len(notifications), 10, "emails written", run["logs"])
    time.sleep(1)
    assert sorted(sent_emails(run["outbox"])) == sorted(email for _, email, _ in notifications)
