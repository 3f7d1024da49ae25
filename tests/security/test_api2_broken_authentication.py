"""API2:2023 Broken authentication: only a valid, unexpired, correctly signed access JWT of an active user works."""

import base64
import datetime as dt
import json

import jwt
import pytest
from django.utils import timezone
from rest_framework.test import APIClient
from rest_framework_simplejwt.settings import api_settings as jwt_settings
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken
from rest_framework_simplejwt.tokens import AccessToken, RefreshToken

from users.tests.factories import DEFAULT_PASSWORD

pytestmark = pytest.mark.django_db

ME = "/api/auth/me/"


def call_me(token: str, scheme: str = "Bearer"):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"{scheme} {token}".strip())
    return client.get(ME)


def claims_for(user, **overrides) -> dict:
    now = timezone.now()
    claims = {
        "token_type": "access",
        "exp": int((now + dt.timedelta(minutes=5)).timestamp()),
        "iat": int(now.timestamp()),
        "jti": "f" * 32,
        "user_id": str(user.pk),
    }
    claims.update(overrides)
    return claims


def b64(data: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def assert_401(r) -> None:
    assert r.status_code == 401, (r.status_code, r.content[:200])
    assert r["Content-Type"].startswith("application/json")
    assert "WWW-Authenticate" in r


def test_valid_access_token_accepted(patient):
    # The control: everything below differs from this in one way only.
    assert call_me(jwt.encode(claims_for(patient), jwt_settings.SIGNING_KEY, algorithm="HS256")).status_code == 200


def test_token_signed_with_another_key_rejected(patient):
    assert_401(call_me(jwt.encode(claims_for(patient), "attacker-chosen-key-" + "x" * 40, algorithm="HS256")))


def test_expired_access_token_rejected(patient):
    token = AccessToken.for_user(patient)
    token.set_exp(from_time=timezone.now() - dt.timedelta(hours=1))
    assert_401(call_me(str(token)))


def test_alg_none_unsigned_token_rejected(patient):
    unsigned = f"{b64({'alg': 'none', 'typ': 'JWT'})}.{b64(claims_for(patient))}."
    assert_401(call_me(unsigned))
    assert_401(call_me(jwt.encode(claims_for(patient), None, algorithm="none")))


def test_algorithm_switch_to_hs512_with_right_key_rejected(patient):
    assert_401(call_me(jwt.encode(claims_for(patient), jwt_settings.SIGNING_KEY, algorithm="HS512")))


def test_tampered_payload_with_original_signature_rejected(patient, other_patient):
    header, _, signature = str(AccessToken.for_user(patient)).split(".")
    forged_payload = b64(claims_for(other_patient))
    assert_401(call_me(f"{header}.{forged_payload}.{signature}"))


def test_refresh_token_used_as_access_token_rejected(patient):
    assert_401(call_me(str(RefreshToken.for_user(patient))))


def test_token_without_user_claim_rejected(patient):
    claims = claims_for(patient)
    del claims["user_id"]
    assert_401(call_me(jwt.encode(claims, jwt_settings.SIGNING_KEY, algorithm="HS256")))


def test_token_for_nonexistent_user_rejected(patient):
    assert_401(call_me(jwt.encode(claims_for(patient, user_id="987654321"), jwt_settings.SIGNING_KEY, "HS256")))


def test_token_of_deactivated_user_rejected(patient):
    token = str(AccessToken.for_user(patient))
    patient.is_active = False
    patient.save(update_fields=["is_active"])
    assert_401(call_me(token))


def test_token_of_deleted_user_rejected(other_patient):
    token = str(AccessToken.for_user(other_patient))
    other_patient.delete()
    assert_401(call_me(token))


@pytest.mark.parametrize(
    "garbage",
    [
        "garbage",
        "a.b.c",
        "....",
        "eyJhbGciOiJIUzI1NiJ9.%%%%.xyz",
        "x" * 5000,
        # UTF-8 bytes as a WSGI server hands them over (PEP 3333: header strings are latin-1 decoded)
        "\u00e9\u2603".encode().decode("latin-1"),
        "null",
        "Bearer",
    ],
)
def test_garbage_bearer_token_rejected_not_500(garbage):
    assert_401(call_me(garbage))


@pytest.mark.parametrize("scheme", ["Token", "JWT", "Basic", "bearer-ish"])
def test_wrong_authorization_scheme_not_accepted(patient, scheme):
    r = call_me(str(AccessToken.for_user(patient)), scheme=scheme)
    assert r.status_code == 401


def test_basic_auth_with_real_password_not_accepted(patient):
    basic = base64.b64encode(f"{patient.email}:{DEFAULT_PASSWORD}".encode()).decode()
    assert call_me(basic, scheme="Basic").status_code == 401


def test_missing_token_rejected():
    assert_401(APIClient().get(ME))


# --- login and refresh -------------------------------------------------------------------------------


def login(email: str, password: str):
    return APIClient().post("/api/auth/login/", {"email": email, "password": password}, format="json")


def test_wrong_password_and_unknown_email_indistinguishable(patient):
    wrong = login(patient.email, "Not-the-password-1")
    unknown = login("nobody-here@example.com", "Not-the-password-1")
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json() == unknown.json()


def test_login_with_uppercased_email_and_right_password_gets_tokens(patient):
    assert login(patient.email.upper(), DEFAULT_PASSWORD).status_code == 200


def test_used_refresh_token_replay_rejected(patient):
    refresh = login(patient.email, DEFAULT_PASSWORD).json()["refresh"]
    first = APIClient().post("/api/auth/login/refresh/", {"refresh": refresh}, format="json")
    assert first.status_code == 200
    assert_401(APIClient().post("/api/auth/login/refresh/", {"refresh": refresh}, format="json"))


def test_access_token_sent_as_refresh_rejected(patient):
    access = login(patient.email, DEFAULT_PASSWORD).json()["access"]
    assert_401(APIClient().post("/api/auth/login/refresh/", {"refresh": access}, format="json"))


def test_refresh_token_after_logout_rejected(patient):
    tokens = login(patient.email, DEFAULT_PASSWORD).json()
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {tokens['access']}")
    assert client.post("/api/auth/logout/", {"refresh": tokens["refresh"]}, format="json").status_code == 204
    assert_401(APIClient().post("/api/auth/login/refresh/", {"refresh": tokens["refresh"]}, format="json"))


def test_logout_cannot_revoke_someone_elses_refresh_token(patient, other_patient):
    victim_refresh = login(other_patient.email, DEFAULT_PASSWORD).json()["refresh"]
    attacker = APIClient()
    attacker.credentials(HTTP_AUTHORIZATION=f"Bearer {AccessToken.for_user(patient)}")
    attacker.post("/api/auth/logout/", {"refresh": victim_refresh}, format="json")
    r = APIClient().post("/api/auth/login/refresh/", {"refresh": victim_refresh}, format="json")
    assert r.status_code == 200


def test_refresh_tokens_issued_before_password_change_rejected(patient):
    tokens = login(patient.email, DEFAULT_PASSWORD).json()
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {tokens['access']}")
    r = client.post(
        "/api/auth/password/change/",
        {"old_password": DEFAULT_PASSWORD, "new_password": "An0ther-long-passphrase!"},
        format="json",
    )
    assert r.status_code == 204
    assert_401(APIClient().post("/api/auth/login/refresh/", {"refresh": tokens["refresh"]}, format="json"))


def test_refresh_token_of_deactivated_user_rejected(patient):
    refresh = login(patient.email, DEFAULT_PASSWORD).json()["refresh"]
    patient.is_active = False
    patient.save(update_fields=["is_active"])
    assert_401(APIClient().post("/api/auth/login/refresh/", {"refresh": refresh}, format="json"))


def test_password_change_requires_the_old_password(bearer, patient):
    r = bearer(patient).post(
        "/api/auth/password/change/",
        {"old_password": "Guessed-wrong-1", "new_password": "An0ther-long-passphrase!"},
        format="json",
    )
    assert r.status_code == 400
    assert login(patient.email, DEFAULT_PASSWORD).status_code == 200


def test_password_reset_does_not_reveal_whether_email_exists(api_client, patient):
    known = api_client.post("/api/auth/password/reset/", {"email": patient.email}, format="json")
    unknown = api_client.post("/api/auth/password/reset/", {"email": "ghost@example.com"}, format="json")
    assert known.status_code == unknown.status_code == 204


@pytest.mark.parametrize("token", ["", "forged-token", "1-abc"])
def test_password_reset_confirm_with_forged_token_rejected(api_client, patient, token):
    from django.utils.encoding import force_bytes
    from django.utils.http import urlsafe_base64_encode

    uid = urlsafe_base64_encode(force_bytes(patient.pk))
    r = api_client.post(
        "/api/auth/password/reset/confirm/",
        {"uid": uid, "token": token, "new_password": "Hijacked-passphrase-9"},
        format="json",
    )
    assert r.status_code == 400
    assert login(patient.email, DEFAULT_PASSWORD).status_code == 200


def test_activation_with_forged_token_rejected(api_client, patient):
    r = api_client.post("/api/auth/activate/", {"uid": "MQ", "token": "forged"}, format="json")
    assert r.status_code == 400


# --- a validly signed token whose user_id claim is not an id ----------------------------------------

NOT_USER_IDS = ["abc", "3.0", "", " 1", "1e3", 3.5, 1.0, True, False, None, [1], {"id": 1}, 2**64, "9" * 40, -1, 0]


def signed(claims: dict) -> str:
    return jwt.encode(claims, jwt_settings.SIGNING_KEY, algorithm="HS256")


@pytest.mark.parametrize("user_id", NOT_USER_IDS, ids=repr)
def test_access_token_with_malformed_user_id_claim_is_401(patient, user_id):
    assert_401(call_me(signed(claims_for(patient, user_id=user_id))))


@pytest.mark.parametrize("user_id", NOT_USER_IDS, ids=repr)
def test_logout_with_access_token_with_malformed_user_id_claim_is_401(patient, user_id):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {signed(claims_for(patient, user_id=user_id))}")
    assert_401(client.post("/api/auth/logout/", {"refresh": str(RefreshToken.for_user(patient))}, format="json"))


def test_access_token_with_integer_user_id_claim_accepted(patient):
    assert call_me(signed(claims_for(patient, user_id=patient.pk))).status_code == 200


def refresh_claims_for(user, **overrides) -> dict:
    return claims_for(user, token_type="refresh", jti="e" * 32, **overrides)


@pytest.mark.parametrize("user_id", NOT_USER_IDS, ids=repr)
def test_refresh_with_malformed_user_id_claim_is_401_like_other_refresh_failures(patient, user_id):
    r = APIClient().post(
        "/api/auth/login/refresh/", {"refresh": signed(refresh_claims_for(patient, user_id=user_id))}, format="json"
    )
    replay = APIClient().post("/api/auth/login/refresh/", {"refresh": login_refresh_spent(patient)}, format="json")

    assert_401(r)
    assert (
        r.json() == replay.json() == {"detail": "Token is invalid, expired or already used.", "code": "token_not_valid"}
    )


def login_refresh_spent(user) -> str:
    refresh = login(user.email, DEFAULT_PASSWORD).json()["refresh"]
    assert APIClient().post("/api/auth/login/refresh/", {"refresh": refresh}, format="json").status_code == 200
    return refresh


@pytest.mark.parametrize("user_id", NOT_USER_IDS, ids=repr)
def test_logout_of_refresh_token_with_malformed_user_id_claim_is_400(patient, user_id):
    claims = refresh_claims_for(patient, user_id=user_id)
    # The token is on record as the caller's: only the claim is wrong.
    outstanding = OutstandingToken.objects.create(
        user=patient, jti=claims["jti"], token="-", expires_at=timezone.now() + dt.timedelta(minutes=5)
    )
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {RefreshToken.for_user(patient).access_token}")
    r = client.post("/api/auth/logout/", {"refresh": signed(claims)}, format="json")

    assert r.status_code == 400, r.content
    assert set(r.json()) == {"refresh"}
    assert not BlacklistedToken.objects.filter(token=outstanding).exists()


def test_logout_of_own_refresh_token_with_integer_user_id_claim_revokes_it(patient):
    claims = refresh_claims_for(patient, user_id=patient.pk)
    outstanding = OutstandingToken.objects.create(
        user=patient, jti=claims["jti"], token="-", expires_at=timezone.now() + dt.timedelta(minutes=5)
    )
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {RefreshToken.for_user(patient).access_token}")

    assert client.post("/api/auth/logout/", {"refresh": signed(claims)}, format="json").status_code == 204
    assert BlacklistedToken.objects.filter(token=outstanding).exists()
