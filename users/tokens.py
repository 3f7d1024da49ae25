"""One-time tokens for account emails (activation and password reset)."""

from django.contrib.auth.tokens import PasswordResetTokenGenerator, default_token_generator
from django.utils.encoding import force_bytes, force_str
from django.utils.http import urlsafe_base64_decode, urlsafe_base64_encode

from cybermed.api.fields import MAX_ID
from users.models import User

MAX_ID_DIGITS = len(str(MAX_ID))


class AccountActivationTokenGenerator(PasswordResetTokenGenerator):
    """Like the password-reset generator, but the token dies once the account is activated."""

    key_salt = "users.tokens.AccountActivationTokenGenerator"

    def _make_hash_value(self, user: User, timestamp: int) -> str:
        return f"{super()._make_hash_value(user, timestamp)}{user.is_active}{user.activated_at}"


account_activation_token = AccountActivationTokenGenerator()
password_reset_token = default_token_generator


def user_id_from_claim(value: object) -> int | None:
    """The user id a JWT's `user_id` claim holds (simplejwt writes it as a string of digits), or None.

    A signed token is trusted to be ours, not to be well formed: "abc", "3.0", 3.5, true, a list or a
    number no id column holds would otherwise crash the user lookup.
    """
    if isinstance(value, str) and value.isascii() and value.isdigit() and len(value) <= MAX_ID_DIGITS:
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or not 0 < value <= MAX_ID:
        return None
    return value


def uid_encode(user: User) -> str:
    return urlsafe_base64_encode(force_bytes(user.pk))


def user_from_uid(uid: str) -> User | None:
    """The user a `uid` names, or None for anything malformed or unknown."""
    try:
        pk = int(force_str(urlsafe_base64_decode(uid)))
    except (TypeError, ValueError, OverflowError, UnicodeDecodeError):
        return None
    return User.objects.filter(pk=pk).first()


def user_for_activation(uid: str, token: str) -> User | None:
    """The never-activated user an activation link is for, if its token is still good."""
    user = user_from_uid(uid)
    if user is None or user.activated_at is not None or not account_activation_token.check_token(user, token):
        return None
    return user


def user_for_password_reset(uid: str, token: str) -> User | None:
    """The active user a reset link is for, if its token is still good."""
    user = user_from_uid(uid)
    if user is None or not user.is_active or not password_reset_token.check_token(user, token):
        return None
    return user
