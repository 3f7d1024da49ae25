"""Role checks shared by every app's API. Object scoping is done by querysets, not here."""

from rest_framework.permissions import BasePermission
from rest_framework.request import Request
from rest_framework.views import APIView

from users.choices import Role


class IsPatient(BasePermission):
    message = "Only patients can do this."

    def has_permission(self, request: Request, view: APIView) -> bool:
        return bool(request.user and request.user.is_authenticated and request.user.role == Role.PATIENT)


class IsDoctor(BasePermission):
    message = "Only doctors can do this."

    def has_permission(self, request: Request, view: APIView) -> bool:
        return bool(request.user and request.user.is_authenticated and request.user.role == Role.DOCTOR)


class IsStaff(BasePermission):
    message = "Only staff can do this."

    def has_permission(self, request: Request, view: APIView) -> bool:
        return bool(request.user and request.user.is_authenticated and request.user.is_staff)


class IsDoctorOrStaff(BasePermission):
    message = "Only doctors and staff can do this."

    def has_permission(self, request: Request, view: APIView) -> bool:
        user = request.user
        return bool(user and user.is_authenticated and (user.is_staff or user.role == Role.DOCTOR))
