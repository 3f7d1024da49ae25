import pytest
from rest_framework.response import Response
from rest_framework.test import APIRequestFactory, force_authenticate
from rest_framework.views import APIView

pytestmark = pytest.mark.django_db


class ScopedView(APIView):
    throttle_scope = "login"

    def get(self, request):
        return Response({})


class UnscopedView(APIView):
    def get(self, request):
        return Response({})


@pytest.fixture
def login_rate(settings):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"anon": None, "user": None, "login": "2/min"},
    }


def get(view: type[APIView], user, address: str) -> int:
    request = APIRequestFactory().get("/", REMOTE_ADDR=address)
    force_authenticate(request, user)
    return view.as_view()(request).status_code


def test_scoped_throttle_counts_per_client_address_whoever_is_signed_in(login_rate, patient, doctor, other_patient):
    # DRF's ScopedRateThrottle would give each signed-in user their own count.
    assert [get(ScopedView, u, "198.51.100.1") for u in (patient, doctor, other_patient)] == [200, 200, 429]
    assert get(ScopedView, patient, "198.51.100.2") == 200


def test_view_without_a_scope_is_not_scope_throttled(login_rate, patient):
    assert {get(UnscopedView, patient, "198.51.100.1") for _ in range(5)} == {200}


def test_scope_rate_read_at_request_time(settings, login_rate, patient):
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {"login": None}}
    assert {get(ScopedView, patient, "198.51.100.1") for _ in range(5)} == {200}
