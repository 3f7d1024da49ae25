"""POST /api/auth/social/{provider}/ against a local OpenID provider with real RS256-signed ID tokens."""

import base64
import json
import socket
import time
from collections.abc import Iterator

import jwt
import pytest
from rest_framework.test import APIClient

from cybermed.testing import run_together
from users.choices import Role
from users.models import SocialAccount, User
from users.tests import oidc_provider
from users.tests.factories import PatientFactory

pytestmark = pytest.mark.django_db

OIDC = "/api/auth/social/oidc/"
GOOGLE = "/api/auth/social/google/"


@pytest.fixture(scope="module")
def provider() -> Iterator[oidc_provider.OidcProvider]:
    running = oidc_provider.start()
    yield running
    oidc_provider.stop(running)


@pytest.fixture(autouse=True)
def configured(settings, provider) -> None:
    # `oidc` finds its keys by discovery; `google` is given its JWKS URL, as the real settings do.
    settings.SOCIAL_AUTH = {
        "oidc": {"issuer": provider.issuer, "client_ids": f"web-app,{oidc_provider.CLIENT_ID}"},
        "google": {"issuer": provider.issuer, "client_ids": oidc_provider.CLIENT_ID, "jwks_url": provider.jwks_url},
        "apple": {"issuer": "https://appleid.apple.com", "client_ids": ""},  # not configured
    }


def login(api_client, token: str, path: str = OIDC, **extra: str):
    return api_client.post(path, {"id_token": token, **extra}, format="json")


def test_new_user_signs_in_as_activated_patient_with_working_tokens(api_client, provider):
    r = login(api_client, provider.token())

    assert r.status_code == 200, r.json()
    assert set(r.json()) == {"access", "refresh"}
    user = User.objects.get(email="ada@example.com")
    assert (user.role, user.is_active, user.activated_at is not None, user.has_usable_password()) == (
        Role.PATIENT,
        True,
        True,
        False,
    )
    assert (user.first_name, user.last_name, hasattr(user, "patient_profile")) == ("Ada", "Lovelace", True)
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {r.json()['access']}")
    assert api_client.get("/api/auth/me/").json()["email"] == "ada@example.com"
    refreshed = api_client.post("/api/auth/login/refresh/", {"refresh": r.json()["refresh"]}, format="json")
    assert refreshed.status_code == 200


def test_returning_user_signs_in_to_the_same_account(api_client, provider):
    login(api_client, provider.token())

    r = login(api_client, provider.token(email="new-address@example.com"))  # the subject decides, not the email

    assert r.status_code == 200
    assert User.objects.count() == 1
    assert SocialAccount.objects.get().subject == "user-123"


def test_google_provider_with_fixed_jwks_url(api_client, provider):
    assert login(api_client, provider.token(), GOOGLE).status_code == 200


def test_matching_nonce_is_accepted(api_client, provider):
    assert login(api_client, provider.token(nonce="n-0S6_WzA2Mj"), nonce="n-0S6_WzA2Mj").status_code == 200


def other_key_token(provider) -> str:
    return provider.token(key=oidc_provider.new_key())


def tampered(token: str) -> str:
    header, payload, sig = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=="))
    claims["email"] = "admin@example.com"
    forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    return f"{header}.{forged}.{sig}"


def hs256_with_public_key(provider) -> str:
    now = int(time.time())
    claims = {"iss": provider.issuer, "aud": oidc_provider.CLIENT_ID, "sub": "x", "email": "x@example.com",
              "email_verified": True, "iat": now, "exp": now + 600}  # fmt: skip
    return jwt.encode(
        claims, "a-guessable-secret-of-32-bytes-or-more", algorithm="HS256", headers={"kid": provider.kid}
    )


@pytest.mark.parametrize(
    ("make", "code"),
    [
        (lambda p: p.token(exp=int(time.time()) - 3600, iat=int(time.time()) - 7200), "invalid_id_token"),  # expired
        (lambda p: p.token(aud="someone-elses-app"), "invalid_id_token"),  # wrong audience
        (lambda p: p.token(iss="https://evil.example"), "invalid_id_token"),  # wrong issuer
        (lambda p: p.token(email_verified=False), "email_not_verified"),
        (lambda p: p.token(email_verified="false"), "email_not_verified"),  # Apple's spelling
        (lambda p: p.token(email_verified=None), "email_not_verified"),
        (lambda p: tampered(p.token()), "invalid_id_token"),  # tampered payload, original signature
        (other_key_token, "invalid_id_token"),  # signed by another key under the provider's kid
        (hs256_with_public_key, "invalid_id_token"),  # algorithm confusion
        (lambda p: p.token(headers={"kid": "unknown-kid"}), "invalid_id_token"),
        (lambda p: p.token(sub=None), "invalid_id_token"),
        (lambda p: p.token(exp=None), "invalid_id_token"),
        (lambda p: p.token(email=None), "invalid_id_token"),
        (lambda p: p.token(nonce="expected-nonce") + "x", "invalid_id_token"),
        (lambda p: "not.a.jwt", "invalid_id_token"),
    ],
)
def test_invalid_id_token_gets_401_and_creates_nothing(api_client, provider, make, code):
    r = login(api_client, make(provider))

    assert (r.status_code, r.json()["code"]) == (401, code)
    assert r["WWW-Authenticate"].startswith("Bearer")
    assert not User.objects.exists()


