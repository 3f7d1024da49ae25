"""The socket, end to end through the project's ASGI application (channels' WebsocketCommunicator).

`transaction=True`: the consumer's handshake and the services run in other threads, which must see
the rows the test wrote.
"""

import asyncio
import datetime as dt
import json

import pytest
import pytest_asyncio
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.db import connections
from django.test import override_settings
from rest_framework_simplejwt.tokens import AccessToken, RefreshToken

from appointments.models import AvailabilityRule
from appointments.services import appointment_book
from appointments.tests.factories import AppointmentFactory, next_slot
from cybermed.asgi import application
from messaging import services
from messaging.tests.factories import ThreadFactory
from users.tests.factories import DoctorFactory, PatientFactory

pytestmark = [pytest.mark.asyncio, pytest.mark.django_db(transaction=True)]

TIMEOUT = 3


@pytest_asyncio.fixture(autouse=True)
async def _close_the_sync_threads_connection():
    """The handshake's queries run in asgiref's sync thread; its connection must not outlive the test
    (PostgreSQL cannot drop a test database someone is still connected to)."""
    yield
    await database_sync_to_async(connections.close_all)()


@pytest.fixture(autouse=True)
def _fresh_presence(monkeypatch):
    """The process-wide count of open sockets starts empty in every test (some tests leave sockets open)."""
    from cybermed import realtime

    monkeypatch.setattr(realtime, "presence", realtime.Presence())


def access(user, lifetime: dt.timedelta | None = None) -> str:
    token = AccessToken.for_user(user)
    if lifetime is not None:
        token.set_exp(lifetime=lifetime)
    return str(token)


def communicator(token: str | None = None, *, header: bool = False, origin: str | None = None, **kw):
    subprotocols = ["cybermed.v1"]
    headers = [(b"host", b"testserver")]
    if token and header:
        headers.append((b"authorization", f"Bearer {token}".encode()))
    elif token:
        subprotocols.append(f"cybermed.bearer.{token}")
    if origin:
        headers.append((b"origin", origin.encode()))
    return WebsocketCommunicator(application, kw.pop("path", "/ws/v1/"), headers=headers, subprotocols=subprotocols)


async def connected(token: str, **kw) -> WebsocketCommunicator:
    comm = communicator(token, **kw)
    ok, protocol = await comm.connect(timeout=TIMEOUT)
    assert (ok, protocol) == (True, "cybermed.v1")
    hello = await comm.receive_json_from(timeout=TIMEOUT)
    assert hello["type"] == "hello"
    return comm


async def close_code(comm: WebsocketCommunicator) -> int:
    """The code the server closed with (skipping any frames sent before)."""
    while True:
        output = await comm.receive_output(timeout=TIMEOUT)
        if output["type"] == "websocket.close":
            return output["code"]


async def next_of(comm: WebsocketCommunicator, kind: str) -> dict:
    while True:
        frame = await comm.receive_json_from(timeout=TIMEOUT)
        if frame["type"] == kind:
            return frame


make_patient = database_sync_to_async(PatientFactory)
make_doctor = database_sync_to_async(DoctorFactory)
make_thread = database_sync_to_async(ThreadFactory)


# --- Authentication -------------------------------------------------------------------------------


async def test_subprotocol_token_is_accepted_with_cybermed_v1_and_hello():
    patient = await make_patient()
    comm = communicator(access(patient))

    ok, protocol = await comm.connect(timeout=TIMEOUT)

    assert (ok, protocol) == (True, "cybermed.v1")
    assert await comm.receive_json_from(timeout=TIMEOUT) == {"type": "hello", "data": {"user_id": patient.pk}}
    await comm.disconnect()


async def test_authorization_header_is_accepted():
    doctor = await make_doctor()
    comm = await connected(access(doctor), header=True)
    await comm.send_json_to({"type": "ping"})

    assert await comm.receive_json_from(timeout=TIMEOUT) == {"type": "pong", "data": {}}
    await comm.disconnect()


