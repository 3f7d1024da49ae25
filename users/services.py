"""Writes for accounts and profiles. Each service owns its transaction; emails go out after commit."""

from typing import Any, TypeVar

from django.conf import settings
from django.contrib.auth import password_validation
from django.contrib.auth.hashers import make_password
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.utils import timezone
from rest_framework_simplejwt.exceptions import TokenError
from rest_framework_simplejwt.settings import api_settings as jwt_settings
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken
from rest_framework_simplejwt.tokens import RefreshToken

from cybermed.exceptions import AuthenticationError
from users import user_cache
from users.choices import Role
from users.models import DoctorProfile, PatientProfile, SocialAccount, User
from users.social import Identity
from users.tasks import send_account_email
from users.tokens import password_reset_token, user_for_activation, user_for_password_reset, user_id_from_claim

Profile = TypeVar("Profile", DoctorProfile, PatientProfile)

INVALID_TOKEN = "Token is invalid, expired or already used."
BAD_CREDENTIALS = "No account found with the given credentials."
DUPLICATE_EMAIL = "An account with this email already exists."
WRONG_PASSWORD = "The current password is wrong."
INVALID_RESET_LINK = "The reset link is invalid or has expired."


def _password_errors(*, password: str, user: User) -> list[ValidationError]:
    """The settings' password validators' complaints about `password` for `user` (none when it is acceptable)."""
    try:
        password_validation.validate_password(password, user)
    except ValidationError as exc:
        return exc.error_list
    return []


def _password_check(*, password: str, user: User, field: str) -> None:
    if errors := _password_errors(password=password, user=user):
        raise ValidationError({field: errors})


def _send_after_commit(*, user: User, kind: str) -> None:
    user_id = user.pk
    transaction.on_commit(lambda: send_account_email.enqueue(user_id=user_id, kind=kind))


# --- Registration and activation -------------------------------------------------------------------


def _email_taken(email: str) -> bool:
    return User.objects.filter(email=email).exists()


def user_register(
    *,
    email: str,
    password: str,
    first_name: str,
    last_name: str,
    role: str,
    gender: str = "",
    phone_number: str = "",
) -> User:
    """Create a patient or doctor with an empty profile and email them an activation link."""
    if role not in Role.values:
        raise ValidationError({"role": "Choose patient or doctor."})
    email = User.objects.normalize_email(email)
    if _email_taken(email):
        raise ValidationError({"email": DUPLICATE_EMAIL})
    user = User(
        email=email,
        first_name=first_name,
        last_name=last_name,
        role=role,
        gender=gender,
        phone_number=phone_number,
        is_active=not settings.ACCOUNT_ACTIVATION_REQUIRED,
    )
    _password_check(password=password, user=user, field="password")
    # Hashed before the transaction opens: on SQLite a write transaction holds the one database-wide write
    # lock (BEGIN IMMEDIATE), and the hash is the slow part of a sign-up.
    user.set_password(password)
    with transaction.atomic():
        try:
            with transaction.atomic():
                user.save()
        except IntegrityError as exc:  # two sign-ups with one address at once: the constraint decides
            raise ValidationError({"email": DUPLICATE_EMAIL}) from exc
        if role == Role.DOCTOR:
            DoctorProfile.objects.create(user=user)
        else:
            PatientProfile.objects.create(user=user)
        _send_after_commit(user=user, kind="activation")
    return user


@transaction.atomic
def user_activate(*, uid: str, token: str) -> User:
    """Activate the account `uid` names if `token` is its current activation token."""
    user = user_for_activation(uid, token)
    if user is None:
        raise ValidationError({"token": "The activation link is invalid or has expired."})
    user = User.objects.select_for_update().get(pk=user.pk)
    if user.activated_at is not None:
        raise ValidationError({"token": "The activation link is invalid or has expired."})
    user.is_active = True
    user.activated_at = timezone.now()
    user.save(update_fields=["is_active", "activated_at"])
    return user


def user_activation_resend(*, email: str) -> None:
    """Email a new activation link if `email` belongs to an account that was never activated."""
    user = User.objects.filter(email=User.objects.normalize_email(email)).first()
    if user is not None and not user.is_active and user.activated_at is None:
        _send_after_commit(user=user, kind="activation")


# --- Social login ------------------------------------------------------------------------------------


def _may_link(*, user: User, provider: str) -> bool:
    """Whether a verified provider email may sign in to the existing account `user` with that email.

    Only if the account has no usable password (it was made by social login, or by staff without one)
    or was made by this same provider. Otherwise whoever controls an account at the provider (a generic
    OIDC issuer we do not control, an email address that was recycled) would take over an account whose
    owner signs in with a password; and someone who pre-registered the victim's address with a password
    of their own would keep it after the victim's first social sign-in.
    """
    if not user.has_usable_password():
        return True
    return SocialAccount.objects.filter(user=user, provider=provider).exists()


