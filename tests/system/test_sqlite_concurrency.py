"""gunicorn (3 workers x 4 threads) on a SQLite file named by DATABASE_URL takes concurrent writers without a 5xx.

Every phase sends its requests from many threads released together by a barrier, so writers from different
processes meet on the one database file: without the busy timeout they fail with "database is locked" (503),
and without BEGIN IMMEDIATE the check-then-insert of a booking is not serialized. No Redis: throttles are off.
"""

import datetime as dt
import re
import sqlite3
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import requests

from cybermed import throttle_rates
from tests.system import servers

pytestmark = pytest.mark.timeout(180)

WORKERS, THREADS = 3, 4
SIGNUPS = 24
LIMIT = 10
PASSWORD = "Sqlite-Concurrency-Pass-42!"
MESSAGE = re.compile(r"^To: (?P<to>\S+)$.*?^uid: (?P<uid>\S+)$.*?^token: (?P<token>\S+)$", re.M | re.S)


@pytest.fixture(scope="module")
def mail_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("mail")


@pytest.fixture(scope="module")
def seeded(sqlite_url) -> dict:
    return servers.run_seed(sqlite_url, {"patients": 1}, REDIS_URL="")


@pytest.fixture(scope="module")
def server(sqlite_url, seeded, mail_dir, log_dir):
    env = servers.base_env(
        sqlite_url,
        REDIS_URL="",
        EMAIL_BACKEND="django.core.mail.backends.filebased.EmailBackend",
        EMAIL_FILE_PATH=str(mail_dir),
        MAX_ACTIVE_APPOINTMENTS_PER_PATIENT=str(LIMIT),
        **throttle_rates.all_off(),
    )
    started = servers.start_gunicorn(env, log_dir, workers=WORKERS, threads=THREADS)
    yield started
    started.stop()


def all_at_once(count: int, call: Callable[[int], requests.Response]) -> list[requests.Response]:
    """`call(i)` for i in range(count) from `count` threads released together."""
    barrier = threading.Barrier(count)

    def run(i: int) -> requests.Response:
        barrier.wait(timeout=30)
        return call(i)

    with ThreadPoolExecutor(count) as pool:
        return list(pool.map(run, range(count)))


def post(server: servers.Server, path: str, **kwargs) -> requests.Response:
    # A connection per request (no shared Session, which is not thread-safe and pools only 10).
    return requests.post(server.url + path, timeout=60, **kwargs)


def summary(responses: list[requests.Response], server: servers.Server) -> tuple[list[tuple[int, str]], str]:
    """What went wrong, for an assertion message: the statuses with the start of each body, and the server's log."""
    return [(r.status_code, r.text[:160]) for r in responses if r.status_code >= 300], server.log()[-3000:]


