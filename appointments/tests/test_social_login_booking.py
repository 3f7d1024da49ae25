"""A mobile client signs in with a Google ID token (a real one, from a local OpenID provider) and books."""

import datetime as dt
from collections.abc import Iterator

import pytest

from appointments.models import AvailabilityRule
from appointments.tests.factories import next_slot
from users.models import User
from users.tests import oidc_provider
from users.tests.factories import DoctorFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def google(settings) -> Iterator[oidc_provider.OidcProvider]:
    provider = oidc_provider.start()
    settings.SOCIAL_AUTH = {
        "google": {"issuer": provider.issuer, "client_ids": oidc_provider.CLIENT_ID, "jwks_url": provider.jwks_url}
    }
    yield provider
    oidc_provider.stop(provider)


def test_mobile_client_signs_in_with_google_and_books(api_client, google):
    doctor = DoctorFactory()
    start = next_slot(days=2, hour=10)
    AvailabilityRule.objects.create(doctor=doctor, weekday=start.weekday(), start_time=dt.time(9), end_time=dt.time(12))
    signed_in = api_client.post("/api/auth/social/google/", {"id_token": google.token()}, format="json")
    assert signed_in.status_code == 200

    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {signed_in.json()['access']}")
    r = api_client.post(
        "/api/appointments/",
        {"doctor": doctor.pk, "start": start.isoformat(), "reason_for_visit": "Check-up"},
        format="json",
    )

    assert r.status_code == 201, r.json()
    assert r.json()["patient"]["id"] == User.objects.get(email="ada@example.com").pk