async def test_missing_token_is_closed_4401():
    comm = communicator(None)
    ok, _ = await comm.connect(timeout=TIMEOUT)

    assert ok
    assert await close_code(comm) == 4401


async def test_query_string_token_is_ignored_4401():
    patient = await make_patient()
    comm = communicator(None, path=f"/ws/v1/?token={access(patient)}")
    await comm.connect(timeout=TIMEOUT)

    assert await close_code(comm) == 4401


@pytest.mark.parametrize("kind", ["garbage", "expired", "refresh_token", "wrong_key", "inactive", "deleted"])
async def test_bad_tokens_are_closed_4401(kind, settings):
    patient = await make_patient()
    make_token = {
        "garbage": lambda: "not.a.jwt",
        "expired": lambda: access(patient, lifetime=-dt.timedelta(seconds=1)),
        # A refresh token (revocable, blacklisted on logout) is never an access token.
        "refresh_token": lambda: str(RefreshToken.for_user(patient)),
        "wrong_key": lambda: str(AccessToken.for_user(patient)).rsplit(".", 1)[0] + ".c2lnbmF0dXJl",
        "inactive": lambda: access(patient),
        "deleted": lambda: access(patient),
    }[kind]
    token = await database_sync_to_async(make_token)()
    if kind == "inactive":
        patient.is_active = False
        await database_sync_to_async(patient.save)()
    if kind == "deleted":
        await database_sync_to_async(patient.delete)()
    comm = communicator(token)
    await comm.connect(timeout=TIMEOUT)

    assert await close_code(comm) == 4401


# JWT expiry is in whole seconds, so a token "valid for 2 s" has 1-2 s left: always enough for the
# handshake and a refresh on a loaded machine, where 1 s could leave almost nothing.
SHORT_LIFETIME = dt.timedelta(seconds=2)


async def test_socket_closes_4401_when_token_expires():
    patient = await make_patient()
    comm = await connected(access(patient, lifetime=SHORT_LIFETIME))

    assert await close_code(comm) == 4401


async def test_refresh_in_time_keeps_the_socket_open():
    patient = await make_patient()
    comm = await connected(access(patient, lifetime=SHORT_LIFETIME))

    await comm.send_json_to({"type": "auth.refresh", "token": access(patient)})
    refreshed = await comm.receive_json_from(timeout=TIMEOUT)
    await asyncio.sleep(2.5)  # past the first token's expiry
    await comm.send_json_to({"type": "ping"})

    assert refreshed["type"] == "auth.refreshed"
    assert await comm.receive_json_from(timeout=TIMEOUT) == {"type": "pong", "data": {}}
    await comm.disconnect()


async def test_refresh_with_another_users_token_closes_4401():
    patient, other = await make_patient(), await make_patient()
    comm = await connected(access(patient))

    await comm.send_json_to({"type": "auth.refresh", "token": access(other)})

    assert await close_code(comm) == 4401


async def test_refresh_with_a_bad_token_closes_4401():
    patient = await make_patient()
    comm = await connected(access(patient))

    await comm.send_json_to({"type": "auth.refresh", "data": {"token": "nope"}})

    assert await close_code(comm) == 4401


# --- Origin ---------------------------------------------------------------------------------------


async def test_foreign_browser_origin_is_closed_4403():
    patient = await make_patient()
    comm = communicator(access(patient), origin="https://evil.example")
    await comm.connect(timeout=TIMEOUT)

    assert await close_code(comm) == 4403


@pytest.mark.parametrize("origin", ["https://app.example", "http://testserver"])
async def test_trusted_and_same_origins_are_accepted(origin):
    patient = await make_patient()
    with override_settings(CORS_ALLOWED_ORIGINS=["https://app.example"], ALLOWED_HOSTS=["testserver"]):
        comm = await connected(access(patient), origin=origin)
    await comm.disconnect()


