"""OpenID Connect ID tokens from the configured providers (Google, Apple, a generic issuer), verified with PyJWT.

The signature is checked against the provider's published keys (JWKS, fetched over HTTPS and cached by
PyJWKClient), then the issuer, the audience (our client ids), the expiry and issue time, and the nonce
when the client sent one. No crypto of our own: PyJWT and `cryptography` do it.
"""

import json
import threading
import urllib.request
from dataclasses import dataclass

import jwt
from django.conf import settings
from django.core.cache import cache

from cybermed.exceptions import AuthenticationError

# Asymmetric algorithms only: an HS256 token "signed" with a provider's public key must never verify.
ALGORITHMS = ["RS256", "ES256"]
LEEWAY_SECONDS = 60  # clock skew between us and the provider
DISCOVERY_CACHE_SECONDS = 3600
INVALID = "The ID token is not valid for this provider."


@dataclass(frozen=True)
class Provider:
    name: str
    issuers: tuple[str, ...]  # Google signs with either spelling of its issuer
    audiences: tuple[str, ...]  # our client ids (web, iOS, Android) at this provider
    jwks_url: str = ""  # empty: from the issuer's discovery document
    discovery_url: str = ""


@dataclass(frozen=True)
class Identity:
    provider: str
    subject: str
    email: str
    email_verified: bool
    given_name: str
    family_name: str


class ProviderUnavailable(Exception):
    """The provider's keys or discovery document could not be fetched (a 503, not the client's fault)."""


def _split(value: str) -> tuple[str, ...]:
    return tuple(v.strip() for v in value.split(",") if v.strip())


def providers() -> dict[str, Provider]:
    """The providers configured in settings.SOCIAL_AUTH (a provider without a client id is off)."""
    configured = {}
    for name, conf in settings.SOCIAL_AUTH.items():
        audiences = _split(conf.get("client_ids", ""))
        issuers = _split(conf.get("issuer", ""))
        if audiences and issuers:
            configured[name] = Provider(
                name=name,
                issuers=issuers,
                audiences=audiences,
                jwks_url=conf.get("jwks_url", ""),
                discovery_url=conf.get("discovery_url", "")
                or f"{issuers[0].rstrip('/')}/.well-known/openid-configuration",
            )
    return configured


def _fetch_json(url: str) -> dict:
    try:
        with urllib.request.urlopen(url, timeout=settings.SOCIAL_AUTH_TIMEOUT) as response:  # noqa: S310
            return json.loads(response.read())
    except (OSError, ValueError) as exc:
        raise ProviderUnavailable(f"{url}: {type(exc).__name__}") from exc


def _jwks_url(provider: Provider) -> str:
    if provider.jwks_url:
        return provider.jwks_url
    key = f"social:discovery:{provider.discovery_url}"
    url = cache.get(key)
    if url is None:
        url = _fetch_json(provider.discovery_url).get("jwks_uri")
        if not isinstance(url, str) or not url:
            raise ProviderUnavailable(f"{provider.discovery_url}: no jwks_uri")
        cache.set(key, url, DISCOVERY_CACHE_SECONDS)
    return url


_clients: dict[str, jwt.PyJWKClient] = {}
_clients_lock = threading.Lock()


def _jwk_client(url: str) -> jwt.PyJWKClient:
    # One client per JWKS URL for the process: it caches the key set (and refetches on an unknown kid,
    # which is how providers rotate keys).
    with _clients_lock:
        if url not in _clients:
            _clients[url] = jwt.PyJWKClient(url, cache_keys=True, lifespan=3600, timeout=settings.SOCIAL_AUTH_TIMEOUT)
        return _clients[url]


def verify_id_token(*, provider: Provider, id_token: str, nonce: str | None = None) -> Identity:
    """The identity in a valid ID token of `provider`; AuthenticationError (401) for any invalid one."""
    try:
        header = jwt.get_unverified_header(id_token)
    except jwt.PyJWTError:
        raise AuthenticationError(INVALID, "invalid_id_token") from None
    if header.get("alg") not in ALGORITHMS:
        raise AuthenticationError(INVALID, "invalid_id_token")
    try:
        signing_key = _jwk_client(_jwks_url(provider)).get_signing_key_from_jwt(id_token)
    except jwt.PyJWKClientConnectionError as exc:
        raise ProviderUnavailable(str(exc)) from exc
    except jwt.PyJWTError:  # no key with that kid, or an unusable one
        raise AuthenticationError(INVALID, "invalid_id_token") from None
    try:
        claims = jwt.decode(
            id_token,
            signing_key.key,
            algorithms=ALGORITHMS,
            audience=list(provider.audiences),
            issuer=list(provider.issuers),
            leeway=LEEWAY_SECONDS,
            options={"require": ["iss", "aud", "sub", "exp", "iat"]},
        )
    except jwt.ExpiredSignatureError:
        raise AuthenticationError("The ID token has expired.", "invalid_id_token") from None
    except jwt.PyJWTError:
        raise AuthenticationError(INVALID, "invalid_id_token") from None
    if nonce is not None and claims.get("nonce") != nonce:
        raise AuthenticationError("The ID token's nonce does not match.", "invalid_id_token")
    subject, email = claims.get("sub"), claims.get("email")
    if not isinstance(subject, str) or not subject or not isinstance(email, str) or not email:
        raise AuthenticationError("The ID token carries no subject or email.", "invalid_id_token")
    # Apple sends "true"/"false" as strings; anything but an explicit true is unverified.
    verified = claims.get("email_verified") in (True, "true")
    return Identity(
        provider=provider.name,
        subject=subject,
        email=email,
        email_verified=verified,
        given_name=str(claims.get("given_name") or "")[:150],
        family_name=str(claims.get("family_name") or "")[:150],
    )
