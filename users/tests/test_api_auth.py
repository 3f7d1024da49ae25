import pytest
from django.core import mail
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken
from rest_framework_simplejwt.tokens import RefreshToken

from users.choices import Role
from users.models import DoctorProfile, PatientProfile, User
from users.tests.factories import DEFAULT_PASSWORD, PatientFactory
from users.tests.helpers import uid_and_token_from_last_email
from users.tokens import password_reset_token, uid_encode

pytestmark = pytest.mark.django_db

REGISTER = "/api/auth/register/"
LOGIN = "/api/auth/login/"
REFRESH = "/api/auth/login/refresh/"
LOGOUT = "/api/auth/logout/"
ME = "/api/auth/me/"
ACTIVATE = "/api/auth/activate/"
RESEND = "/api/auth/activate/resend/"
CHANGE = "/api/auth/password/change/"
RESET = "/api/auth/password/reset/"
RESET_CONFIRM = "/api/auth/password/reset/confirm/"
STRONG = "Another-str0ng-passphrase"
BEARER = 'Bearer realm="api"'


def registration(**overrides) -> dict:
    return {
        "email": "New.Person@Example.com",
        "password": STRONG,
        "first_name": "New",
        "last_name": "Person",
        "role": "patient",
        **overrides,
    }


# --- Register ---------------------------------------------------------------------------------------


