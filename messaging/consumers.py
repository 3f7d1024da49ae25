"""The one WebSocket endpoint, /ws/v1/ (protocol: docs/realtime.md).

The consumer only relays: the handshake authenticates (simplejwt, like the REST API) and loads the
user's thread ids once; afterwards it touches no database, except that `auth.refresh` is a second
handshake (one user lookup, so that a deactivated user cannot extend a socket). New threads reach the
typing check through the pushes themselves (`meta.thread`). Everything that changes data goes
through the REST API, whose services push the result to every socket of each participant
(cybermed.realtime).
"""

import asyncio
import json
import logging
import time
from urllib.parse import urlsplit

from channels.consumer import get_handler_name
from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer
from django.conf import settings
from django.http.request import validate_host
from django.utils import timezone

from cybermed import realtime
from messaging.choices import Event
from messaging.socket_auth import SocketIdentity, authenticate_token

logger = logging.getLogger(__name__)

PROTOCOL = "cybermed.v1"
BEARER_PREFIX = "cybermed.bearer."

# Close codes (docs/realtime.md). 1009 and 1003 are the standard "too big" and "cannot accept data".
CLOSE_UNAUTHENTICATED = 4401
CLOSE_FORBIDDEN_ORIGIN = 4403
CLOSE_RATE_LIMITED = 4429
CLOSE_TOO_BIG = 1009
CLOSE_BINARY = 1003


def _headers(scope: dict) -> dict[bytes, bytes]:
    return {name.lower(): value for name, value in scope.get("headers", [])}


def token_from(scope: dict) -> str | None:
    """The access token from the `cybermed.bearer.<jwt>` subprotocol or an `Authorization: Bearer`
    header. Never from the query string: URLs end up in access logs."""
    for protocol in scope.get("subprotocols") or []:
        if protocol.startswith(BEARER_PREFIX):
            return protocol.removeprefix(BEARER_PREFIX)
    header = _headers(scope).get(b"authorization", b"").decode("latin-1").split()
    if len(header) == 2 and header[0].lower() == "bearer":
        return header[1]
    return None


def origin_allowed(scope: dict) -> bool:
    """Browsers send Origin: it must be one the API trusts (CORS_ALLOWED_ORIGINS, CSRF_TRUSTED_ORIGINS)
    or this very server. Native clients send none: their token is their only credential, and the
    socket never looks at cookies, so there is nothing for a foreign page to ride on."""
    headers = _headers(scope)
    origin = headers.get(b"origin")
    if origin is None:
        return True
    origin_text = origin.decode("latin-1").strip().lower().rstrip("/")
    trusted = {o.lower().rstrip("/") for o in [*settings.CORS_ALLOWED_ORIGINS, *settings.CSRF_TRUSTED_ORIGINS]}
    if origin_text in trusted:
        return True
    parts = urlsplit(origin_text)
    host = headers.get(b"host", b"").decode("latin-1").strip().lower()
    return (
        parts.scheme in ("http", "https")
        and bool(host)
        and parts.netloc == host
        and validate_host(host.rsplit(":", 1)[0] if not host.endswith("]") else host, settings.ALLOWED_HOSTS)
    )


class TokenBucket:
    """`burst` frames at once, refilled at `rate` per second."""

    def __init__(self, burst: int, rate: float) -> None:
        self.capacity, self.rate = float(burst), float(rate)
        self.tokens, self.at = float(burst), time.monotonic()

    def take(self) -> bool:
        now = time.monotonic()
        self.tokens = min(self.capacity, self.tokens + (now - self.at) * self.rate)
        self.at = now
        if self.tokens < 1:
            return False
        self.tokens -= 1
        return True


