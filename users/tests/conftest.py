from collections.abc import Callable

import pytest

from users.models import User
from users.tests.factories import DEFAULT_PASSWORD


@pytest.fixture
def tokens_for(api_client) -> Callable[[User], dict[str, str]]:
    """Log `user` in through the API and return the token pair."""

    def login(user: User) -> dict[str, str]:
        response = api_client.post("/api/auth/login/", {"email": user.email, "password": DEFAULT_PASSWORD})
        assert response.status_code == 200, response.content
        return response.json()

    return login