def _social_user_create(identity: Identity, email: str) -> User:
    user = User(
        email=email,
        first_name=identity.given_name,
        last_name=identity.family_name,
        role=Role.PATIENT,
        is_active=True,
        activated_at=timezone.now(),  # the provider verified the email
    )
    user.set_unusable_password()
    user.save()
    PatientProfile.objects.create(user=user)
    return user


def _social_link(identity: Identity) -> User:
    """Link the identity to the account with its email, or to a new patient; IntegrityError if a concurrent
    first sign-in got there first."""
    email = User.objects.normalize_email(identity.email)
    with transaction.atomic():
        user = User.objects.select_for_update().filter(email=email).first()
        if user is None:
            user = _social_user_create(identity, email)
        elif not _may_link(user=user, provider=identity.provider):
            raise AuthenticationError(
                "An account with this email signs in with a password: sign in with it first.", "account_exists"
            )
        SocialAccount.objects.create(user=user, provider=identity.provider, subject=identity.subject, email=email)
    return user


def social_login(*, identity: Identity) -> User:
    """The account a verified provider identity signs in to: linked before, linked now, or a new patient."""
    linked = SocialAccount.objects.select_related("user").filter(provider=identity.provider, subject=identity.subject)
    account = linked.first()
    if account is not None:
        user = account.user
    elif not identity.email_verified:
        raise AuthenticationError("The provider has not verified this email address.", "email_not_verified")
    else:
        try:
            user = _social_link(identity)
        except IntegrityError:
            # A concurrent first sign-in (same subject, or same email) committed first: look again, once.
            account = linked.first()
            user = account.user if account is not None else _social_link(identity)
    if not user.is_active:
        raise AuthenticationError("This account is not active.", "account_inactive")
    return user


# --- Tokens ------------------------------------------------------------------------------------------


def user_authenticate(*, email: str, password: str) -> User:
    """The active user with these credentials; inactivity is revealed only to the right password."""
    user = User.objects.filter(email=User.objects.normalize_email(email)).first()
    if user is None:
        User().set_password(password)  # same hashing time as a real account (as Django's ModelBackend)
        raise AuthenticationError(BAD_CREDENTIALS, "invalid_credentials")
    if not user.check_password(password):
        raise AuthenticationError(BAD_CREDENTIALS, "invalid_credentials")
    if not user.is_active:
        raise AuthenticationError(
            "This account is not active: use the link in the activation email.", "account_inactive"
        )
    return user


def token_pair_for(*, user: User) -> dict[str, str]:
    refresh = RefreshToken.for_user(user)
    return {"access": str(refresh.access_token), "refresh": str(refresh)}


def _decode_refresh(raw: str) -> RefreshToken:
    try:
        return RefreshToken(raw)
    except TokenError as exc:
        raise AuthenticationError(INVALID_TOKEN, "token_not_valid") from exc


@transaction.atomic
def token_refresh(*, refresh: str) -> dict[str, str]:
    """Exchange a refresh token for a new pair, spending it.

    simplejwt's own rotation blacklists with get_or_create, so the same token sent twice at once can
    succeed twice (or fail with an IntegrityError). Here the user's row and then the token's row are
    locked, and the blacklist check happens under the lock: exactly one request wins. Password
    changes lock the user row too, so they never miss a token issued concurrently.
    """
    token = _decode_refresh(refresh)
    user_id = user_id_from_claim(token.get(jwt_settings.USER_ID_CLAIM))
    if user_id is None:
        raise AuthenticationError(INVALID_TOKEN, "token_not_valid")
    user = User.objects.select_for_update().filter(pk=user_id).first()
    if user is None or not user.is_active:
        raise AuthenticationError("No active account found for the given token.", "no_active_account")
    outstanding = (
        OutstandingToken.objects.select_for_update().filter(jti=token[jwt_settings.JTI_CLAIM], user=user).first()
    )
    if outstanding is None or BlacklistedToken.objects.filter(token=outstanding).exists():
        raise AuthenticationError(INVALID_TOKEN, "token_not_valid")
    BlacklistedToken.objects.create(token=outstanding)
    return token_pair_for(user=user)


@transaction.atomic
def token_revoke(*, user: User, refresh: str) -> None:
    """Blacklist one of `user`'s refresh tokens (logout)."""
    try:
        token = RefreshToken(refresh)
    except TokenError as exc:
        raise ValidationError({"refresh": INVALID_TOKEN}) from exc
    outstanding = (
        OutstandingToken.objects.select_for_update().filter(jti=token[jwt_settings.JTI_CLAIM], user=user).first()
    )
    if outstanding is None or user_id_from_claim(token.get(jwt_settings.USER_ID_CLAIM)) != user.pk:
        raise ValidationError({"refresh": INVALID_TOKEN})
    BlacklistedToken.objects.get_or_create(token=outstanding)
    user_cache.forget(user.pk)


