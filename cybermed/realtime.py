"""Pushing frames to users' open WebSockets, whichever app server holds them (docs/realtime.md).

Every socket joins one channel-layer group per user (`user.<id>`); a push is one group send per
recipient, so it reaches all of that user's sockets: Redis pub/sub fans it out across app servers
(REDIS_URL), the in-memory layer within one process. The frame is encoded to JSON once here, not once
per socket.

Pushes are announcements, never the truth: the database is, and a client that missed a push catches
up through the REST API. So a failed push is logged and dropped, and pushes are only ever sent after
the transaction that made the change has committed.
"""

import asyncio
import json
import logging
import threading
from collections import Counter
from collections.abc import Iterable
from functools import partial

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.core.cache import cache
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction

logger = logging.getLogger(__name__)

# The channel-layer message type every socket handles (RealtimeConsumer.push).
PUSH = "push"
# Each process rewrites its connected users' presence keys this often; a key outlives a dead server by PRESENCE_TTL.
PRESENCE_REFRESH_SECONDS = 20
PRESENCE_TTL_SECONDS = 60
# How long an HTTP thread waits for its push to be handed to the channel layer before giving up (and logging).
PUSH_TIMEOUT_SECONDS = 5

# The event loop of the ASGI server running in this process (cybermed.asgi records it) and its thread.
_server_loop: tuple[asyncio.AbstractEventLoop, int] | None = None


def serve_pushes_from(loop: asyncio.AbstractEventLoop) -> None:
    """Called on the server's loop: pushes from other threads of this process are run there."""
    global _server_loop
    if _server_loop is None or _server_loop[0] is not loop:
        _server_loop = (loop, threading.get_ident())


def user_group(user_id: int) -> str:
    return f"user.{user_id}"


def presence_key(user_id: int) -> str:
    return f"realtime:online:{user_id}"


class Presence:
    """Who has a socket open in this process, written to the shared cache (for `is_online`) in batches.

    A user's first socket here writes their key at once; then one task per event loop rewrites the keys of
    everyone present every PRESENCE_REFRESH_SECONDS in a single Redis pipeline. (Each socket refreshing its own
    key cost a worker-thread hop and a Redis write per socket and period: 50 a second at 1,000 sockets.)
    """

    def __init__(self) -> None:
        self.sockets: Counter[int] = Counter()
        self.refresher: asyncio.Task | None = None

    async def join(self, user_id: int) -> None:
        self.sockets[user_id] += 1
        loop = asyncio.get_running_loop()
        if self.refresher is None or self.refresher.done() or self.refresher.get_loop() is not loop:
            self.refresher = loop.create_task(self._refresh())
        if self.sockets[user_id] == 1:
            await _write_presence([user_id])

    def leave(self, user_id: int) -> None:
        self.sockets[user_id] -= 1
        if self.sockets[user_id] <= 0:
            del self.sockets[user_id]  # the key expires within PRESENCE_TTL_SECONDS
        if not self.sockets and self.refresher is not None:
            self.refresher.cancel()
            self.refresher = None

    async def _refresh(self) -> None:
        while True:
            await asyncio.sleep(PRESENCE_REFRESH_SECONDS)
            await _write_presence(list(self.sockets))


async def _write_presence(user_ids: list[int]) -> None:
    if not user_ids:
        return
    try:
        await cache.aset_many({presence_key(user_id): 1 for user_id in user_ids}, PRESENCE_TTL_SECONDS)
    except Exception:  # presence only spares emails: a cache hiccup must not close sockets
        logger.warning("could not record presence of %d user(s)", len(user_ids), exc_info=True)


presence = Presence()


def is_online(user_id: int) -> bool:
    """Whether `user_id` had a socket open within the last PRESENCE_TTL_SECONDS (the cache is shared)."""
    return cache.get(presence_key(user_id)) is not None


def frame(event: str, data: dict) -> str:
    return json.dumps({"type": event, "data": data}, cls=DjangoJSONEncoder, separators=(",", ":"))


async def _send(groups: list[str], message: dict) -> None:
    layer = get_channel_layer()
    for group in groups:
        await layer.group_send(group, message)


def push(*, user_ids: Iterable[int], event: str, data: dict, meta: dict | None = None) -> None:
    """Send `{"type": event, "data": data}` to every open socket of each user, now.

    `meta` travels with it for the sockets' own bookkeeping (never sent to the client).
    """
    groups = [user_group(user_id) for user_id in dict.fromkeys(user_ids)]
    if not groups:
        return
    message = {"type": PUSH, "frame": frame(event, data) if event else "", "meta": meta or {}}
    try:
        server = _server_loop
        if server is not None and server[0].is_running() and server[1] != threading.get_ident():
            # A thread of the ASGI server's HTTP pool: async_to_sync would not find the server's loop from
            # here and would run each push on a new loop of its own (and a new channel-layer connection).
            asyncio.run_coroutine_threadsafe(_send(groups, message), server[0]).result(PUSH_TIMEOUT_SECONDS)
        else:  # gunicorn, Celery, commands, tests: no server loop, or a thread asgiref knows the loop of
            async_to_sync(_send)(groups, message)
    except Exception:  # a push is best effort: the database holds the change and clients catch up
        logger.exception("could not push %s to %d user(s)", event or "meta", len(groups))


def push_on_commit(*, user_ids: Iterable[int], event: str, data: dict, meta: dict | None = None) -> None:
    """`push` once the current transaction commits (at once outside one); never if it rolls back."""
    transaction.on_commit(partial(push, user_ids=list(user_ids), event=event, data=data, meta=meta), robust=True)
