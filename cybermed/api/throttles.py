"""Throttles whose rates come from settings at request time (env `THROTTLE_<SCOPE>`, "none" = off).

Counters live in Django's default cache: Redis when REDIS_URL is set, so that every app server counts
together. The client is identified by DRF's `get_ident`, which honours NUM_PROXIES, so a client
cannot reset its count by sending a made-up X-Forwarded-For.
"""

from rest_framework.settings import api_settings
from rest_framework.throttling import AnonRateThrottle, SimpleRateThrottle, UserRateThrottle


class SettingsRateMixin:
    scope: str

    def get_rate(self) -> str | None:
        # Read on every request (not bound at import, as DRF does) so settings overrides take effect.
        return api_settings.DEFAULT_THROTTLE_RATES.get(self.scope)


class AnonThrottle(SettingsRateMixin, AnonRateThrottle):
    pass


class UserThrottle(SettingsRateMixin, UserRateThrottle):
    pass


class ClientIPThrottle(SettingsRateMixin, SimpleRateThrottle):
    """Counts requests per client IP for one scope, whoever is (or is not) authenticated."""

    def get_cache_key(self, request, view) -> str:
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}


class LoginThrottle(ClientIPThrottle):
    scope = "login"


class RegisterThrottle(ClientIPThrottle):
    scope = "register"


class RefreshThrottle(ClientIPThrottle):
    scope = "refresh"


class PasswordResetThrottle(ClientIPThrottle):
    scope = "password_reset"


class ActivationResendThrottle(ClientIPThrottle):
    scope = "activation_resend"
