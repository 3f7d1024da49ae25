"""The socket's handshake: who is connecting (simplejwt's own checks) and which threads they are in.

Sync, database-touching code, run once per connection (and per `auth.refresh`) by the consumer
through `database_sync_to_async`; nothing else the socket does touches the database.
"""

import datetime as dt
from dataclasses import dataclass

from django.utils import timezone
from rest_framework.exceptions import AuthenticationFailed
from rest_framework_simplejwt.exceptions import InvalidToken, TokenError

from messaging import selectors
from users.authentication import JWTAuthentication


@dataclass(frozen=True)
class SocketIdentity:
    user_id: int
    expires_at: dt.datetime
    threads: dict[int, int]  # thread id -> the other participant's id


def authenticate_token(raw: str, *, with_threads: bool = True) -> SocketIdentity | None:
    """The identity an access token proves, or None if the REST API would refuse the same token
    (bad signature, expired, not an access token, unknown or inactive user, malformed claims)."""
    if not raw or len(raw) > 4096:
        return None
    auth = JWTAuthentication()
    try:
        token = auth.get_validated_token(raw.encode())
        user = auth.get_user(token)
    except (InvalidToken, AuthenticationFailed, TokenError):
        return None
    expires_at = dt.datetime.fromtimestamp(token["exp"], tz=dt.UTC)
    if expires_at <= timezone.now():
        return None
    threads = selectors.thread_counterparts(user_id=user.pk) if with_threads else {}
    return SocketIdentity(user_id=user.pk, expires_at=expires_at, threads=threads)
