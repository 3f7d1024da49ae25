"""API permissions read from the one transitions table (appointments.services.TRANSITIONS).

They only turn away callers who could never make a move of that kind (a patient confirming, staff
completing); the service decides for the actual appointment (participant, status, time).
"""

from rest_framework.permissions import BasePermission
from rest_framework.request import Request
from rest_framework.views import APIView

from appointments import services
from appointments.events import AppointmentEventKind


def may_make(event: AppointmentEventKind) -> type[BasePermission]:
    allowed = services.roles_allowed(event)
    names = " and ".join(sorted(f"{role}s" if role != services.STAFF else "staff" for role in allowed))

    class MayMake(BasePermission):
        message = f"Only {names} can do this."

        def has_permission(self, request: Request, view: APIView) -> bool:
            user = request.user
            return bool(user and user.is_authenticated and services.roles_of(user) & allowed)

    MayMake.__name__ = f"MayMake{event.name.title().replace('_', '')}"
    return MayMake
