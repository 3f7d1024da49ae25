from rest_framework.permissions import BasePermission
from rest_framework.request import Request
from rest_framework.views import APIView

from consultations.models import Consultation


class IsConsultationDoctor(BasePermission):
    """Only the doctor who wrote the record may amend it (others who can see it get 403)."""

    message = "Only the doctor who wrote this consultation can change it."

    def has_object_permission(self, request: Request, view: APIView, obj: Consultation) -> bool:
        return obj.doctor_id == request.user.pk


class IsConsultationParticipant(BasePermission):
    message = "Only the consultation's doctor and patient can see its revisions."

    def has_object_permission(self, request: Request, view: APIView, obj: Consultation) -> bool:
        return request.user.pk in (obj.doctor_id, obj.patient_id)