# --- Abuse ----------------------------------------------------------------------------------------


async def test_ping_flood_is_closed_4429():
    patient = await make_patient()
    comm = await connected(access(patient))
    with override_settings(WS_INBOUND_BURST=5, WS_INBOUND_PER_SECOND=1):
        await comm.disconnect()
        comm = await connected(access(patient))
        for _ in range(10):
            await comm.send_json_to({"type": "ping"})
        pongs = 0
        while True:
            output = await comm.receive_output(timeout=TIMEOUT)
            if output["type"] == "websocket.close":
                break
            pongs += 1

    assert (pongs, output["code"]) == (5, 4429)


async def test_oversized_frame_is_closed_1009():
    patient = await make_patient()
    comm = await connected(access(patient))

    await comm.send_to(text_data=json.dumps({"type": "ping", "data": {"pad": "x" * 5000}}))

    assert await close_code(comm) == 1009


async def test_binary_frame_is_closed_1003():
    patient = await make_patient()
    comm = await connected(access(patient))

    await comm.send_to(bytes_data=b"\x00\x01")

    assert await close_code(comm) == 1003


@pytest.mark.parametrize("text", ["not json", "[1, 2]", '{"type": 5}', '{"type": "shout"}'])
async def test_bad_frames_get_an_error_frame_and_the_socket_stays(text):
    patient = await make_patient()
    comm = await connected(access(patient))

    await comm.send_to(text_data=text)
    error = await comm.receive_json_from(timeout=TIMEOUT)
    await comm.send_json_to({"type": "ping"})

    assert error["type"] == "error"
    assert (await comm.receive_json_from(timeout=TIMEOUT))["type"] == "pong"
    await comm.disconnect()


# --- Pushes ---------------------------------------------------------------------------------------


async def test_message_reaches_every_socket_of_both_participants():
    thread = await make_thread()
    patient_a = await connected(access(thread.patient))
    patient_b = await connected(access(thread.patient), header=True)
    doctor = await connected(access(thread.doctor))
    outsider = await connected(access(await make_patient()))

    message = await database_sync_to_async(services.message_post)(thread_id=thread.pk, sender=thread.doctor, body="hi")

    for comm in (patient_a, patient_b, doctor):
        frame = await next_of(comm, "message.created")
        assert frame["data"]["thread_id"] == thread.pk
        assert frame["data"]["message"]["id"] == message.pk
        assert frame["data"]["message"]["body"] == "hi"
    assert await outsider.receive_nothing(timeout=0.3)
    for comm in (patient_a, patient_b, doctor, outsider):
        await comm.disconnect()


async def test_read_and_retract_are_pushed():
    thread = await make_thread()
    doctor = await connected(access(thread.doctor))
    message = await database_sync_to_async(services.message_post)(thread_id=thread.pk, sender=thread.doctor, body="x")

    await database_sync_to_async(services.thread_mark_read)(thread=thread, user=thread.patient, up_to=message.pk)
    await database_sync_to_async(services.message_retract)(message=message, by=thread.doctor)

    read = await next_of(doctor, "thread.read")
    retracted = await next_of(doctor, "message.retracted")
    assert read["data"] == {"thread_id": thread.pk, "user_id": thread.patient_id, "up_to": message.pk}
    assert (retracted["data"]["message"]["status"], retracted["data"]["message"]["body"]) == ("retracted", "")
    await doctor.disconnect()


async def test_booking_pushes_notification_created_to_the_doctor():
    patient, doctor = await make_patient(), await make_doctor()

    def book() -> None:
        AvailabilityRule.objects.bulk_create(
            AvailabilityRule(doctor=doctor, weekday=d, start_time=dt.time(8), end_time=dt.time(18)) for d in range(7)
        )
        appointment_book(doctor=doctor, patient=patient, start=next_slot(days=3), by=patient)

    comm = await connected(access(doctor))
    await database_sync_to_async(book)()

    frame = await next_of(comm, "notification.created")
    assert frame["data"]["notification"]["kind"] == "appointment_created"
    assert frame["data"]["notification"]["id"]
    await comm.disconnect()


