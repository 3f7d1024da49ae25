"""Idempotent POSTs: a retried request with the same `Idempotency-Key` gets the first response, never a second effect.

The guarantee is the database's, not a check's. The request runs in one transaction that first inserts
(user, key) — unique — and, before committing, stores the response in that row:

- a retry after the commit hits the unique constraint at once and replays the stored response;
- a duplicate that races the first waits on the constraint (PostgreSQL blocks the second insert of an
  uncommitted key; SQLite's `BEGIN IMMEDIATE` makes the second transaction wait for the first's write lock),
  then hits it and replays, so every one of them gets the same answer;
- if the first request fails with a 5xx (or crashes), its transaction rolls back with its key, and a retry
  runs afresh, as a client would want after a server error.

The same key with a different method, path or body is a client bug: 409 `idempotency_conflict`.
"""

import datetime as dt
import hashlib
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db import IntegrityError, transaction
from django.utils import timezone

from cybermed.exceptions import IdempotencyConflict
from cybermed.models import IdempotencyKey

HEADER = "Idempotency-Key"
KEY_PATTERN = re.compile(r"[\x20-\x7e]{1,255}")
# A stored response this old is forgotten; the same key then starts a new request.
TTL = dt.timedelta(hours=24)


@dataclass(frozen=True)
class StoredResponse:
    status_code: int
    body: Any


def valid_key(key: str) -> bool:
    return bool(KEY_PATTERN.fullmatch(key))


def request_fingerprint(*, method: str, path: str, body: Any) -> str:
    """SHA-256 of the request: the parsed body in canonical JSON, so that key order and spacing do not matter."""
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), default=str, ensure_ascii=True)
    return hashlib.sha256(f"{method.upper()}\n{path}\n{canonical}".encode()).hexdigest()


def run_once(
    *,
    user_id: int,
    key: str,
    fingerprint: str,
    call: Callable[[], StoredResponse],
    now: dt.datetime | None = None,
) -> tuple[StoredResponse, bool]:
    """Run `call` once per (user, key) within the TTL; return its response and whether it is a replay.

    `call` runs inside this function's transaction, so its writes commit together with the stored response
    (and its on-commit side effects, such as notifications, fire once). A 5xx response is not stored: the
    transaction rolls back and the key stays free.
    """
    now = now or timezone.now()
    with transaction.atomic():
        IdempotencyKey.objects.filter(user_id=user_id, key=key, expires_at__lte=now).delete()
        try:
            with transaction.atomic():
                record = IdempotencyKey.objects.create(
                    user_id=user_id,
                    key=key,
                    request_hash=fingerprint,
                    status_code=0,  # not yet known; nobody else can read the row before it is set
                    expires_at=now + TTL,
                )
        except IntegrityError:
            stored = IdempotencyKey.objects.get(user_id=user_id, key=key)
            if stored.request_hash != fingerprint:
                raise IdempotencyConflict() from None
            body = json.loads(stored.response_body) if stored.response_body else None
            return StoredResponse(stored.status_code, body), True
        response = call()
        if response.status_code >= 500:
            transaction.set_rollback(True)
            return response, False
        record.status_code = response.status_code
        record.response_body = "" if response.body is None else json.dumps(response.body, cls=DjangoJSONEncoder)
        record.save(update_fields=["status_code", "response_body"])
        return response, False


def purge_expired(*, now: dt.datetime | None = None) -> int:
    """Delete stored responses past their expiry (a periodic clean-up; expired rows are ignored anyway)."""
    return IdempotencyKey.objects.filter(expires_at__lte=now or timezone.now()).delete()[0]
