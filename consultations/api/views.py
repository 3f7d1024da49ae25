from django.db.models import QuerySet
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view, inline_serializer
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import BasePermission, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response

from consultations import selectors, services
from consultations.api.filters import ConsultationFilter
from consultations.api.permissions import IsConsultationDoctor, IsConsultationParticipant
from consultations.api.serializers import (
    ConsultationCreateSerializer,
    ConsultationRevisionSerializer,
    ConsultationSerializer,
    ConsultationUpdateSerializer,
)
from consultations.audit import access_log_record, client_ip
from consultations.choices import AccessAction, AccessChannel
from consultations.models import Consultation
from users.api.permissions import IsDoctor, IsPatient

ConflictSerializer = inline_serializer(
    "ConsultationConflict", fields={"detail": serializers.CharField(), "code": serializers.CharField()}
)
BAD_REQUEST = OpenApiResponse(description="Validation errors keyed by field (DRF's field map).")
UNAUTHENTICATED = OpenApiResponse(description="No or invalid access token.")
NOT_FOUND = OpenApiResponse(description="No such consultation, or not yours (the two are indistinguishable).")
FORBIDDEN_LIST = OpenApiResponse(description="Not a doctor or patient (staff read consultations in the admin).")
FORBIDDEN_WRITE = OpenApiResponse(description="You can see this consultation but only its doctor can change it.")
AUDITED = "Every read, create and change is recorded in the access audit (who, when, client IP)."


@extend_schema_view(
    list=extend_schema(
        summary="List your consultations",
        description="A doctor gets the ones they wrote, a patient the ones about them, newest first. " + AUDITED,
        responses={200: ConsultationSerializer(many=True), 400: BAD_REQUEST, 401: UNAUTHENTICATED, 403: FORBIDDEN_LIST},
    ),
    create=extend_schema(
        summary="Write the consultation for an appointment",
        description=(
            "Doctors only, for their own appointment (someone else's appointment is reported as "
            "`No such appointment.` on the `appointment` field) in status `confirmed` or `completed`; "
            "any other status → 409 `invalid_transition`. One per appointment: a second → 409 `already_exists`. "
            "`review_date` cannot be before the appointment's date in the doctor's time zone."
        ),
        request=ConsultationCreateSerializer,
        responses={
            201: ConsultationSerializer,
            400: BAD_REQUEST,
            401: UNAUTHENTICATED,
            403: OpenApiResponse(description="Not a doctor."),
            409: OpenApiResponse(ConflictSerializer, description="`already_exists` or `invalid_transition`."),
        },
    ),
    retrieve=extend_schema(
        summary="One consultation",
        description="Its doctor, its patient, or staff. " + AUDITED,
        responses={200: ConsultationSerializer, 401: UNAUTHENTICATED, 404: NOT_FOUND},
    ),
    update=extend_schema(
        summary="Amend a consultation (all clinical fields)",
        description="Its doctor only. The previous version is kept; see `revisions`.",
        request=ConsultationUpdateSerializer,
        responses={
            200: ConsultationSerializer,
            400: BAD_REQUEST,
            401: UNAUTHENTICATED,
            403: FORBIDDEN_WRITE,
            404: NOT_FOUND,
        },
    ),
    partial_update=extend_schema(
        summary="Amend a consultation (some clinical fields)",
        description="Its doctor only. The previous version is kept; see `revisions`.",
        request=ConsultationUpdateSerializer,
        responses={
            200: ConsultationSerializer,
            400: BAD_REQUEST,
            401: UNAUTHENTICATED,
            403: FORBIDDEN_WRITE,
            404: NOT_FOUND,
        },
    ),
)
class ConsultationViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.UpdateModelMixin, viewsets.GenericViewSet
):
    """Consultation records. There is no DELETE (405): medical records are amended, never deleted."""

    serializer_class = ConsultationSerializer
    filterset_class = ConsultationFilter
    ordering_fields = ["created_at", "review_date"]
    ordering = ["-created_at", "-id"]

    def get_permissions(self) -> list[BasePermission]:
        extra = {
            "list": [IsDoctor | IsPatient],
            "create": [IsDoctor],
            "update": [IsConsultationDoctor],
            "partial_update": [IsConsultationDoctor],
            "revisions": [IsConsultationParticipant],
        }.get(self.action, [])
        return [permission() for permission in [IsAuthenticated, *extra]]

    def get_queryset(self) -> QuerySet[Consultation]:
        if getattr(self, "swagger_fake_view", False):
            return Consultation.objects.none()
        if self.action == "list":
            return selectors.consultation_list_for(user=self.request.user)
        return selectors.consultation_visible_to(user=self.request.user)

    def _audit(self, consultations: list[Consultation], action: AccessAction) -> None:
        access_log_record(
            actor=self.request.user,
            consultations=consultations,
            action=action,
            channel=AccessChannel.API,
            client_ip=client_ip(self.request),
        )

    def list(self, request: Request) -> Response:
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        # One audit row per record returned, so "who saw this patient's record" has a direct answer.
        self._audit(page, AccessAction.LIST)
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    def retrieve(self, request: Request, pk: str) -> Response:
        consultation = self.get_object()
        self._audit([consultation], AccessAction.VIEW)
        return Response(self.get_serializer(consultation).data)

    def create(self, request: Request) -> Response:
        serializer = ConsultationCreateSerializer(data=request.data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        content = dict(serializer.validated_data)
        consultation = services.consultation_create(
            appointment=content.pop("appointment"), actor=request.user, client_ip=client_ip(request), **content
        )
        return Response(ConsultationSerializer(consultation).data, status=status.HTTP_201_CREATED)

    def update(self, request: Request, pk: str, partial: bool = False) -> Response:
        consultation = self.get_object()
        serializer = ConsultationUpdateSerializer(data=request.data, partial=partial)
        serializer.is_valid(raise_exception=True)
        consultation = services.consultation_update(
            consultation=consultation, actor=request.user, client_ip=client_ip(request), **serializer.validated_data
        )
        return Response(ConsultationSerializer(consultation).data)

    @extend_schema(
        summary="Earlier versions of a consultation",
        description=(
            "Every change, oldest first: who made it, when, which fields changed and their values before the "
            "change. Its doctor and its patient only. " + AUDITED
        ),
        responses={
            200: ConsultationRevisionSerializer(many=True),
            401: UNAUTHENTICATED,
            403: OpenApiResponse(description="Staff: revisions are for the doctor and patient (staff use the admin)."),
            404: NOT_FOUND,
        },
        filters=False,
    )
    @action(detail=True, methods=["get"], filterset_class=None, ordering_fields=None)
    def revisions(self, request: Request, pk: str) -> Response:
        consultation = self.get_object()
        self._audit([consultation], AccessAction.HISTORY)
        page = self.paginate_queryset(selectors.consultation_revisions(consultation=consultation))
        return self.get_paginated_response(ConsultationRevisionSerializer(page, many=True).data)