async def test_typing_is_relayed_to_the_other_participant_only_in_own_threads():
    thread, foreign = await make_thread(), await make_thread()
    patient = await connected(access(thread.patient))
    doctor = await connected(access(thread.doctor))

    await patient.send_json_to({"type": "typing", "data": {"thread_id": thread.pk}})
    relayed = await next_of(doctor, "typing")
    await patient.send_json_to({"type": "typing", "data": {"thread_id": foreign.pk}})
    refused = await patient.receive_json_from(timeout=TIMEOUT)

    assert relayed["data"] == {"thread_id": thread.pk, "user_id": thread.patient_id}
    assert refused["data"]["code"] == "not_a_thread"
    assert await doctor.receive_nothing(timeout=0.3)
    await patient.disconnect()
    await doctor.disconnect()


async def test_a_thread_opened_after_connecting_allows_typing():
    patient, doctor = await make_patient(), await make_doctor()
    await make_thread(patient=patient, doctor=doctor)  # the shared appointment comes with it
    other_doctor = await make_doctor()
    await database_sync_to_async(AppointmentFactory)(patient=patient, doctor=other_doctor, start=next_slot(days=20))
    comm = await connected(access(patient))
    other = await connected(access(other_doctor))

    thread, created = await database_sync_to_async(services.thread_open)(user=patient, counterpart=other_doctor)
    await asyncio.sleep(0.1)
    await comm.send_json_to({"type": "typing", "data": {"thread_id": thread.pk}})

    assert created
    assert (await next_of(other, "typing"))["data"]["thread_id"] == thread.pk
    await comm.disconnect()
    await other.disconnect()


async def test_connected_user_is_present_for_the_email_check():
    from cybermed import realtime

    patient = await make_patient()
    comm = await connected(access(patient))
    await asyncio.sleep(0.05)

    assert await database_sync_to_async(realtime.is_online)(patient.pk)
    await comm.disconnect()


async def test_presence_is_rewritten_in_one_batch_for_everyone_connected(monkeypatch):
    from django.core.cache import cache

    from cybermed import realtime

    monkeypatch.setattr(realtime, "PRESENCE_REFRESH_SECONDS", 0.2)
    batches = []
    write = realtime._write_presence

    async def recording_write(user_ids: list[int]) -> None:
        batches.append(sorted(user_ids))
        await write(user_ids)

    monkeypatch.setattr(realtime, "_write_presence", recording_write)
    first, second = await make_patient(), await make_patient()
    sockets = [await connected(access(first)), await connected(access(first)), await connected(access(second))]
    await asyncio.sleep(0.05)
    await database_sync_to_async(cache.delete_many)([realtime.presence_key(first.pk), realtime.presence_key(second.pk)])

    await asyncio.sleep(0.5)

    assert batches[:2] == [[first.pk], [second.pk]]  # each user's first socket, at once; not the second one
    assert sorted([first.pk, second.pk]) in batches[2:]  # then one write for everyone (not one per socket)
    assert await database_sync_to_async(realtime.is_online)(first.pk)
    assert await database_sync_to_async(realtime.is_online)(second.pk)
    for comm in sockets:
        await comm.disconnect()
    assert realtime.presence.refresher is None  # nobody left: the refresher stops
    assert not realtime.presence.sockets


async def test_a_users_presence_survives_one_of_their_sockets_closing():
    from cybermed import realtime

    patient = await make_patient()
    first, second = await connected(access(patient)), await connected(access(patient))

    await first.disconnect()

    assert realtime.presence.sockets[patient.pk] == 1
    await second.disconnect()
    assert patient.pk not in realtime.presence.sockets