def tokens_revoke_all(*, user: User) -> int:
    """Blacklist every refresh token `user` holds; returns how many were newly revoked."""
    live = OutstandingToken.objects.filter(user=user, blacklistedtoken__isnull=True).values_list("pk", flat=True)
    created = BlacklistedToken.objects.bulk_create(
        [BlacklistedToken(token_id=pk) for pk in live], ignore_conflicts=True
    )
    user_cache.forget(user.pk)
    return len(created)


# --- Passwords ---------------------------------------------------------------------------------------


def user_change_password(*, user: User, old_password: str, new_password: str) -> None:
    """Set a new password if `old_password` is the current one, and sign out every session (all refresh tokens)."""
    errors: dict[str, list[ValidationError]] = {}
    if not user.check_password(old_password):
        errors["old_password"] = [ValidationError(WRONG_PASSWORD)]
    if weak := _password_errors(password=new_password, user=user):
        errors["new_password"] = weak
    if errors:  # both at once, as a form would say them
        raise ValidationError(errors)
    hashed = make_password(new_password)  # before the row lock (and SQLite's write lock): hashing is slow
    with transaction.atomic():
        user = User.objects.select_for_update().get(pk=user.pk)
        user.password = hashed
        user.save(update_fields=["password"])
        tokens_revoke_all(user=user)


def user_request_password_reset(*, email: str) -> None:
    """Email a reset link if an active account has this address; say nothing either way."""
    user = User.objects.filter(email=User.objects.normalize_email(email), is_active=True).first()
    if user is not None and user.has_usable_password():
        _send_after_commit(user=user, kind="password_reset")


def user_reset_password(*, uid: str, token: str, new_password: str) -> User:
    """Set the password from a reset link (`uid` and `token`); the link dies with the old password hash."""
    user = user_for_password_reset(uid, token)
    if user is None:
        raise ValidationError({"token": INVALID_RESET_LINK})
    _password_check(password=new_password, user=user, field="new_password")
    hashed = make_password(new_password)  # before the row lock (and SQLite's write lock): hashing is slow
    with transaction.atomic():
        locked = User.objects.select_for_update().get(pk=user.pk)
        if not password_reset_token.check_token(locked, token):  # spent by a concurrent request
            raise ValidationError({"token": INVALID_RESET_LINK})
        locked.password = hashed
        locked.save(update_fields=["password"])
        tokens_revoke_all(user=locked)
    return locked


# --- Profiles ----------------------------------------------------------------------------------------


@transaction.atomic
def user_update(*, user: User, data: dict[str, Any]) -> User:
    """Update the editable fields of `user`. `profile_picture`: a cleaned file, or None to remove it."""
    user = User.objects.select_for_update().get(pk=user.pk)
    editable = {"first_name", "last_name", "gender", "phone_number", "bio"}
    fields = [name for name in data if name in editable]
    for name in fields:
        setattr(user, name, data[name])
    if "profile_picture" in data:
        old_name = user.profile_picture.name if user.profile_picture else ""
        picture: ContentFile | None = data["profile_picture"]
        if picture is None:
            user.profile_picture = None
        else:
            user.profile_picture.save(picture.name, picture, save=False)
        fields.append("profile_picture")
        if old_name:
            storage = user.profile_picture.storage
            transaction.on_commit(lambda: storage.delete(old_name))
    if fields:
        user.save(update_fields=fields)
    return user


@transaction.atomic
def doctor_profile_upsert(*, user: User, data: dict[str, Any]) -> tuple[DoctorProfile, bool]:
    """Create or update `user`'s doctor profile; `is_verified` is never set here."""
    data = {key: value for key, value in data.items() if key != "is_verified"}
    profile, created = _profile_upsert(DoctorProfile, user=user, data=data)
    profile.clean()  # the fee must fit the currency (no cents in JPY), whichever of the two changed; rolls back
    return profile, created


@transaction.atomic
def patient_profile_upsert(*, user: User, data: dict[str, Any]) -> tuple[PatientProfile, bool]:
    """Create or update `user`'s patient profile."""
    return _profile_upsert(PatientProfile, user=user, data=data)


def _profile_upsert(model: type[Profile], *, user: User, data: dict[str, Any]) -> tuple[Profile, bool]:
    profile, created = model.objects.select_for_update().get_or_create(user=user, defaults=data)
    if not created and data:
        for name, value in data.items():
            setattr(profile, name, value)
        profile.save(update_fields=list(data))
    return profile, created


@transaction.atomic
def doctor_verify(*, doctor: User) -> tuple[DoctorProfile, bool]:
    """Mark a doctor verified so they appear in the directory and can be booked; True if they were not yet."""
    profile = DoctorProfile.objects.select_for_update().get(user=doctor)
    if profile.is_verified:
        return profile, False
    profile.is_verified = True
    profile.save(update_fields=["is_verified"])
    return profile, True