def bearer(access: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {access}"}


def activation_links(mail_dir: Path) -> dict[str, tuple[str, str]]:
    """Recipient -> (uid, token) from every activation email the server wrote."""
    found = {}
    for path in mail_dir.iterdir():
        for match in MESSAGE.finditer(path.read_text()):
            found[match["to"]] = (match["uid"], match["token"])
    return found


def active_appointments(sqlite_url: str, **where: int | str) -> int:
    clauses = " AND ".join(f"{column} = ?" for column in where)
    with sqlite3.connect(urlsplit(sqlite_url).path, timeout=20) as conn:
        (count,) = conn.execute(
            f"SELECT count(*) FROM appointments_appointment WHERE status IN ('pending', 'confirmed') AND {clauses}",
            list(where.values()),
        ).fetchone()
    return count


def test_database_url_sqlite_runs_in_wal_mode(sqlite_url, server):
    with sqlite3.connect(urlsplit(sqlite_url).path, timeout=20) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone() == ("wal",)


@pytest.fixture(scope="module")
def signups(server, mail_dir) -> dict[str, list[requests.Response]]:
    """SIGNUPS patients sign up, activate from their emails, log in and refresh, each phase all at once."""
    emails = [f"racer{i}@example.com" for i in range(SIGNUPS)]

    def register(i: int) -> requests.Response:
        body = {"email": emails[i], "password": PASSWORD, "first_name": "Race", "last_name": str(i), "role": "patient"}
        return post(server, "/api/auth/register/", json=body)

    phases = {"register": all_at_once(SIGNUPS, register)}
    links = activation_links(mail_dir)
    phases["activate"] = all_at_once(
        SIGNUPS,
        lambda i: post(
            server, "/api/auth/activate/", json=dict(zip(("uid", "token"), links.get(emails[i], ("", "")), strict=True))
        ),
    )
    phases["login"] = all_at_once(
        SIGNUPS, lambda i: post(server, "/api/auth/login/", json={"email": emails[i], "password": PASSWORD})
    )
    refreshes = [r.json().get("refresh", "") for r in phases["login"]]
    phases["refresh"] = all_at_once(
        SIGNUPS, lambda i: post(server, "/api/auth/login/refresh/", json={"refresh": refreshes[i]})
    )
    return phases


def test_concurrent_signups_activations_logins_and_refreshes_all_succeed(server, signups):
    expected = {"register": 201, "activate": 204, "login": 200, "refresh": 200}
    for phase, status in expected.items():
        assert [r.status_code for r in signups[phase]] == [status] * SIGNUPS, (phase, summary(signups[phase], server))


def test_patients_racing_for_one_slot_while_the_doctor_adds_time_off_yield_one_booking(
    server, sqlite_url, seeded, signups
):
    racers = [r.json().get("access", "") for r in signups["refresh"]]  # the accounts made over HTTP
    doctor = seeded["doctor"]
    slot = dt.datetime.fromisoformat(seeded["slot"])
    time_off = 4  # the doctor's concurrent writes, on days after the slot's

    def act(i: int) -> requests.Response:
        if i < len(racers):
            body = {"doctor": doctor["id"], "start": seeded["slot"], "reason_for_visit": "race"}
            return post(server, "/api/appointments/", json=body, headers=bearer(racers[i]))
        day = slot + dt.timedelta(days=2 + i - len(racers))
        body = {"start": day.isoformat(), "end": (day + dt.timedelta(hours=2)).isoformat(), "reason": "away"}
        return post(server, "/api/time-off/", json=body, headers=bearer(doctor["access"]))

    responses = all_at_once(len(racers) + time_off, act)
    bookings, absences = responses[: len(racers)], responses[len(racers) :]
    assert sorted(r.status_code for r in bookings) == [201] + [409] * (len(racers) - 1), summary(bookings, server)
    assert {r.json()["code"] for r in bookings if r.status_code == 409} == {"slot_unavailable"}
    assert [r.status_code for r in absences] == [201] * time_off, summary(absences, server)
    assert active_appointments(sqlite_url, doctor_id=doctor["id"], start=slot.strftime("%Y-%m-%d %H:%M:%S")) == 1


def test_one_patient_racing_self_bookings_stops_at_the_booking_limit(server, sqlite_url, seeded):
    patient = seeded["patients"][0]
    # Every start on its own slot after the raced one, so only the limit can refuse a booking.
    first = dt.datetime.fromisoformat(seeded["slot"]) + dt.timedelta(minutes=30)
    starts = [(first + dt.timedelta(minutes=30 * i)).isoformat() for i in range(LIMIT + 2)]

    def book(i: int) -> requests.Response:
        body = {"doctor": seeded["doctor"]["id"], "start": starts[i], "reason_for_visit": "hoard"}
        return post(server, "/api/appointments/", json=body, headers=bearer(patient["access"]))

    responses = all_at_once(len(starts), book)
    outcomes = sorted((r.status_code, r.json().get("code", "")) for r in responses)
    assert outcomes == [(201, "")] * LIMIT + [(409, "booking_limit")] * 2, summary(responses, server)
    assert active_appointments(sqlite_url, patient_id=patient["id"]) == LIMIT
