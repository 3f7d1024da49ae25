"""Domain errors raised by services become the API's JSON answers in the one exception handler."""

import pytest
from django.core.exceptions import PermissionDenied
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.test import APIRequestFactory
from rest_framework.views import APIView

from cybermed.exceptions import AuthenticationError


def raising(error: Exception, *, authenticators: list | None = None) -> APIView:
    class Raising(APIView):
        permission_classes = [AllowAny]

        def get(self, request: Request) -> Response:
            raise error

    if authenticators is not None:
        Raising.authentication_classes = authenticators
    return Raising.as_view()


def call(view: APIView) -> Response:
    response = view(APIRequestFactory().get("/api/x/"))
    response.render()
    return response


def test_authentication_error_is_401_with_detail_code_and_the_views_challenge():
    response = call(raising(AuthenticationError("Nope.", "invalid_credentials")))

    assert (response.status_code, response.data) == (401, {"detail": "Nope.", "code": "invalid_credentials"})
    assert response["WWW-Authenticate"] == 'Bearer realm="api"'


def test_authentication_error_without_a_scheme_to_name_is_403_as_in_drf():
    response = call(raising(AuthenticationError(), authenticators=[]))

    assert response.status_code == 403
    assert response.data == {"detail": "Incorrect authentication credentials.", "code": "authentication_failed"}
    assert "WWW-Authenticate" not in response


@pytest.mark.parametrize("args", [("Only participants can write notes.",), ()])
def test_django_permission_denied_from_a_service_is_403_json(args):
    response = call(raising(PermissionDenied(*args)))

    assert response.status_code == 403
    assert response["Content-Type"].startswith("application/json")
    assert response.data == {"detail": args[0] if args else "You do not have permission to perform this action."}
