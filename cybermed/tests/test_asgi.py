"""The ASGI application: HTTP through Django's WSGI handler in a2wsgi's thread pool, pushes from those
threads run on the server's event loop (cybermed/asgi.py, cybermed/realtime.py)."""

import asyncio
import json
import threading

import pytest
from channels.layers import get_channel_layer
from channels.testing import HttpCommunicator
from django.db import connections

from cybermed import realtime
from cybermed.asgi import application

pytestmark = pytest.mark.asyncio


@pytest.fixture(autouse=True)
def _no_connection_outlives_a_request(monkeypatch):
    """a2wsgi's threads outlive the test: their connections must close at the end of each request, or the
    test database cannot be dropped (production uses a pool, to which each request returns its connection)."""
    monkeypatch.setitem(connections.settings["default"], "CONN_MAX_AGE", 0)


@pytest.mark.django_db(transaction=True)
async def test_http_request_is_served_through_the_asgi_application():
    response = await HttpCommunicator(application, "GET", "/api/threads/").get_response(timeout=10)

    assert response["status"] == 401
    assert "detail" in json.loads(response["body"])
    assert (b"cache-control", b"no-store") in response["headers"]


@pytest.mark.django_db(transaction=True)
async def test_http_request_records_the_server_loop_for_pushes(monkeypatch):
    monkeypatch.setattr(realtime, "_server_loop", None)

    await HttpCommunicator(application, "GET", "/api/health/").get_response(timeout=10)

    assert realtime._server_loop == (asyncio.get_running_loop(), threading.get_ident())


async def test_push_from_a_plain_thread_runs_on_the_server_loop(monkeypatch):
    # a2wsgi's threads are not asgiref's: async_to_sync would not find the server's loop from them and would
    # start a loop of its own for every push.
    layer = get_channel_layer()
    channel = await layer.new_channel()
    await layer.group_add(realtime.user_group(7), channel)
    ran_on = []
    send = realtime._send

    async def recording_send(groups: list[str], message: dict) -> None:
        ran_on.append(asyncio.get_running_loop())
        await send(groups, message)

    monkeypatch.setattr(realtime, "_send", recording_send)
    monkeypatch.setattr(realtime, "_server_loop", None)
    realtime.serve_pushes_from(asyncio.get_running_loop())

    worker = threading.Thread(target=realtime.push, kwargs={"user_ids": [7], "event": "ping", "data": {"n": 1}})
    worker.start()
    received = await asyncio.wait_for(layer.receive(channel), 5)
    await asyncio.to_thread(worker.join)

    assert ran_on == [asyncio.get_running_loop()]
    assert json.loads(received["frame"]) == {"type": "ping", "data": {"n": 1}}


async def test_push_without_a_running_server_loop_still_goes_out(monkeypatch):
    # gunicorn, Celery and commands have no server loop: async_to_sync runs the push.
    layer = get_channel_layer()
    channel = await layer.new_channel()
    await layer.group_add(realtime.user_group(8), channel)
    stopped = asyncio.new_event_loop()
    stopped.close()
    monkeypatch.setattr(realtime, "_server_loop", (stopped, 0))

    await asyncio.to_thread(realtime.push, user_ids=[8], event="ping", data={})

    assert json.loads((await asyncio.wait_for(layer.receive(channel), 5))["frame"])["type"] == "ping"