def test_anonymous_register_patient_returns_user_and_sends_activation(api_client, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = api_client.post(REGISTER, registration(gender="female", phone_number="+2348031234567"))

    assert response.status_code == 201, response.content
    body = response.json()
    assert set(body) == (
        {"id", "email", "role", "date_joined"}  # read-only
        | {"first_name", "last_name", "gender", "phone_number", "bio", "profile_picture"}  # PATCH /auth/me/
    )
    assert (body["email"], body["role"], body["gender"], body["profile_picture"]) == (
        "new.person@example.com",
        "patient",
        "female",
        None,
    )
    user = User.objects.get(pk=body["id"])
    assert not user.is_active
    assert PatientProfile.objects.filter(user=user).exists()
    assert not DoctorProfile.objects.filter(user=user).exists()
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["new.person@example.com"]
    uid, token = uid_and_token_from_last_email()
    assert uid
    assert token


def test_anonymous_register_doctor_gets_unverified_profile(api_client):
    response = api_client.post(REGISTER, registration(role="doctor"))

    assert response.status_code == 201
    profile = DoctorProfile.objects.get(user_id=response.json()["id"])
    assert profile.is_verified is False
    assert not PatientProfile.objects.filter(user_id=response.json()["id"]).exists()


@pytest.mark.parametrize("role", ["admin", "staff", "", None, 3])
def test_anonymous_register_with_other_role_returns_400(api_client, role):
    response = api_client.post(REGISTER, registration(role=role))

    assert response.status_code == 400
    assert "role" in response.json()
    assert not User.objects.exists()


def test_anonymous_register_cannot_set_staff_flags(api_client):
    response = api_client.post(REGISTER, registration(is_staff=True, is_superuser=True, is_active=True))

    assert response.status_code == 201
    user = User.objects.get(pk=response.json()["id"])
    assert (user.is_staff, user.is_superuser, user.is_active) == (False, False, False)


def test_anonymous_register_duplicate_email_any_case_returns_400(api_client):
    PatientFactory(email="taken@example.com")

    response = api_client.post(REGISTER, registration(email="TAKEN@example.COM"))

    assert response.status_code == 400
    assert "email" in response.json()


@pytest.mark.parametrize("password", ["short", "12345678901", "password123", "newperson1"])
def test_anonymous_register_weak_password_returns_400(api_client, password):
    response = api_client.post(REGISTER, registration(password=password, email="newperson1@example.com"))

    assert response.status_code == 400
    assert response.json()["password"]


@pytest.mark.parametrize(
    "payload",
    [
        {},
        {"email": "not-an-email", "password": STRONG},
        {"email": ["a@b.c"], "password": {"x": 1}},
        [],
        "a string",
        {"email": "nul\x00@example.com", "password": STRONG},
    ],
)
def test_anonymous_register_bad_input_returns_400(api_client, payload):
    response = api_client.post(REGISTER, payload, format="json")

    assert response.status_code == 400


def test_anonymous_register_garbage_json_returns_400(api_client):
    response = api_client.post(REGISTER, data="{not json", content_type="application/json")

    assert response.status_code == 400


def test_anonymous_register_form_body_returns_415(api_client):
    response = api_client.post(REGISTER, data="email=a@b.c", content_type="application/x-www-form-urlencoded")

    assert response.status_code == 415


def test_register_when_activation_not_required_creates_active_user(api_client, settings):
    settings.ACCOUNT_ACTIVATION_REQUIRED = False

    response = api_client.post(REGISTER, registration())

    assert response.status_code == 201
    assert User.objects.get(pk=response.json()["id"]).is_active
    assert api_client.post(LOGIN, {"email": "new.person@example.com", "password": STRONG}).status_code == 200


# --- Activation ---------------------------------------------------------------------------------------


def test_anonymous_activate_with_emailed_token_allows_login(api_client, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        api_client.post(REGISTER, registration())
    uid, token = uid_and_token_from_last_email()

    inactive = api_client.post(LOGIN, {"email": "new.person@example.com", "password": STRONG})
    response = api_client.post(ACTIVATE, {"uid": uid, "token": token})
    login = api_client.post(LOGIN, {"email": "NEW.person@example.com", "password": STRONG})

    assert (inactive.status_code, inactive.json()["code"]) == (401, "account_inactive")
    assert response.status_code == 204
    assert login.status_code == 200
    # The token dies once used.
    assert api_client.post(ACTIVATE, {"uid": uid, "token": token}).status_code == 400


@pytest.mark.parametrize(
    "payload", [{"uid": "MQ", "token": "bad-token"}, {"uid": "!!!", "token": "x"}, {"uid": "", "token": ""}, {}]
)
def test_anonymous_activate_bad_token_returns_400(api_client, payload):
    PatientFactory(is_active=False)

    response = api_client.post(ACTIVATE, payload)

    assert response.status_code == 400


def test_deactivated_user_cannot_reactivate_through_resend(api_client, patient, django_capture_on_commit_callbacks):
    patient.activated_at = patient.date_joined
    patient.is_active = False
    patient.save()

    with django_capture_on_commit_callbacks(execute=True):
        response = api_client.post(RESEND, {"email": patient.email})

    assert response.status_code == 204
    assert mail.outbox == []


def test_anonymous_resend_activation_sends_only_for_inactive_accounts(
    api_client, patient, django_capture_on_commit_callbacks
):
    waiting = PatientFactory(is_active=False, email="waiting@example.com")

    with django_capture_on_commit_callbacks(execute=True):
        responses = [
            api_client.post(RESEND, {"email": "WAITING@example.com"}),
            api_client.post(RESEND, {"email": patient.email}),
            api_client.post(RESEND, {"email": "nobody@example.com"}),
        ]

    assert [r.status_code for r in responses] == [204, 204, 204]
    assert [m.to for m in mail.outbox] == [[waiting.email]]
    uid, token = uid_and_token_from_last_email()
    assert api_client.post(ACTIVATE, {"uid": uid, "token": token}).status_code == 204
    waiting.refresh_from_db()
    assert waiting.is_active
    assert waiting.activated_at is not None


# --- Login ----------------------------------------------------------------------------------------------


def test_user_login_returns_token_pair_case_insensitively(api_client, patient):
    response = api_client.post(LOGIN, {"email": patient.email.upper(), "password": DEFAULT_PASSWORD})

    assert response.status_code == 200
    assert set(response.json()) == {"access", "refresh"}
    me = api_client.get(ME, HTTP_AUTHORIZATION=f"Bearer {response.json()['access']}")
    assert me.json()["id"] == patient.pk


@pytest.mark.parametrize(
    ("email", "password"), [("patient-x@example.com", "wrong"), ("nobody@example.com", DEFAULT_PASSWORD)]
)
def test_anonymous_login_wrong_credentials_returns_401(api_client, email, password):
    PatientFactory(email="patient-x@example.com")

    response = api_client.post(LOGIN, {"email": email, "password": password})

    assert response.status_code == 401
    assert response.json()["code"] == "invalid_credentials"
    assert "WWW-Authenticate" in response


def test_every_failed_sign_in_is_401_with_detail_code_and_bearer_challenge(api_client, patient, tokens_for):
    inactive = PatientFactory(is_active=False)
    deactivated = PatientFactory()
    deactivated_pair = tokens_for(deactivated)
    deactivated.is_active = False
    deactivated.save(update_fields=["is_active"])

    responses = [
        api_client.post(LOGIN, {"email": patient.email, "password": "wrong"}),
        api_client.post(LOGIN, {"email": inactive.email, "password": DEFAULT_PASSWORD}),
        api_client.post(REFRESH, {"refresh": "garbage"}),
        api_client.post(REFRESH, {"refresh": deactivated_pair["refresh"]}),
    ]

    assert [(r.status_code, r.json(), r["WWW-Authenticate"]) for r in responses] == [
        (401, {"detail": "No account found with the given credentials.", "code": "invalid_credentials"}, BEARER),
        (
            401,
            {"detail": "This account is not active: use the link in the activation email.", "code": "account_inactive"},
            BEARER,
        ),
        (401, {"detail": "Token is invalid, expired or already used.", "code": "token_not_valid"}, BEARER),
        (401, {"detail": "No active account found for the given token.", "code": "no_active_account"}, BEARER),
    ]


def test_inactive_user_login_wrong_password_does_not_reveal_inactivity(api_client):
    user = PatientFactory(is_active=False)

    response = api_client.post(LOGIN, {"email": user.email, "password": "wrong-password"})

    assert (response.status_code, response.json()["code"]) == (401, "invalid_credentials")


def test_login_with_stale_bearer_header_still_works(api_client, patient):
    response = api_client.post(
        LOGIN, {"email": patient.email, "password": DEFAULT_PASSWORD}, HTTP_AUTHORIZATION="Bearer garbage"
    )

    assert response.status_code == 200


@pytest.mark.parametrize(
    "payload",
    [{}, {"email": "a@b.c"}, {"email": 5, "password": None}, {"email": "a@b.c", "password": 12345678}, []],
)
def test_anonymous_login_bad_input_returns_400(api_client, payload):
    assert api_client.post(LOGIN, payload, format="json").status_code == 400


def test_login_is_throttled_with_retry_after(api_client, settings, patient):
    rates = {**settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], "login": "2/min"}
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": rates}

    codes = [api_client.post(LOGIN, {"email": patient.email, "password": "x"}).status_code for _ in range(3)]

    assert codes == [401, 401, 429]
    response = api_client.post(LOGIN, {"email": patient.email, "password": DEFAULT_PASSWORD})
    assert response.status_code == 429
    assert int(response["Retry-After"]) > 0


# --- Refresh and logout ------------------------------------------------------------------------------


def test_user_refresh_rotates_and_old_token_is_rejected(api_client, patient, tokens_for):
    pair = tokens_for(patient)

    first = api_client.post(REFRESH, {"refresh": pair["refresh"]})
    again = api_client.post(REFRESH, {"refresh": pair["refresh"]})

    assert first.status_code == 200
    assert set(first.json()) == {"access", "refresh"}
    assert first.json()["refresh"] != pair["refresh"]
    assert again.status_code == 401
    assert api_client.post(REFRESH, {"refresh": first.json()["refresh"]}).status_code == 200


@pytest.mark.parametrize("token", ["garbage", "a.b.c", ""])
def test_anonymous_refresh_garbage_token_returns_401_or_400(api_client, token):
    response = api_client.post(REFRESH, {"refresh": token})

    assert response.status_code == (400 if token == "" else 401)


def test_refresh_with_access_token_returns_401(api_client, patient, tokens_for):
    response = api_client.post(REFRESH, {"refresh": tokens_for(patient)["access"]})

    assert response.status_code == 401


def test_refresh_of_deleted_user_returns_401(api_client, tokens_for):
    user = PatientFactory()
    pair = tokens_for(user)
    user.delete()

    response = api_client.post(REFRESH, {"refresh": pair["refresh"]})

    assert response.status_code == 401


def test_refresh_of_deactivated_user_returns_401(api_client, patient, tokens_for):
    pair = tokens_for(patient)
    patient.is_active = False
    patient.save()

    response = api_client.post(REFRESH, {"refresh": pair["refresh"]})

    assert (response.status_code, response.json()["code"]) == (401, "no_active_account")


def test_refresh_of_token_unknown_to_blacklist_returns_401(api_client, patient, tokens_for):
    pair = tokens_for(patient)
    OutstandingToken.objects.all().delete()

    assert api_client.post(REFRESH, {"refresh": pair["refresh"]}).status_code == 401


def test_user_logout_revokes_refresh_token(client_for, api_client, patient, tokens_for):
    pair = tokens_for(patient)

    response = client_for(patient).post(LOGOUT, {"refresh": pair["refresh"]})

    assert response.status_code == 204
    assert api_client.post(REFRESH, {"refresh": pair["refresh"]}).status_code == 401


def test_user_logout_with_another_users_token_returns_400(client_for, api_client, patient, other_patient, tokens_for):
    others = tokens_for(other_patient)

    response = client_for(patient).post(LOGOUT, {"refresh": others["refresh"]})

    assert response.status_code == 400
    assert api_client.post(REFRESH, {"refresh": others["refresh"]}).status_code == 200


@pytest.mark.parametrize("payload", [{"refresh": "garbage"}, {}, {"refresh": None}])
def test_user_logout_bad_token_returns_400(client_for, patient, payload):
    assert client_for(patient).post(LOGOUT, payload, format="json").status_code == 400


def test_anonymous_logout_returns_401(api_client):
    assert api_client.post(LOGOUT, {"refresh": "x"}).status_code == 401


# --- Me ------------------------------------------------------------------------------------------------


def test_anonymous_me_returns_401(api_client):
    assert api_client.get(ME).status_code == 401


def test_user_patch_me_changes_profile_fields_but_never_role_email_or_staff(client_for, patient):
    response = client_for(patient).patch(
        ME,
        {
            "first_name": "Ada",
            "bio": "Hello",
            "gender": "female",
            "phone_number": "+44 20 7183 8750",
            "role": Role.DOCTOR,
            "email": "evil@example.com",
            "is_staff": True,
        },
    )

    assert response.status_code == 200
    patient.refresh_from_db()
    assert (patient.first_name, patient.bio, patient.gender, patient.phone_number) == (
        "Ada",
        "Hello",
        "female",
        "+442071838750",
    )
    assert (patient.role, patient.is_staff) == (Role.PATIENT, False)
    assert patient.email != "evil@example.com"
    assert response.json()["role"] == "patient"


@pytest.mark.parametrize(
    "payload",
    [
        {"gender": "robot"},
        {"first_name": "x" * 200},
        {"first_name": None},
        {"first_name": ""},
        {"last_name": "   "},
        {"first_name": 123},
        {"phone_number": 5551234},
        {"bio": True},
        {"bio": ["a"]},
        {"bio": {"a": "b"}},
        {"bio": "x" * 5001},
        {"bio": "nul\x00byte"},
        {"profile_picture": "http://example.com/a.png"},
    ],
)
def test_user_patch_me_bad_input_returns_400(client_for, patient, payload):
    response = client_for(patient).patch(ME, payload, format="json")

    assert response.status_code == 400
    assert set(response.json()) == set(payload)


def test_user_patch_me_through_bearer_token_rejects_non_string_name(api_client, patient):
    token = api_client.post(LOGIN, {"email": patient.email, "password": DEFAULT_PASSWORD}).json()["access"]
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")

    response = api_client.patch(ME, {"first_name": 42}, format="json")

    assert (response.status_code, list(response.json())) == (400, ["first_name"])
    patient.refresh_from_db()
    assert patient.first_name != "42"


def test_user_put_me_is_not_allowed(client_for, patient):
    assert client_for(patient).put(ME, {"first_name": "A"}).status_code == 405


# --- Password change and reset --------------------------------------------------------------------------


def test_user_change_password_revokes_refresh_tokens(client_for, api_client, patient, tokens_for):
    first, second = tokens_for(patient), tokens_for(patient)

    response = client_for(patient).post(CHANGE, {"old_password": DEFAULT_PASSWORD, "new_password": STRONG})

    assert response.status_code == 204
    assert api_client.post(REFRESH, {"refresh": first["refresh"]}).status_code == 401
    assert api_client.post(REFRESH, {"refresh": second["refresh"]}).status_code == 401
    assert api_client.post(LOGIN, {"email": patient.email, "password": DEFAULT_PASSWORD}).status_code == 401
    assert api_client.post(LOGIN, {"email": patient.email, "password": STRONG}).status_code == 200


def test_user_change_password_wrong_old_returns_400(client_for, patient):
    response = client_for(patient).post(CHANGE, {"old_password": "nope", "new_password": STRONG})

    assert response.status_code == 400
    assert "old_password" in response.json()


def test_user_change_password_weak_new_returns_400(client_for, patient):
    response = client_for(patient).post(CHANGE, {"old_password": DEFAULT_PASSWORD, "new_password": "123"})

    assert response.status_code == 400
    assert "new_password" in response.json()


WEAK = [
    "This password is too short. It must contain at least 8 characters.",
    "This password is too common.",
    "This password is entirely numeric.",
]
WRONG_OLD = ["The current password is wrong."]
BAD_LINK = ["The reset link is invalid or has expired."]


@pytest.mark.parametrize(
    ("old", "new", "errors"),
    [
        ("nope", STRONG, {"old_password": WRONG_OLD}),
        (DEFAULT_PASSWORD, "123", {"new_password": WEAK}),
        ("nope", "123", {"old_password": WRONG_OLD, "new_password": WEAK}),
    ],
)
def test_user_change_password_rule_errors_are_keyed_by_field(client_for, patient, old, new, errors):
    response = client_for(patient).post(CHANGE, {"old_password": old, "new_password": new})

    assert (response.status_code, response.json()) == (400, errors)
    patient.refresh_from_db()
    assert patient.check_password(DEFAULT_PASSWORD)


def test_anonymous_register_rule_errors_are_keyed_by_field(api_client):
    PatientFactory(email="taken@example.com")

    duplicate = api_client.post(REGISTER, registration(email="TAKEN@example.com", password="123"))
    weak = api_client.post(REGISTER, registration(password="123"))
    similar = api_client.post(REGISTER, registration(password="new.person@example.com"))

    assert (duplicate.status_code, duplicate.json()) == (400, {"email": ["An account with this email already exists."]})
    assert (weak.status_code, weak.json()) == (400, {"password": WEAK})
    assert (similar.status_code, similar.json()) == (
        400,
        {"password": ["The password is too similar to the email address."]},
    )
    assert User.objects.count() == 1


def test_anonymous_password_reset_confirm_rule_errors_are_keyed_by_field(api_client, patient):
    uid, token = uid_encode(patient), password_reset_token.make_token(patient)

    bad_link = api_client.post(RESET_CONFIRM, {"uid": uid, "token": "nope", "new_password": "123"})
    weak = api_client.post(RESET_CONFIRM, {"uid": uid, "token": token, "new_password": "123"})

    assert (bad_link.status_code, bad_link.json()) == (400, {"token": BAD_LINK})
    assert (weak.status_code, weak.json()) == (400, {"new_password": WEAK})


def test_anonymous_change_password_returns_401(api_client):
    assert api_client.post(CHANGE, {"old_password": "a", "new_password": "b"}).status_code == 401


def test_anonymous_password_reset_flow(api_client, patient, tokens_for, django_capture_on_commit_callbacks):
    old_pair = tokens_for(patient)
    with django_capture_on_commit_callbacks(execute=True):
        response = api_client.post(RESET, {"email": patient.email.upper()})
    assert response.status_code == 204
    assert mail.outbox[-1].to == [patient.email]
    uid, token = uid_and_token_from_last_email()

    weak = api_client.post(RESET_CONFIRM, {"uid": uid, "token": token, "new_password": "123"})
    done = api_client.post(RESET_CONFIRM, {"uid": uid, "token": token, "new_password": STRONG})
    reused = api_client.post(RESET_CONFIRM, {"uid": uid, "token": token, "new_password": STRONG + "x"})

    assert (weak.status_code, list(weak.json())) == (400, ["new_password"])
    assert done.status_code == 204
    assert reused.status_code == 400
    assert api_client.post(LOGIN, {"email": patient.email, "password": STRONG}).status_code == 200
    assert api_client.post(REFRESH, {"refresh": old_pair["refresh"]}).status_code == 401


def test_anonymous_password_reset_unknown_email_returns_204_without_email(
    api_client, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = api_client.post(RESET, {"email": "nobody@example.com"})

    assert response.status_code == 204
    assert mail.outbox == []


@pytest.mark.parametrize(
    "payload",
    [
        {"uid": "MQ", "token": "nope", "new_password": STRONG},
        {"uid": "@@@", "token": "nope", "new_password": STRONG},
        {"uid": "OTk5OTk5OTk5OTk5OTk5OTk5OTk5OTk5", "token": "x", "new_password": STRONG},
        {"token": "x"},
    ],
)
def test_anonymous_password_reset_confirm_bad_token_returns_400(api_client, patient, payload):
    assert api_client.post(RESET_CONFIRM, payload).status_code == 400


def test_anonymous_password_reset_bad_email_returns_400(api_client):
    assert api_client.post(RESET, {"email": "nope"}).status_code == 400


def test_refresh_token_sent_to_blacklist_table_counts(api_client, patient, tokens_for):
    pair = tokens_for(patient)

    api_client.post(REFRESH, {"refresh": pair["refresh"]})

    jti = RefreshToken(pair["refresh"], verify=False)["jti"]
    assert BlacklistedToken.objects.filter(token__jti=jti).count() == 1
