from django.conf import settings
from django.db.models import QuerySet
from django.http import Http404, HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.utils.urls import replace_query_param
from rest_framework.views import APIView

from cybermed.api.fields import MAX_ID, integer_from_json
from cybermed.api.idempotency import idempotent
from cybermed.api.lists import ValuesListMixin
from messaging import selectors, services
from messaging.api.pagination import MessageCursorPagination
from messaging.api.permissions import IsPatientOrDoctor
from messaging.api.serializers import (
    MessageCreateSerializer,
    MessageSerializer,
    ReadResultSerializer,
    ReadSerializer,
    ThreadOpenSerializer,
    ThreadRows,
    ThreadSerializer,
    message_json_of,
)
from messaging.api.throttles import MessagingWriteThrottle
from messaging.exceptions import NotAllowed
from messaging.models import Message, Thread

THROTTLES = [*api_settings.DEFAULT_THROTTLE_CLASSES, MessagingWriteThrottle]
AFTER = OpenApiParameter(
    "after",
    OpenApiTypes.INT,
    description="Catch-up after a reconnect: only messages with a larger id, oldest first "
    "(follow `next` until it is null). Replaces the cursor.",
)


def _after_param(request: Request) -> int | None:
    raw = request.query_params.get("after")
    if raw is None:
        return None
    value = integer_from_json(raw)
    if value is None or not 0 <= value <= MAX_ID:
        raise ValidationError({"after": "Must be a message id (an integer, 0 or more)."})
    return value


class ThreadViewSet(ValuesListMixin, mixins.ListModelMixin, viewsets.GenericViewSet):
    """Message threads between a patient and their doctor.

    list:
    List my message threads

    Most recent activity first, each with its last message and how many messages I have not read.
    """

    serializer_class = ThreadSerializer
    list_rows = ThreadRows
    permission_classes = [IsPatientOrDoctor]
    throttle_classes = THROTTLES
    filter_backends: list = []  # nothing to filter or sort by: the order is the product
    lookup_value_regex = r"[0-9]+"

    def get_queryset(self) -> QuerySet[Thread]:
        if getattr(self, "swagger_fake_view", False):
            return Thread.objects.none()
        if self.action == "list":
            return selectors.thread_list(user=self.request.user)
        # The actions on one thread use only its ids: no unread count, last message or users to load
        # (a message POST is the hot path of live chat).
        return selectors.threads_of(user=self.request.user)

    def list_scope(self, rows: ThreadRows) -> QuerySet:
        return selectors.thread_list(user=self.request.user, base=rows.values_base())

    @extend_schema(request=ThreadOpenSerializer, responses={200: ThreadSerializer, 201: ThreadSerializer})
    def create(self, request: Request) -> Response:
        """Open a thread with my doctor or patient

        A patient gives `doctor`, a doctor gives `patient`. 201 with a new thread, 200 with the existing
        one (there is one per patient and doctor). Only people who share an appointment (in any status)
        can message each other: 403 otherwise.
        """
        serializer = ThreadOpenSerializer(data=request.data, context={"request": request})
        serializer.is_valid(raise_exception=True)
        try:
            thread, created = services.thread_open(
                user=request.user, counterpart=serializer.validated_data["counterpart"]
            )
        except NotAllowed as exc:
            raise PermissionDenied(str(exc)) from exc
        body = ThreadSerializer(selectors.thread_get(user=request.user, pk=thread.pk)).data
        return Response(body, status=status.HTTP_201_CREATED if created else status.HTTP_200_OK)

    @extend_schema(methods=["GET"], parameters=[AFTER], responses={200: MessageSerializer(many=True)})
    @extend_schema(methods=["POST"], request=MessageCreateSerializer, responses={201: MessageSerializer})
    @action(detail=True, methods=["get", "post"], pagination_class=MessageCursorPagination)
    @idempotent
    def messages(self, request: Request, pk: str | None = None) -> Response:
        """The messages of a thread

        GET: newest first, a page at a time (`next` carries the cursor); `?after=<id>` instead returns
        the messages newer than that id, oldest first, to catch up after a reconnect. POST: send a
        message (plain text, 1-5,000 characters); both participants' open sockets get it as
        `message.created` (docs/realtime.md). A POST retried with the same `Idempotency-Key` is sent once.
        """
        if request.method == "POST":
            return self._post_message(request, pk)
        thread = self.get_object()
        messages = selectors.message_list(thread=thread)
        after = _after_param(request)
        if after is not None:
            return self._catch_up(request, messages, after)
        page = self.paginate_queryset(messages)
        return self.get_paginated_response(MessageSerializer(page, many=True).data)

    def _post_message(self, request: Request, pk: str | None) -> Response:
        # No get_object: the service finds the thread among the sender's and locks it in one query (live chat's
        # hot path). So a bad body is a 400 even on someone else's thread, which tells nothing about that thread.
        serializer = MessageCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            message = services.message_post(thread_id=pk, sender=request.user, body=serializer.validated_data["body"])
        except Thread.DoesNotExist as exc:
            raise Http404 from exc
        return Response(message_json_of(message), status=status.HTTP_201_CREATED)

    def _catch_up(self, request: Request, messages: QuerySet[Message], after: int) -> Response:
        size = MessageCursorPagination().get_page_size(request)
        rows = list(messages.filter(pk__gt=after).order_by("pk")[: size + 1])
        more, rows = len(rows) > size, rows[:size]
        next_url = None
        if more:
            next_url = replace_query_param(request.build_absolute_uri(), "after", rows[-1].pk)
        return Response({"next": next_url, "previous": None, "results": MessageSerializer(rows, many=True).data})

    @extend_schema(request=ReadSerializer, responses={200: ReadResultSerializer})
    @action(detail=True, methods=["post"])
    def read(self, request: Request, pk: str | None = None) -> Response:
        """Mark a thread read up to a message

        Moves my read watermark forward to `up_to` (never back); the other participant's sockets get
        `thread.read` (a read receipt).
        """
        thread = self.get_object()
        serializer = ReadSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        up_to = services.thread_mark_read(thread=thread, user=request.user, up_to=serializer.validated_data["up_to"])
        unread = selectors.thread_get(user=request.user, pk=thread.pk).unread
        return Response(ReadResultSerializer({"thread_id": thread.pk, "up_to": up_to, "unread": unread}).data)


