"""Security tests authenticate with real signed JWTs (never force_authenticate)."""

from collections.abc import Callable

import pytest
from django.contrib.admin.sites import AdminSite
from django.test import Client
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import RefreshToken

from users.models import User


def access_token_for(user: User) -> str:
    return str(RefreshToken.for_user(user).access_token)


@pytest.fixture
def bearer() -> Callable[[User], APIClient]:
    """An APIClient that sends `Authorization: Bearer <a real access token for user>`."""

    def make(user: User) -> APIClient:
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {access_token_for(user)}")
        return client

    return make


@pytest.fixture
def crashing_admin(monkeypatch, staff) -> Callable[[Exception], Client]:
    """A staff member's browser session on an admin whose pages raise `error`: a crash outside DRF."""

    def make(error: Exception) -> Client:
        def boom(self, request):
            raise error

        monkeypatch.setattr(AdminSite, "each_context", boom)
        client = Client(raise_request_exception=False)
        client.force_login(staff)
        return client

    return make