class RealtimeConsumer(AsyncWebsocketConsumer):
    identity: SocketIdentity | None = None
    present = False  # counted in realtime.presence

    async def dispatch(self, message: dict) -> None:
        """Channels' dispatch, without closing stale database connections before every handler.

        Channels does that for consumers that use the async ORM: a hop to a worker thread and back for every
        frame and every push (6 % of the app servers' py-spy samples at 100 messages/s, bench/realtime.py). This
        consumer reaches the database only through `database_sync_to_async`, which closes them around each
        call itself.
        """
        handler = getattr(self, get_handler_name(message), None)
        if handler is None:
            raise ValueError(f"No handler for message type {message['type']}")
        await handler(message)

    async def connect(self) -> None:
        self.threads: dict[int, int] = {}
        self.timers: list[asyncio.Task] = []
        offered = self.scope.get("subprotocols") or []
        # Never echo the bearer subprotocol back: the token would travel in the response too.
        await self.accept(subprotocol=PROTOCOL if PROTOCOL in offered else None)
        if not origin_allowed(self.scope):
            await self.close(code=CLOSE_FORBIDDEN_ORIGIN)
            return
        raw = token_from(self.scope)
        identity = await database_sync_to_async(authenticate_token)(raw) if raw else None
        if identity is None:
            await self.close(code=CLOSE_UNAUTHENTICATED)
            return
        self.identity = identity
        self.threads = dict(identity.threads)
        self.bucket = TokenBucket(settings.WS_INBOUND_BURST, settings.WS_INBOUND_PER_SECOND)
        await self.channel_layer.group_add(realtime.user_group(identity.user_id), self.channel_name)
        await self.send(text_data=realtime.frame(Event.HELLO, {"user_id": identity.user_id}))
        self.expiry = asyncio.create_task(self._close_when_token_expires())
        self.timers.append(self.expiry)
        await realtime.presence.join(identity.user_id)
        self.present = True

    async def disconnect(self, code: int) -> None:
        for timer in self.timers:
            timer.cancel()
        if self.present:
            realtime.presence.leave(self.identity.user_id)
            self.present = False
        if self.identity is not None:
            await self.channel_layer.group_discard(realtime.user_group(self.identity.user_id), self.channel_name)
            self.identity = None

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        if self.identity is None:
            return
        if text_data is None:
            await self.close(code=CLOSE_BINARY)
            return
        if len(text_data.encode("utf-8", "surrogatepass")) > settings.WS_MAX_FRAME_BYTES:
            await self.close(code=CLOSE_TOO_BIG)
            return
        if not self.bucket.take():
            await self.close(code=CLOSE_RATE_LIMITED)
            return
        try:
            frame = json.loads(text_data)
        except ValueError:
            frame = None
        if not isinstance(frame, dict) or not isinstance(frame.get("type"), str):
            await self._error("invalid_frame", 'Every frame is a JSON object {"type", "data"}.')
            return
        data = frame.get("data") if isinstance(frame.get("data"), dict) else {}
        match frame["type"]:
            case "ping":
                await self.send(text_data=realtime.frame(Event.PONG, {}))
            case "typing":
                await self._typing(data.get("thread_id"))
            case "auth.refresh":
                await self._refresh(frame.get("token") or data.get("token"))
            case _:
                await self._error("unknown_type", "Unknown frame type.")

    async def _error(self, code: str, detail: str) -> None:
        await self.send(text_data=realtime.frame("error", {"code": code, "detail": detail}))

    async def _typing(self, thread_id: object) -> None:
        if isinstance(thread_id, bool) or not isinstance(thread_id, int) or thread_id not in self.threads:
            await self._error("not_a_thread", "No such thread of yours.")
            return
        frame = realtime.frame(Event.TYPING, {"thread_id": thread_id, "user_id": self.identity.user_id})
        other = realtime.user_group(self.threads[thread_id])
        await self.channel_layer.group_send(other, {"type": realtime.PUSH, "frame": frame, "meta": {}})

    async def _refresh(self, raw: object) -> None:
        identity = None
        if isinstance(raw, str):
            identity = await database_sync_to_async(authenticate_token)(raw, with_threads=False)
        if identity is None or identity.user_id != self.identity.user_id:
            await self.close(code=CLOSE_UNAUTHENTICATED)
            return
        self.identity = SocketIdentity(self.identity.user_id, identity.expires_at, self.identity.threads)
        self.expiry.cancel()
        self.expiry = asyncio.create_task(self._close_when_token_expires())
        self.timers.append(self.expiry)
        await self.send(text_data=realtime.frame("auth.refreshed", {"expires_at": identity.expires_at}))

    async def _close_when_token_expires(self) -> None:
        await asyncio.sleep(max(0.0, (self.identity.expires_at - timezone.now()).total_seconds()))
        await self.close(code=CLOSE_UNAUTHENTICATED)

    async def push(self, event: dict) -> None:
        """A frame from cybermed.realtime for this user; `meta.thread` keeps the typing check current."""
        thread = (event.get("meta") or {}).get("thread")
        if thread and self.identity is not None:
            thread_id, patient_id, doctor_id = thread
            self.threads[thread_id] = doctor_id if patient_id == self.identity.user_id else patient_id
        if event.get("frame"):
            await self.send(text_data=event["frame"])
