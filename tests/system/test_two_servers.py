"""Two gunicorn servers on one PostgreSQL database and one Redis behave like one service."""

import datetime as dt
import secrets

import psycopg
import pytest

from cybermed.testing import run_together
from tests.system import servers

pytestmark = [pytest.mark.postgres, pytest.mark.timeout(240)]

PATIENTS = 20
LIMIT = 3


@pytest.fixture(scope="module")
def seeded(database_url) -> dict:
    return servers.run_seed(database_url, {"patients": PATIENTS + 2})  # two spares for the later tests


@pytest.fixture(scope="module")
def pair(database_url, seeded, log_dir):
    # Behind one (pretend) proxy, so each test can be its own client by its X-Forwarded-For address: throttle
    # counts in the shared Redis then never mix with another test or another run.
    env = servers.base_env(
        database_url, THROTTLE_LOGIN="6/min", MAX_ACTIVE_APPOINTMENTS_PER_PATIENT=str(LIMIT), NUM_PROXIES="1"
    )
    started: list[servers.Server] = []
    try:
        for _ in range(2):
            started.append(servers.start_gunicorn(env, log_dir, workers=3))
        yield started
    finally:
        for server in started:
            server.stop()


def client_ip() -> dict[str, str]:
    return {"X-Forwarded-For": "10." + ".".join(str(secrets.randbelow(250) + 1) for _ in range(3))}


def test_twenty_concurrent_bookings_of_one_slot_across_two_servers_yield_one_appointment(database_url, seeded, pair):
    def book(i: int):
        return lambda: pair[i % 2].post(
            "/api/appointments/",
            json={"doctor": seeded["doctor"]["id"], "start": seeded["slot"], "reason_for_visit": "race"},
            headers={"Authorization": f"Bearer {seeded['patients'][i]['access']}"},
            timeout=60,
        )

    responses = run_together([book(i) for i in range(PATIENTS)])

    statuses = sorted(r.status_code for r in responses)
    assert statuses == [201] + [409] * (PATIENTS - 1), [(r.status_code, r.text[:200]) for r in responses]
    assert {r.json()["code"] for r in responses if r.status_code == 409} == {"slot_unavailable"}
    with psycopg.connect(database_url, connect_timeout=5) as conn:
        (active,) = conn.execute(
            "SELECT count(*) FROM appointments_appointment WHERE doctor_id = %s AND status IN ('pending', 'confirmed')",
            [seeded["doctor"]["id"]],
        ).fetchone()
    assert active == 1


def test_login_throttle_counts_attempts_made_on_both_servers_together(seeded, pair):
    a, b = pair
    me = client_ip()
    credentials = {"email": seeded["patients"][0]["email"], "password": seeded["password"]}
    allowed = [s.post("/api/auth/login/", json=credentials, headers=me).status_code for s in (a, a, a, b, b, b)]
    assert allowed == [200] * 6

    seventh = a.post("/api/auth/login/", json=credentials, headers=me)
    assert seventh.status_code == 429
    assert int(seventh.headers["Retry-After"]) > 0
    assert b.post("/api/auth/login/", json=credentials, headers=me).status_code == 429
    assert a.post("/api/auth/login/", json=credentials, headers=client_ip()).status_code == 200  # someone else


def test_one_patient_racing_bookings_on_both_servers_stops_at_booking_limit(database_url, seeded, pair):
    patient = seeded["patients"][PATIENTS]
    first = dt.datetime.fromisoformat(seeded["slot"]) + dt.timedelta(days=2)
    starts = [(first + dt.timedelta(hours=i)).isoformat() for i in range(8)]
    headers = {"Authorization": f"Bearer {patient['access']}"}
    body = {"doctor": seeded["doctor"]["id"], "reason_for_visit": "hoarding"}
    responses = run_together(
        [
            lambda i=i: pair[i % 2].post("/api/appointments/", json={**body, "start": starts[i]}, headers=headers)
            for i in range(len(starts))
        ]
    )
    codes = sorted((r.status_code, r.json().get("code", "")) for r in responses)
    assert codes == [(201, "")] * LIMIT + [(409, "booking_limit")] * (len(starts) - LIMIT)
    with psycopg.connect(database_url, connect_timeout=5) as conn:
        (active,) = conn.execute(
            "SELECT count(*) FROM appointments_appointment"
            " WHERE patient_id = %s AND status IN ('pending', 'confirmed')",
            [patient["id"]],
        ).fetchone()
    assert active == LIMIT


def test_one_refresh_token_replayed_at_once_on_both_servers_rotates_exactly_once(seeded, pair):
    patient = seeded["patients"][PATIENTS + 1]
    credentials = {"email": patient["email"], "password": seeded["password"]}
    login = pair[0].post("/api/auth/login/", json=credentials, headers=client_ip())
    assert login.status_code == 200
    refresh = login.json()["refresh"]
    responses = run_together(
        [lambda i=i: pair[i % 2].post("/api/auth/login/refresh/", json={"refresh": refresh}) for i in range(10)]
    )
    assert sorted(r.status_code for r in responses) == [200] + [401] * 9
