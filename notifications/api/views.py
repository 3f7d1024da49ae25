from django.db.models import QuerySet
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.serializers import BaseSerializer

from notifications import selectors, services
from notifications.api.filters import NotificationFilter
from notifications.api.serializers import (
    NotificationPreferenceSerializer,
    NotificationSerializer,
    ReadAllResultSerializer,
    UnreadCountSerializer,
    WaitlistEntrySerializer,
)
from notifications.models import Notification, WaitlistEntry
from users.api.permissions import IsPatient

UNAUTHORIZED = OpenApiResponse(description="No or invalid access token.")
NOT_FOUND = OpenApiResponse(description="No such notification, or not yours.")
BAD_REQUEST = OpenApiResponse(description="Validation error: a map of field names to messages.")
FORBIDDEN_NOT_PATIENT = OpenApiResponse(description="Only patients have a waitlist.")
CONFLICT = OpenApiResponse(description='`{"detail", "code": "already_exists"}`: the same entry already exists.')


@extend_schema_view(
    list=extend_schema(
        summary="List my notifications",
        description="The caller's notifications, newest first. Filter with `is_read=true|false`.",
        responses={200: NotificationSerializer(many=True), 400: BAD_REQUEST, 401: UNAUTHORIZED},
    ),
    retrieve=extend_schema(
        summary="Read one notification",
        description="Returns the notification and marks it read (a HEAD request does not).",
        responses={200: NotificationSerializer, 401: UNAUTHORIZED, 404: NOT_FOUND},
    ),
)
class NotificationViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """The caller's in-app notifications."""

    serializer_class = NotificationSerializer
    permission_classes = [IsAuthenticated]
    filter_backends = [DjangoFilterBackend]
    filterset_class = NotificationFilter
    lookup_value_regex = r"[0-9]+"

    def get_queryset(self) -> QuerySet[Notification]:
        if getattr(self, "swagger_fake_view", False):
            return Notification.objects.none()
        return selectors.notification_list(user=self.request.user)

    def retrieve(self, request: Request, *args: object, **kwargs: object) -> Response:
        notification = self.get_object()
        # DRF routes HEAD here too; HEAD is a safe method (RFC 9110), so only a GET counts as reading it.
        if request.method == "GET":
            notification = services.notification_mark_read(notification=notification)
        return Response(NotificationSerializer(notification).data)

    @extend_schema(
        summary="Mark one notification read",
        request=None,
        responses={200: NotificationSerializer, 401: UNAUTHORIZED, 404: NOT_FOUND},
    )
    @action(detail=True, methods=["post"])
    def read(self, request: Request, pk: str | None = None) -> Response:
        """Mark this notification read (idempotent)."""
        notification = services.notification_mark_read(notification=self.get_object())
        return Response(NotificationSerializer(notification).data)

    @extend_schema(
        summary="Mark all my notifications read",
        request=None,
        responses={200: ReadAllResultSerializer, 401: UNAUTHORIZED},
    )
    @action(detail=False, methods=["post"], url_path="read-all", filterset_class=None, pagination_class=None)
    def read_all(self, request: Request) -> Response:
        """Mark every unread notification of the caller read; returns how many changed."""
        return Response({"updated": services.notifications_mark_all_read(user=request.user)})

    @extend_schema(
        summary="Count my unread notifications",
        responses={200: UnreadCountSerializer, 401: UNAUTHORIZED},
    )
    @action(detail=False, methods=["get"], url_path="unread-count", filterset_class=None, pagination_class=None)
    def unread_count(self, request: Request) -> Response:
        """How many of the caller's notifications are unread."""
        return Response({"unread": selectors.notification_unread_count(user=request.user)})

    @extend_schema(
        methods=["GET"],
        summary="My notification preferences",
        responses={200: NotificationPreferenceSerializer, 401: UNAUTHORIZED},
    )
    @extend_schema(
        methods=["PATCH"],
        summary="Change my notification preferences",
        request=NotificationPreferenceSerializer,
        responses={200: NotificationPreferenceSerializer, 400: BAD_REQUEST, 401: UNAUTHORIZED},
    )
    @action(
        detail=False,
        methods=["get", "patch"],
        serializer_class=NotificationPreferenceSerializer,
        filterset_class=None,
        pagination_class=None,
    )
    def preferences(self, request: Request) -> Response:
        """Email and reminder switches (both on until changed)."""
        if request.method == "GET":
            preference = services.notification_preference_get(user=request.user)
            return Response(NotificationPreferenceSerializer(preference).data)
        serializer = NotificationPreferenceSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        preference = services.notification_preference_update(user=request.user, **serializer.validated_data)
        return Response(NotificationPreferenceSerializer(preference).data)


@extend_schema_view(
    list=extend_schema(
        summary="List my waitlist entries",
        responses={200: WaitlistEntrySerializer(many=True), 401: UNAUTHORIZED, 403: FORBIDDEN_NOT_PATIENT},
    ),
    create=extend_schema(
        summary="Join a doctor's waitlist",
        description="Get a `slot_opened` notification when an appointment of this doctor between `start_date` and "
        "`end_date` (inclusive, the doctor's local dates, at most 62 days apart, not in the past) is freed.",
        responses={
            201: WaitlistEntrySerializer,
            400: BAD_REQUEST,
            401: UNAUTHORIZED,
            403: FORBIDDEN_NOT_PATIENT,
            409: CONFLICT,
        },
    ),
    destroy=extend_schema(
        summary="Leave a waitlist",
        parameters=[OpenApiParameter("id", OpenApiTypes.INT, OpenApiParameter.PATH)],
        responses={
            204: OpenApiResponse(description="Removed."),
            401: UNAUTHORIZED,
            403: FORBIDDEN_NOT_PATIENT,
            404: OpenApiResponse(description="No such entry, or not yours."),
        },
    ),
)
class WaitlistEntryViewSet(
    mixins.ListModelMixin, mixins.CreateModelMixin, mixins.DestroyModelMixin, viewsets.GenericViewSet
):
    """A patient's waitlist entries."""

    serializer_class = WaitlistEntrySerializer
    permission_classes = [IsPatient]
    filter_backends: list = []
    lookup_value_regex = r"[0-9]+"

    def get_queryset(self) -> QuerySet[WaitlistEntry]:
        if getattr(self, "swagger_fake_view", False):
            return WaitlistEntry.objects.none()
        return selectors.waitlist_entry_list(patient=self.request.user)

    def perform_create(self, serializer: BaseSerializer) -> None:
        serializer.instance = services.waitlist_entry_create(patient=self.request.user, **serializer.validated_data)

    def perform_destroy(self, instance: WaitlistEntry) -> None:
        services.waitlist_entry_delete(entry=instance)
