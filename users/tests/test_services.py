import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken

from cybermed.exceptions import AuthenticationError, DomainConflict
from users import selectors, services
from users.choices import Role
from users.models import DoctorProfile, PatientProfile, User
from users.tests.factories import DEFAULT_PASSWORD, DoctorFactory, PatientFactory
from users.tests.helpers import uid_and_token_from_last_email
from users.tokens import account_activation_token, password_reset_token, uid_encode

pytestmark = pytest.mark.django_db
STRONG = "Another-str0ng-passphrase"


def register(**overrides) -> User:
    return services.user_register(
        **{"email": "A@Example.com", "password": STRONG, "first_name": "A", "last_name": "B", "role": "doctor"}
        | overrides
    )


def test_user_register_creates_inactive_doctor_with_unverified_profile(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        user = register()

    assert (user.email, user.role, user.is_active) == ("a@example.com", Role.DOCTOR, False)
    assert DoctorProfile.objects.get(user=user).is_verified is False
    assert user.check_password(STRONG)
    assert len(mail.outbox) == 1


def test_user_register_email_goes_out_only_after_commit(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        register(role="patient")

    assert mail.outbox == []
    assert PatientProfile.objects.filter(user__email="a@example.com").exists()
    for callback in callbacks:
        callback()
    assert len(mail.outbox) == 1


def test_user_register_duplicate_caught_by_constraint_is_validation_error(monkeypatch):
    register()
    monkeypatch.setattr(services, "_email_taken", lambda email: False)  # a concurrent sign-up passed the check

    with pytest.raises(ValidationError) as excinfo:
        register(email="a@EXAMPLE.com")
    assert excinfo.value.message_dict == {"email": ["An account with this email already exists."]}
    assert User.objects.count() == 1


WEAK_MESSAGES = [
    "This password is too short. It must contain at least 8 characters.",
    "This password is too common.",
    "This password is entirely numeric.",
]


def test_user_register_rejects_an_existing_email_in_any_case_before_hashing(monkeypatch):
    register()
    monkeypatch.setattr(User, "set_password", lambda *_: pytest.fail("hashed a doomed sign-up"))

    with pytest.raises(ValidationError) as excinfo:
        register(email="a@EXAMPLE.com", password="123")  # the email is reported, as before the password

    assert excinfo.value.message_dict == {"email": ["An account with this email already exists."]}


@pytest.mark.parametrize(
    ("password", "messages"),
    [("123", WEAK_MESSAGES), ("someone@example.com", ["The password is too similar to the email address."])],
)
def test_user_register_validates_the_password_against_the_new_account(password, messages):
    with pytest.raises(ValidationError) as excinfo:
        register(email="someone@example.com", password=password)

    assert excinfo.value.message_dict == {"password": messages}
    assert not User.objects.exists()


def test_user_change_password_checks_the_old_and_the_new_password_together():
    user = PatientFactory()

    with pytest.raises(ValidationError) as wrong:
        services.user_change_password(user=user, old_password="nope", new_password=STRONG)
    with pytest.raises(ValidationError) as both:
        services.user_change_password(user=user, old_password="nope", new_password="123")
    with pytest.raises(ValidationError) as weak:
        services.user_change_password(user=user, old_password=DEFAULT_PASSWORD, new_password="123")

    assert wrong.value.message_dict == {"old_password": ["The current password is wrong."]}
    assert both.value.message_dict == {
        "old_password": ["The current password is wrong."],
        "new_password": WEAK_MESSAGES,
    }
    assert weak.value.message_dict == {"new_password": WEAK_MESSAGES}
    user.refresh_from_db()
    assert user.check_password(DEFAULT_PASSWORD)


@pytest.mark.parametrize("uid", ["@@@", "MQ", "OTk5OTk5OTk5OTk5OTk5OTk5OTk5OTk5"])
def test_user_reset_password_rejects_a_bad_link(uid):
    PatientFactory()

    with pytest.raises(ValidationError) as excinfo:
        services.user_reset_password(uid=uid, token="nope", new_password="123")  # the link first, then the password

    assert excinfo.value.message_dict == {"token": ["The reset link is invalid or has expired."]}


def test_user_reset_password_rejects_inactive_account_and_weak_password():
    inactive, active = PatientFactory(is_active=False), PatientFactory()

    with pytest.raises(ValidationError) as dead:
        services.user_reset_password(
            uid=uid_encode(inactive), token=password_reset_token.make_token(inactive), new_password=STRONG
        )
    with pytest.raises(ValidationError) as weak:
        services.user_reset_password(
            uid=uid_encode(active), token=password_reset_token.make_token(active), new_password="123"
        )

    assert dead.value.message_dict == {"token": ["The reset link is invalid or has expired."]}
    assert weak.value.message_dict == {"new_password": WEAK_MESSAGES}
    active.refresh_from_db()
    assert active.check_password(DEFAULT_PASSWORD)


def test_user_reset_password_link_works_once():
    user = PatientFactory()
    uid, token = uid_encode(user), password_reset_token.make_token(user)

    assert services.user_reset_password(uid=uid, token=token, new_password=STRONG).check_password(STRONG)
    with pytest.raises(ValidationError):
        services.user_reset_password(uid=uid, token=token, new_password=STRONG + "2")


def test_user_register_rejects_staff_like_role():
    with pytest.raises(ValidationError):
        register(role="admin")


def test_activation_token_dies_once_activated(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        register()
    uid, token = uid_and_token_from_last_email()

    activated = services.user_activate(uid=uid, token=token)

    assert activated.is_active
    assert activated.activated_at is not None
    assert not account_activation_token.check_token(activated, token)
    with pytest.raises(ValidationError):
        services.user_activate(uid=uid, token=token)


def test_user_authenticate_outcomes():
    active = PatientFactory(email="on@example.com")
    PatientFactory(email="off@example.com", is_active=False)

    assert services.user_authenticate(email="ON@example.com", password=DEFAULT_PASSWORD) == active
    codes = []
    for email, password in [
        ("on@example.com", "wrong"),
        ("nobody@example.com", DEFAULT_PASSWORD),
        ("off@example.com", "wrong"),
        ("off@example.com", DEFAULT_PASSWORD),
    ]:
        with pytest.raises(AuthenticationError) as excinfo:
            services.user_authenticate(email=email, password=password)
        codes.append(excinfo.value.code)
    assert codes == ["invalid_credentials", "invalid_credentials", "invalid_credentials", "account_inactive"]


def test_token_refresh_spends_token_once():
    user = PatientFactory()
    pair = services.token_pair_for(user=user)

    new_pair = services.token_refresh(refresh=pair["refresh"])

    assert new_pair["refresh"] != pair["refresh"]
    with pytest.raises(AuthenticationError):
        services.token_refresh(refresh=pair["refresh"])
    assert services.token_refresh(refresh=new_pair["refresh"])


def test_tokens_revoke_all_blacklists_only_that_users_live_tokens():
    user, other = PatientFactory(), PatientFactory()
    for _ in range(3):
        services.token_pair_for(user=user)
    services.token_refresh(refresh=services.token_pair_for(user=user)["refresh"])  # one already spent
    kept = services.token_pair_for(user=other)

    revoked = services.tokens_revoke_all(user=user)

    assert revoked == 4  # three logins plus the rotated token; the spent one was already revoked
    assert not OutstandingToken.objects.filter(user=user, blacklistedtoken__isnull=True).exists()
    assert BlacklistedToken.objects.filter(token__user=other).count() == 0
    assert services.token_refresh(refresh=kept["refresh"])


def test_token_revoke_rejects_other_users_token():
    user, other = PatientFactory(), PatientFactory()
    others = services.token_pair_for(user=other)

    with pytest.raises(ValidationError):
        services.token_revoke(user=user, refresh=others["refresh"])


def test_doctor_profile_upsert_never_sets_verified():
    doctor = DoctorFactory(doctor_profile=None)

    profile, created = services.doctor_profile_upsert(user=doctor, data={"is_verified": True, "slot_minutes": 20})
    again, created_again = services.doctor_profile_upsert(user=doctor, data={"clinic_name": "X"})

    assert (created, created_again) == (True, False)
    assert (again.is_verified, again.slot_minutes, again.clinic_name) == (False, 20, "X")


def test_doctor_verify_is_idempotent():
    doctor = DoctorFactory(doctor_profile__is_verified=False)

    first, newly = services.doctor_verify(doctor=doctor)
    again, newly_again = services.doctor_verify(doctor=doctor)

    assert (first.is_verified, newly, again.is_verified, newly_again) == (True, True, True, False)
    assert doctor in selectors.doctor_list_visible()


# --- password hashing stays outside transactions ------------------------------------------------------


@pytest.fixture
def hashed_in_transaction(monkeypatch) -> list[bool]:
    """Whether a transaction was open at each password hash (on SQLite that holds the database's one write lock)."""
    from django.contrib.auth import base_user, hashers
    from django.db import connection

    seen: list[bool] = []
    real = hashers.make_password

    def recording(*args, **kwargs):
        seen.append(connection.in_atomic_block)
        return real(*args, **kwargs)

    monkeypatch.setattr(base_user, "make_password", recording)
    monkeypatch.setattr(services, "make_password", recording, raising=False)
    return seen


@pytest.mark.django_db(transaction=True)
def test_user_register_hashes_the_password_before_opening_a_transaction(hashed_in_transaction):
    register()
    assert hashed_in_transaction == [False]


@pytest.mark.django_db(transaction=True)
def test_password_change_and_reset_hash_before_locking_the_user(hashed_in_transaction):
    user = PatientFactory()
    hashed_in_transaction.clear()
    services.user_change_password(user=user, old_password=DEFAULT_PASSWORD, new_password=STRONG)
    user.refresh_from_db()
    services.user_reset_password(
        uid=uid_encode(user), token=password_reset_token.make_token(user), new_password=STRONG + "2"
    )
    user.refresh_from_db()
    assert hashed_in_transaction == [False, False]
    assert user.check_password(STRONG + "2")


def test_authentication_error_is_its_own_domain_error_not_a_conflict():
    error = AuthenticationError("No.", "invalid_credentials")

    assert not isinstance(error, DomainConflict)
    assert (error.detail, error.code) == ("No.", "invalid_credentials")