class MessageViewSet(viewsets.GenericViewSet):
    """Single messages."""

    queryset = Message.objects.none()  # only for the schema; rows are picked by the selector
    serializer_class = MessageSerializer
    permission_classes = [IsPatientOrDoctor]
    throttle_classes = THROTTLES
    filter_backends: list = []
    lookup_value_regex = r"[0-9]+"

    @extend_schema(request=None, responses={200: MessageSerializer})
    @action(detail=True, methods=["post"])
    def retract(self, request: Request, pk: str | None = None) -> Response:
        """Retract a message I sent

        Its body is hidden from everyone from then on (`status: "retracted"`, `body: ""`); messages are
        never edited or deleted. Only the sender may (403 for the other participant).
        """
        message = selectors.message_get(user=request.user, pk=int(pk))
        if message is None:
            raise Http404
        try:
            message = services.message_retract(message=message, by=request.user)
        except NotAllowed as exc:
            raise PermissionDenied(str(exc)) from exc
        return Response(MessageSerializer(message).data)


class RealtimeProtocolView(APIView):
    """docs/realtime.md, so that the Swagger page can link to the socket's protocol."""

    authentication_classes: list = []
    permission_classes = [AllowAny]
    schema = None  # a document, not an operation of the API

    def get(self, request: Request) -> HttpResponse:
        path = settings.BASE_DIR / "docs" / "realtime.md"
        if not path.is_file():
            raise Http404
        return HttpResponse(path.read_text(encoding="utf-8"), content_type="text/markdown; charset=utf-8")
