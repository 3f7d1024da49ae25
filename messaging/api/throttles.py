from rest_framework.permissions import SAFE_METHODS
from rest_framework.request import Request
from rest_framework.throttling import UserRateThrottle
from rest_framework.views import APIView

from cybermed.api.throttles import SettingsRateMixin


class MessagingWriteThrottle(SettingsRateMixin, UserRateThrottle):
    """Per user, on writes only (`THROTTLE_MESSAGING`): every message is a push and maybe an email."""

    scope = "messaging"

    def allow_request(self, request: Request, view: APIView) -> bool:
        return request.method in SAFE_METHODS or super().allow_request(request, view)
