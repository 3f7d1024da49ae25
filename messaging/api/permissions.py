from rest_framework.permissions import BasePermission
from rest_framework.request import Request
from rest_framework.views import APIView

from users.choices import Role


class IsPatientOrDoctor(BasePermission):
    # Staff included: messages are between a patient and their doctor, nobody else reads them here.
    message = "Only patients and doctors have message threads."

    def has_permission(self, request: Request, view: APIView) -> bool:
        user = request.user
        return bool(user and user.is_authenticated and user.role in (Role.PATIENT, Role.DOCTOR))
