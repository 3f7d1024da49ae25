"""Writes of the calendar feeds: create or rotate, revoke, and note a fetch."""

import datetime as dt
import hashlib
import secrets

from django.db import transaction
from django.utils import timezone

from calendars.models import CalendarFeed
from users.models import User

# Less often than this, a fetch is not worth a write: calendar apps poll every few minutes.
FETCH_RECORD_INTERVAL = dt.timedelta(minutes=1)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@transaction.atomic
def calendar_feed_rotate(*, user: User) -> str:
    """Revoke the user's feed (if any) and make a new one; return its token, which is stored only as a hash."""
    # The user's row lock serializes two rotations, so that one active feed per user holds without a 409.
    User.objects.select_for_update().filter(pk=user.pk).values_list("pk", flat=True).first()
    CalendarFeed.objects.filter(user=user, revoked_at__isnull=True).update(revoked_at=timezone.now())
    token = secrets.token_urlsafe(32)  # 256 bits
    CalendarFeed.objects.create(user=user, token_hash=token_hash(token))
    return token


def calendar_feed_revoke(*, user: User) -> int:
    """Revoke the user's feed; the URL answers 404 from now on. Returns how many feeds were revoked (0 or 1)."""
    return CalendarFeed.objects.filter(user=user, revoked_at__isnull=True).update(revoked_at=timezone.now())


def calendar_feed_fetched(*, feed: CalendarFeed, now: dt.datetime | None = None) -> None:
    now = now or timezone.now()
    if feed.last_fetched_at is None or now - feed.last_fetched_at >= FETCH_RECORD_INTERVAL:
        CalendarFeed.objects.filter(pk=feed.pk).update(last_fetched_at=now)
        feed.last_fetched_at = now
