from django.conf import settings
from django.db.models import QuerySet
from django.http import QueryDict
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.parsers import FormParser
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.serializers import BaseSerializer
from rest_framework.views import APIView

from cybermed.api.filters import FilterBackend
from cybermed.api.lists import ValuesListMixin
from cybermed.api.schema import conflict, error
from cybermed.exceptions import AlreadyExists
from notifications import selectors, services
from notifications.api.filters import NotificationFilter
from notifications.api.serializers import (
    NotificationPreferenceSerializer,
    NotificationRows,
    NotificationSerializer,
    ReadAllResultSerializer,
    TwilioStatusSerializer,
    UnreadCountSerializer,
    WaitlistEntrySerializer,
)
from notifications.models import Notification, WaitlistEntry
from notifications.sms import twilio_signature
from notifications.sms.backends.twilio import twilio_status
from users.api.permissions import IsPatient


class NotificationViewSet(ValuesListMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """The caller's in-app notifications.

    list:
    List my notifications

    The caller's notifications, newest first. Filter with `is_read=true|false`.
    """

    serializer_class = NotificationSerializer
    list_rows = NotificationRows
    permission_classes = [IsAuthenticated]
    filter_backends = [FilterBackend]
    filterset_class = NotificationFilter
    lookup_value_regex = r"[0-9]+"

    def get_queryset(self) -> QuerySet[Notification]:
        if getattr(self, "swagger_fake_view", False):
            return Notification.objects.none()
        return selectors.notification_list(user=self.request.user)

    def retrieve(self, request: Request, *args: object, **kwargs: object) -> Response:
        """Read one notification

        Returns the notification and marks it read (a HEAD request does not: HEAD is a safe method).
        """
        notification = self.get_object()
        # DRF routes HEAD here too; only a GET counts as reading it.
        if request.method == "GET":
            notification = services.notification_mark_read(notification=notification)
        return Response(NotificationSerializer(notification).data)

    @extend_schema(request=None)
    @action(detail=True, methods=["post"])
    def read(self, request: Request, pk: str | None = None) -> Response:
        """Mark one notification read

        Idempotent: a notification already read stays read.
        """
        notification = services.notification_mark_read(notification=self.get_object())
        return Response(NotificationSerializer(notification).data)

    @extend_schema(request=None)
    @action(
        detail=False,
        methods=["post"],
        url_path="read-all",
        serializer_class=ReadAllResultSerializer,
        filterset_class=None,
        pagination_class=None,
    )
    def read_all(self, request: Request) -> Response:
        """Mark all my notifications read

        Marks every unread notification of the caller read; returns how many changed.
        """
        return Response({"updated": services.notifications_mark_all_read(user=request.user)})

    @action(
        detail=False,
        methods=["get"],
        url_path="unread-count",
        serializer_class=UnreadCountSerializer,
        filterset_class=None,
        pagination_class=None,
    )
    def unread_count(self, request: Request) -> Response:
        """Count my unread notifications"""
        return Response({"unread": selectors.notification_unread_count(user=request.user)})

    @action(
        detail=False,
        methods=["get"],
        serializer_class=NotificationPreferenceSerializer,
        filterset_class=None,
        pagination_class=None,
    )
    def preferences(self, request: Request) -> Response:
        """My notification preferences

        Email and reminder switches (both on until changed), and SMS (off until the user opts in: then
        confirmations and reminders also go by text to `phone_number`, without medical details).
        """
        preference = services.notification_preference_get(user=request.user)
        return Response(NotificationPreferenceSerializer(preference).data)

    @preferences.mapping.patch
    def change_preferences(self, request: Request) -> Response:
        """Change my notification preferences

        Send only the switches to change.
        """
        serializer = NotificationPreferenceSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        preference = services.notification_preference_update(user=request.user, **serializer.validated_data)
        return Response(NotificationPreferenceSerializer(preference).data)


@extend_schema_view(
    create=extend_schema(responses={201: WaitlistEntrySerializer, 409: conflict(AlreadyExists)}),
    destroy=extend_schema(parameters=[OpenApiParameter("id", OpenApiTypes.INT, OpenApiParameter.PATH)]),
)
class WaitlistEntryViewSet(
    mixins.ListModelMixin, mixins.CreateModelMixin, mixins.DestroyModelMixin, viewsets.GenericViewSet
):
    """A patient's waitlist entries.

    list:
    List my waitlist entries

    create:
    Join a doctor's waitlist

    Get a `slot_opened` notification when an appointment of this doctor between `start_date` and
    `end_date` (inclusive, the doctor's local dates, at most 62 days apart, not in the past) is freed. The
    same entry twice → 409 `already_exists`.

    destroy:
    Leave a waitlist
    """

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


class TwilioStatusCallbackView(APIView):
    """Twilio's delivery reports for the SMS we sent."""

    authentication_classes: list = []
    permission_classes = [AllowAny]
    parser_classes = [FormParser]

    @extend_schema(
        request=TwilioStatusSerializer,
        responses={204: None, 403: error("The X-Twilio-Signature header is missing or wrong.")},
    )
    def post(self, request: Request) -> Response:
        """Twilio SMS status callback

        Called by Twilio (form-encoded), not by clients: the `StatusCallback` of every SMS we send. The
        `X-Twilio-Signature` header must be Twilio's HMAC-SHA1 of `SITE_URL` + this path and the sorted
        form fields under `TWILIO_AUTH_TOKEN`, else 403. Reports for unknown messages or statuses are
        accepted and ignored (204), so Twilio does not retry them.
        """
        # A form body is a QueryDict (names may repeat); no body at all is DRF's empty dict.
        form = request.data if isinstance(request.data, QueryDict) else QueryDict()
        params = [(name, value) for name, values in form.lists() for value in values]
        signed = twilio_signature.is_valid(
            auth_token=settings.TWILIO_AUTH_TOKEN,
            url=settings.SITE_URL + request.get_full_path(),
            params=params,
            header=request.headers.get("X-Twilio-Signature", ""),
        )
        if not signed:
            raise PermissionDenied("Invalid Twilio signature.")
        report = TwilioStatusSerializer(data=form)
        report.is_valid(raise_exception=True)
        ours = twilio_status(report.validated_data["MessageStatus"])
        if ours is not None:
            code = report.validated_data["ErrorCode"]
            services.sms_delivery_report(
                provider_id=report.validated_data["MessageSid"],
                status=ours,
                error=f"Twilio error {code}" if code else "",
            )
        return Response(status=status.HTTP_204_NO_CONTENT)
