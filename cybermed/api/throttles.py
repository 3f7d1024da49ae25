"""Throttles whose rates come from settings at request time (env `THROTTLE_<SCOPE>`, "none" = off).

Counters live in Django's default cache: Redis when REDIS_URL is set, so that every app server counts
together. The client is identified by DRF's `get_ident`, which honours NUM_PROXIES, so a client
cannot reset its count by sending a made-up X-Forwarded-For.

A view opts into a stricter limit of its own with `throttle_scope = "<scope>"`.
"""

from rest_framework.settings import api_settings
from rest_framework.throttling import AnonRateThrottle, ScopedRateThrottle, UserRateThrottle


class SettingsRateMixin:
    scope: str

    def get_rate(self) -> str | None:
        # Read on every request (not bound at import, as DRF does) so settings overrides take effect.
        return api_settings.DEFAULT_THROTTLE_RATES.get(self.scope)


class AnonThrottle(SettingsRateMixin, AnonRateThrottle):
    pass


class UserThrottle(SettingsRateMixin, UserRateThrottle):
    pass


class ScopedThrottle(SettingsRateMixin, ScopedRateThrottle):
    """The view's `throttle_scope`, counted per client IP whoever is (or is not) authenticated.

    DRF's own counts signed-in users by user id; these scopes guard credentials and mailboxes, which
    an attacker probes from one address with any account, so the address is what is counted.
    """

    def get_cache_key(self, request, view) -> str:
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}
