"""Bearer-token authentication that turns every token it cannot use into a 401."""

from drf_spectacular.contrib.rest_framework_simplejwt import SimpleJWTScheme
from rest_framework_simplejwt import authentication
from rest_framework_simplejwt.exceptions import InvalidToken
from rest_framework_simplejwt.settings import api_settings as jwt_settings
from rest_framework_simplejwt.tokens import Token

from users import user_cache
from users.models import User
from users.tokens import user_id_from_claim


class JWTAuthentication(authentication.JWTAuthentication):
    """simplejwt's, except that a `user_id` claim that is not an id ("abc", 3.5, a list) is a 401, not a 500,
    and that the user is read from `users.user_cache` when it holds them (only active users are cached).

    Only a holder of the signing key can mint such a token, but a 500 would still hide a leaked key or
    a bug in another issuer, and a lookup with garbage must not reach the database.
    """

    def get_user(self, validated_token: Token) -> User:
        user_id = user_id_from_claim(validated_token.get(jwt_settings.USER_ID_CLAIM))
        if user_id is None:
            raise InvalidToken("Token contained no recognizable user identification")
        user = user_cache.recall(user_id)
        if user is None:
            user = super().get_user(validated_token)  # raises for an unknown or inactive user
            user_cache.remember(user)
        return user


class JWTScheme(SimpleJWTScheme):
    """The OpenAPI security scheme of simplejwt's class (`jwtAuth`, Bearer), for this subclass."""

    target_class = JWTAuthentication
