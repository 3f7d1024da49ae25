"""The authenticated user, cached for a few seconds between requests (issue 19).

Every API request authenticates its bearer token, and loading the user was a tenth of a list page's
server time. `JWTAuthentication.get_user` keeps the active user it loaded in Django's cache (Redis in
production, so shared by every app server) for `AUTH_USER_CACHE_SECONDS`, and any change to a user row
forgets it at once: deactivation, role or staff changes, password changes (a save of the row, wherever
it happens: the `post_save` and `post_delete` receivers below) and token revocation (the services call
`forget`). A queryset `.update()` of users sends no signal: code that does one must call `forget` for
each user it changes (the product does none). Without Redis the cache is per process: another worker
of the same server may then serve a changed user for up to `AUTH_USER_CACHE_SECONDS`.
"""

import copy
from typing import TYPE_CHECKING

from django.conf import settings
from django.core.cache import cache
from django.db import transaction

if TYPE_CHECKING:
    from users.models import User


def _key(user_id: int) -> str:
    return f"auth-user:v1:{user_id}"


def recall(user_id: int) -> "User | None":
    if not settings.AUTH_USER_CACHE_SECONDS:
        return None
    return cache.get(_key(user_id))


def remember(user: "User") -> None:
    """Cache `user` without its password hash, which has no business in a shared cache: the copy leaves the
    field deferred, so code that needs it (a password check) loads it from the database."""
    if settings.AUTH_USER_CACHE_SECONDS:
        snapshot = copy.copy(user)
        snapshot.__dict__.pop("password", None)
        cache.set(_key(user.pk), snapshot, settings.AUTH_USER_CACHE_SECONDS)


def forget(user_id: int) -> None:
    """Drop the cached copy now and again after the surrounding transaction commits: a request that
    reads the old row in between would otherwise cache it again."""
    cache.delete(_key(user_id))
    if transaction.get_connection().in_atomic_block:
        transaction.on_commit(lambda: cache.delete(_key(user_id)))


def forget_saved_or_deleted_user(sender: type, instance: "User", created: bool = False, **kwargs: object) -> None:
    if instance.pk is not None and not created:  # a new user was never cached
        forget(instance.pk)