@pytest.mark.parametrize("token_nonce", ["expected-nonce", None])
def test_nonce_mismatch_gets_401(api_client, provider, token_nonce):
    r = login(api_client, provider.token(nonce=token_nonce), nonce="another-nonce")

    assert (r.status_code, r.json()["code"]) == (401, "invalid_id_token")


def test_existing_password_account_is_not_taken_over(api_client, provider):
    owner = PatientFactory(email="ada@example.com")

    r = login(api_client, provider.token())

    assert (r.status_code, r.json()["code"]) == (401, "account_exists")
    assert not SocialAccount.objects.filter(user=owner).exists()


def test_existing_account_without_password_is_linked(api_client, provider):
    owner = PatientFactory(email="Ada@Example.com")
    owner.set_unusable_password()
    owner.save()

    r = login(api_client, provider.token())

    assert r.status_code == 200
    assert SocialAccount.objects.get(provider="oidc").user == owner


def test_account_created_by_the_same_provider_is_linked_to_a_new_subject(api_client, provider):
    login(api_client, provider.token(sub="old-subject"))
    user = User.objects.get()
    user.set_password("Str0ng-later-passphrase!")  # they also set a password since
    user.save()

    r = login(api_client, provider.token(sub="new-subject"))

    assert r.status_code == 200
    assert sorted(SocialAccount.objects.filter(user=user).values_list("subject", flat=True)) == [
        "new-subject",
        "old-subject",
    ]


def test_account_created_by_another_provider_with_a_password_is_not_linked(api_client, provider):
    login(api_client, provider.token(), GOOGLE)
    user = User.objects.get()
    user.set_password("Str0ng-later-passphrase!")
    user.save()

    r = login(api_client, provider.token(sub="oidc-subject"))

    assert (r.status_code, r.json()["code"]) == (401, "account_exists")


def test_deactivated_account_gets_401(api_client, provider):
    login(api_client, provider.token())
    User.objects.update(is_active=False)

    r = login(api_client, provider.token())

    assert (r.status_code, r.json()["code"]) == (401, "account_inactive")


@pytest.mark.parametrize("path", ["/api/auth/social/apple/", "/api/auth/social/facebook/"])
def test_unconfigured_provider_gets_404(api_client, provider, path):
    assert login(api_client, provider.token(), path).status_code == 404


@pytest.mark.parametrize(
    "body", [{}, {"id_token": 12}, {"id_token": ""}, {"id_token": "x" * 20000}, {"id_token": "a.b.c", "nonce": ""}]
)
def test_bad_body_gets_400(api_client, body):
    assert api_client.post(OIDC, body, format="json").status_code == 400


def test_unreachable_provider_gets_503(api_client, settings, provider):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{s.getsockname()[1]}"
    settings.SOCIAL_AUTH = {"oidc": {"issuer": dead, "client_ids": oidc_provider.CLIENT_ID}}

    r = login(api_client, provider.token(iss=dead))

    assert (r.status_code, r.json()["code"]) == (503, "provider_unavailable")


def test_keys_are_fetched_once_for_many_sign_ins(api_client, provider, settings):
    settings.SOCIAL_AUTH["google"]["jwks_url"] = provider.jwks_url + "?fresh-client"
    before = provider.jwks_requests

    for n in range(3):
        assert login(api_client, provider.token(sub=f"s{n}", email=f"u{n}@example.com"), GOOGLE).status_code == 200

    assert provider.jwks_requests - before == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("same_subject", [True, False])
def test_concurrent_first_sign_ins_make_one_account(provider, same_subject):
    """Two first sign-ins at once (a double tap, or two of the user's devices at one provider)."""
    tokens = [provider.token(sub="same" if same_subject else f"device-{n}") for n in range(2)]

    results = run_together(
        [lambda t=t: APIClient().post(OIDC, {"id_token": t}, format="json").status_code for t in tokens]
    )

    assert results == [200, 200]
    assert User.objects.count() == 1
    assert SocialAccount.objects.count() == (1 if same_subject else 2)
