"""Real time across two uvicorn servers sharing one PostgreSQL and one Redis (pub/sub channel layer).

A patient's socket on server A gets, within 2 s, the message a doctor posts through server B and the
notification of a booking made through B. When A is stopped (SIGTERM) the socket is closed with 1012;
the patient reconnects to B and `?after=` returns exactly the messages posted meanwhile.
"""

import contextlib
import datetime as dt
import json
import secrets
import time
from collections.abc import Iterator

import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection, connect

from tests.system import servers

pytestmark = [pytest.mark.postgres, pytest.mark.timeout(120)]

DELIVERY_SLA = 2.0
# The system tests' Redis server (SYSTEM_REDIS_URL), database 13 (the pushes go through pub/sub, which
# ignores database numbers: the channel prefix below is what keeps runs apart).
REDIS_URL = servers.REDIS_URL.rsplit("/", 1)[0] + "/13"


@pytest.fixture(scope="module")
def seeded(database_url) -> dict:
    return servers.run_seed(database_url, {"patients": 1, "appointment": True})


@pytest.fixture(scope="module")
def pair(database_url, seeded, log_dir):
    env = servers.base_env(
        database_url,
        REDIS_URL=REDIS_URL,
        # Redis pub/sub is global to the Redis server: a run of its own, whatever else shares it.
        CHANNEL_LAYER_PREFIX=f"systest-{secrets.token_hex(4)}",
        THROTTLE_USER="none",
        THROTTLE_MESSAGING="none",
    )
    started: list[servers.Server] = []
    try:
        for _ in range(2):
            started.append(servers.start_uvicorn(env, log_dir))
        yield started
    finally:
        for server in started:
            server.stop()


@contextlib.contextmanager
def open_socket(server: servers.Server, access: str) -> Iterator[ClientConnection]:
    with connect(
        f"ws://127.0.0.1:{server.port}/ws/v1/",
        subprotocols=["cybermed.v1", f"cybermed.bearer.{access}"],
        open_timeout=10,
        close_timeout=2,
    ) as ws:
        assert ws.subprotocol == "cybermed.v1"
        assert json.loads(ws.recv(timeout=5))["type"] == "hello"
        yield ws


def wait_for(ws: ClientConnection, kind: str, timeout: float = DELIVERY_SLA) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        frame = json.loads(ws.recv(timeout=max(0.0, deadline - time.monotonic())))
        if frame["type"] == kind:
            return frame


def drain(ws: ClientConnection) -> None:
    """Read until the server closes the socket (raises ConnectionClosed) or 10 s pass (TimeoutError)."""
    deadline = time.monotonic() + 10
    while True:
        ws.recv(timeout=max(0.0, deadline - time.monotonic()))


def bearer(user: dict) -> dict[str, str]:
    return {"Authorization": f"Bearer {user['access']}"}


def test_pushes_cross_servers_and_a_restart_loses_nothing(seeded, pair):
    a, b = pair
    patient, doctor = seeded["patients"][0], seeded["doctor"]
    timings: dict[str, float] = {}
    with open_socket(a, patient["access"]) as ws:
        thread = b.post("/api/threads/", json={"patient": patient["id"]}, headers=bearer(doctor))
        assert thread.status_code == 201, thread.text
        url = f"/api/threads/{thread.json()['id']}/messages/"

        # A message posted through B reaches the socket on A.
        started = time.monotonic()
        posted = b.post(url, json={"body": "Your results are in."}, headers=bearer(doctor))
        assert posted.status_code == 201, posted.text
        frame = wait_for(ws, "message.created")
        timings["message"] = time.monotonic() - started
        assert frame["data"]["message"]["id"] == posted.json()["id"]
        last_seen = frame["data"]["message"]["id"]

        # So does the notification of a booking the doctor makes through B.
        start = dt.datetime.fromisoformat(seeded["slot"])
        started = time.monotonic()
        booked = b.post(
            "/api/appointments/",
            json={"patient": patient["id"], "start": start.isoformat(), "reason_for_visit": "follow-up"},
            headers=bearer(doctor),
        )
        assert booked.status_code == 201, booked.text
        note = wait_for(ws, "notification.created")
        timings["notification"] = time.monotonic() - started
        assert note["data"]["notification"]["appointment"] == booked.json()["id"]

        # A stops: its sockets are told to come back elsewhere (1012), and messages keep coming through B.
        started = time.monotonic()
        a.stop()
        with pytest.raises(ConnectionClosed) as closed:
            drain(ws)
        timings["close_after_sigterm"] = time.monotonic() - started
        assert closed.value.rcvd is not None
        assert closed.value.rcvd.code == 1012
        missed = [b.post(url, json={"body": f"missed {i}"}, headers=bearer(doctor)).json()["id"] for i in range(3)]

    started = time.monotonic()
    with open_socket(b, patient["access"]) as ws:
        caught_up = b.get(url, params={"after": last_seen}, headers=bearer(patient)).json()
        timings["reconnect_and_catch_up"] = time.monotonic() - started
        assert [m["id"] for m in caught_up["results"]] == missed
        assert caught_up["next"] is None
        # And the new socket on B is live.
        live = b.post(url, json={"body": "welcome back"}, headers=bearer(doctor)).json()["id"]
        assert wait_for(ws, "message.created")["data"]["message"]["id"] == live
    print("realtime system test timings (s):", {k: round(v, 3) for k, v in timings.items()})
    assert timings["message"] < DELIVERY_SLA
    assert timings["notification"] < DELIVERY_SLA
