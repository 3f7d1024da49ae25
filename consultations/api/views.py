from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
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
from cybermed.api.schema import conflict
from cybermed.exceptions import AlreadyExists, InvalidTransition
from users.api.permissions import IsDoctor, IsPatient


@extend_schema_view(
    create=extend_schema(
        request=ConsultationCreateSerializer,
        responses={201: ConsultationSerializer, 409: conflict(AlreadyExists, InvalidTransition)},
    ),
    update=extend_schema(request=ConsultationUpdateSerializer),
    partial_update=extend_schema(request=ConsultationUpdateSerializer),
)
class ConsultationViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.UpdateModelMixin, viewsets.GenericViewSet
):
    """Consultation records. There is no DELETE (405): medical records are amended, never deleted.

    Every read, create and change is recorded in the access audit (who, when, client IP).

    partial_update:
    Amend a consultation (some clinical fields)

    Its doctor only. The previous version is kept; see `revisions`.
    """

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
        }.get(self.action, [])
        return [permission() for permission in [*self.permission_classes, *extra]]

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
        """List your consultations

        A doctor gets the ones they wrote, a patient the ones about them, newest first. Staff read
        consultations in the admin (403 here). Every record returned is recorded in the access audit.
        """
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        # One audit row per record returned, so "who saw this patient's record" has a direct answer.
        self._audit(page, AccessAction.LIST)
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    def retrieve(self, request: Request, pk: str) -> Response:
        """One consultation

        Its doctor, its patient, or staff. Recorded in the access audit (who, when, client IP).
        """
        consultation = self.get_object()
        self._audit([consultation], AccessAction.VIEW)
        return Response(self.get_serializer(consultation).data)

    def create(self, request: Request) -> Response:
        """Write the consultation for an appointment

        Doctors only, for their own appointment (someone else's appointment is reported as
        `No such appointment.` on the `appointment` field) in status `confirmed` or `completed`; any other
        status → 409 `invalid_transition`. One per appointment: a second → 409 `already_exists`.
        `review_date` cannot be before the appointment's date in the doctor's time zone.
        """
        serializer = ConsultationCreateSerializer(data=request.data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        content = dict(serializer.validated_data)
        consultation = services.consultation_create(
            appointment=content.pop("appointment"), actor=request.user, client_ip=client_ip(request), **content
        )
        return Response(ConsultationSerializer(consultation).data, status=status.HTTP_201_CREATED)

    def update(self, request: Request, pk: str, partial: bool = False) -> Response:
        """Amend a consultation (all clinical fields)

        Its doctor only. The previous version is kept; see `revisions`.
        """
        consultation = self.get_object()
        serializer = ConsultationUpdateSerializer(data=request.data, partial=partial)
        serializer.is_valid(raise_exception=True)
        consultation = services.consultation_update(
            consultation=consultation, actor=request.user, client_ip=client_ip(request), **serializer.validated_data
        )
        return Response(ConsultationSerializer(consultation).data)

    @extend_schema(responses=ConsultationRevisionSerializer(many=True), filters=False)
    @action(
        detail=True,
        methods=["get"],
        filterset_class=None,
        ordering_fields=None,
        permission_classes=[IsAuthenticated, IsConsultationParticipant],
    )
    def revisions(self, request: Request, pk: str) -> Response:
        """Earlier versions of a consultation

        Every change, oldest first: who made it, when, which fields changed and their values before the
        change. Its doctor and its patient only (staff use the admin). Recorded in the access audit.
        """
        consultation = self.get_object()
        self._audit([consultation], AccessAction.HISTORY)
        page = self.paginate_queryset(selectors.consultation_revisions(consultation=consultation))
        return self.get_paginated_response(ConsultationRevisionSerializer(page, many=True).data)
