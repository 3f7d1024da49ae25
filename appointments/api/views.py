from django.db.models import QuerySet
from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
    inline_serializer,
)
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.serializers import BaseSerializer
from rest_framework.views import APIView

from appointments import selectors, services
from appointments.api import serializers as s
from appointments.api.filters import AppointmentFilter
from appointments.models import Appointment, AvailabilityRule, TimeOff
from users.api.permissions import IsDoctor, IsPatient
from users.selectors import doctor_list_visible

CONFLICT = inline_serializer(
    "Conflict",
    {
        "detail": serializers.CharField(),
        "code": serializers.ChoiceField(
            choices=["slot_unavailable", "invalid_transition", "already_exists", "booking_limit"]
        ),
    },
)
ERRORS = {
    400: OpenApiResponse(description="Validation error: a map of field names to messages."),
    401: OpenApiResponse(description="Missing or invalid token."),
    403: OpenApiResponse(description="Wrong role for this operation."),
    404: OpenApiResponse(description="Not found, or not yours."),
}
SLOT_409 = OpenApiResponse(
    CONFLICT,
    description="`slot_unavailable`: the doctor or the patient is already busy, or the time is in the past, "
    "off the doctor's slot grid, outside their availability or in their time off. `booking_limit`: a patient "
    "booking for themselves already holds MAX_ACTIVE_APPOINTMENTS_PER_PATIENT active upcoming appointments "
    "(whoever made them); a doctor booking for a patient is not limited.",
)
TRANSITION_409 = OpenApiResponse(
    CONFLICT, description="`invalid_transition`: not allowed from the current status (or not yet / no longer)."
)


def _errors(*codes: int, **extra: OpenApiResponse) -> dict:
    responses = {code: ERRORS[code] for code in codes}
    responses.update({int(code): response for code, response in extra.items()})
    return responses


# --- Availability and time off ------------------------------------------------------------------


@extend_schema_view(
    list=extend_schema(
        summary="List my weekly availability rules",
        responses={200: s.AvailabilityRuleSerializer(many=True), **_errors(401, 403)},
    ),
    retrieve=extend_schema(
        summary="One of my availability rules", responses={200: s.AvailabilityRuleSerializer, **_errors(401, 403, 404)}
    ),
    create=extend_schema(
        summary="Add a weekly availability rule",
        description="Times are `HH:MM` in the doctor's time zone. Several rules per day are allowed; a rule "
        "overlapping another of the same weekday, or ending before it starts, is a 400.",
        responses={201: s.AvailabilityRuleSerializer, **_errors(400, 401, 403)},
    ),
    update=extend_schema(
        summary="Replace an availability rule",
        responses={200: s.AvailabilityRuleSerializer, **_errors(400, 401, 403, 404)},
    ),
    partial_update=extend_schema(
        summary="Change an availability rule",
        responses={200: s.AvailabilityRuleSerializer, **_errors(400, 401, 403, 404)},
    ),
    destroy=extend_schema(summary="Delete an availability rule", responses={204: None, **_errors(401, 403, 404)}),
)
class AvailabilityRuleViewSet(viewsets.ModelViewSet):
    """A doctor's own weekly availability (doctors only)."""

    serializer_class = s.AvailabilityRuleSerializer
    permission_classes = [IsDoctor]
    filter_backends: list = []

    def get_queryset(self) -> QuerySet[AvailabilityRule]:
        if getattr(self, "swagger_fake_view", False):
            return AvailabilityRule.objects.none()
        return selectors.availability_rules_of(doctor=self.request.user)

    def perform_create(self, serializer: BaseSerializer) -> None:
        serializer.instance = services.availability_rule_create(doctor=self.request.user, **serializer.validated_data)

    def perform_update(self, serializer: BaseSerializer) -> None:
        serializer.instance = services.availability_rule_update(rule=serializer.instance, **serializer.validated_data)

    def perform_destroy(self, instance: AvailabilityRule) -> None:
        services.availability_rule_delete(rule=instance)


@extend_schema_view(
    list=extend_schema(
        summary="List my time off", responses={200: s.TimeOffSerializer(many=True), **_errors(401, 403)}
    ),
    retrieve=extend_schema(
        summary="One period of my time off", responses={200: s.TimeOffSerializer, **_errors(401, 403, 404)}
    ),
    create=extend_schema(
        summary="Add time off",
        description="`start` and `end` are ISO 8601 datetimes with an offset (naive → 400); end must be after start. "
        "Existing appointments in the period are not cancelled automatically.",
        responses={201: s.TimeOffSerializer, **_errors(400, 401, 403)},
    ),
    partial_update=extend_schema(
        summary="Change time off", responses={200: s.TimeOffSerializer, **_errors(400, 401, 403, 404)}
    ),
    destroy=extend_schema(summary="Delete time off", responses={204: None, **_errors(401, 403, 404)}),
)
class TimeOffViewSet(viewsets.ModelViewSet):
    """A doctor's own exceptions to their weekly availability (doctors only)."""

    serializer_class = s.TimeOffSerializer
    permission_classes = [IsDoctor]
    filter_backends: list = []
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    def get_queryset(self) -> QuerySet[TimeOff]:
        if getattr(self, "swagger_fake_view", False):
            return TimeOff.objects.none()
        return selectors.time_off_of(doctor=self.request.user)

    def perform_create(self, serializer: BaseSerializer) -> None:
        serializer.instance = services.time_off_create(doctor=self.request.user, **serializer.validated_data)

    def perform_update(self, serializer: BaseSerializer) -> None:
        serializer.instance = services.time_off_update(time_off=serializer.instance, **serializer.validated_data)

    def perform_destroy(self, instance: TimeOff) -> None:
        services.time_off_delete(time_off=instance)


class DoctorSlotsView(APIView):
    """Free slots of a doctor."""

    permission_classes = [IsAuthenticated]

    @extend_schema(
        summary="Free slots of a doctor",
        description="Bookable slots on the doctor's local dates `start`..`end` (both inclusive, `end` at most 62 days "
        "after `start`, like the waitlist's range; dates within 0001-01-08..9999-12-24): inside "
        "the weekly rules in the doctor's time zone (a 09:00 rule stays 09:00 local across DST changes; wall times "
        "skipped by a spring-forward change are skipped, repeated ones use their first occurrence), cut into "
        "`slot_minutes` from each rule's start, minus time off, active appointments and the past. A plain ordered "
        "array, not paginated. Every slot listed here can be booked with `POST /api/appointments/`.",
        parameters=[
            OpenApiParameter("start", OpenApiTypes.DATE, required=True, description="First local date (YYYY-MM-DD)"),
            OpenApiParameter("end", OpenApiTypes.DATE, required=True, description="Last local date, inclusive"),
        ],
        responses={200: s.SlotSerializer(many=True), **_errors(400, 401, 404)},
    )
    def get(self, request: Request, doctor_id: int) -> Response:
        query = s.SlotQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        doctor = get_object_or_404(doctor_list_visible(), pk=doctor_id)
        slots = selectors.doctor_free_slots(
            profile=doctor.doctor_profile, first=query.validated_data["start"], last=query.validated_data["end"]
        )
        zone = doctor.doctor_profile.zone  # shown with the doctor's own offset: same instants, readable wall times
        rows = [{"start": a.astimezone(zone), "end": b.astimezone(zone)} for a, b in slots]
        return Response(s.SlotSerializer(rows, many=True).data)


# --- Appointments --------------------------------------------------------------------------------


def _action_schema(
    summary: str,
    request: object,
    *codes: int,
    ok: int = 200,
    conflict: OpenApiResponse = TRANSITION_409,
    response: object = s.AppointmentSerializer,
    description: str = "",
) -> object:
    return extend_schema(
        summary=summary,
        description=description,
        request=request,
        responses={ok: response, **_errors(*codes), 409: conflict},
    )


@extend_schema_view(
    list=extend_schema(
        summary="List my appointments",
        description="Patients see theirs, doctors theirs, staff all. Ordered by `start` unless `ordering` is given "
        "(`start`, `end`, `created_at`, `status`; prefix `-` for descending).",
        responses={200: s.AppointmentSerializer(many=True), **_errors(400, 401)},
    ),
    retrieve=extend_schema(summary="One appointment", responses={200: s.AppointmentSerializer, **_errors(401, 404)}),
    create=extend_schema(
        summary="Book an appointment",
        description="A patient sends `{doctor, start, reason_for_visit}` and gets a `pending` appointment one slot "
        "long. A doctor sends `{patient, start, reason_for_visit, end?}` and gets a `confirmed` one; `start` must be "
        "on their slot grid and the whole appointment inside their availability. Datetimes need an offset (naive → "
        "400); unknown or unbookable doctor/patient ids → 400. Anything wrong with the time itself (past, off the "
        "grid, outside availability, time off, someone already busy) → 409 `slot_unavailable`, the same answer a "
        "concurrent booking gets from the database.",
        request=s.AppointmentCreateSerializer,
        responses={201: s.AppointmentSerializer, **_errors(400, 401, 403), 409: SLOT_409},
    ),
    partial_update=extend_schema(
        summary="Edit reason or location",
        description="The patient may change `reason_for_visit` while the appointment is pending; the doctor may "
        "change `location` while it is active. Any other field (status, start, doctor, …) or a field the caller may "
        "not change → 400 naming it; use the actions for status and time changes.",
        request=s.AppointmentUpdateSerializer,
        responses={200: s.AppointmentSerializer, **_errors(400, 401, 403, 404)},
    ),
    destroy=extend_schema(
        summary="Cancel an appointment",
        description="Same as `POST …/cancel/` without a reason; the record stays with status `cancelled`.",
        responses={204: None, **_errors(401, 403, 404), 409: TRANSITION_409},
    ),
)
class AppointmentViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    """Appointments between a patient and a doctor, and every change to them."""

    serializer_class = s.AppointmentSerializer
    filterset_class = AppointmentFilter
    ordering_fields = ["start", "end", "created_at", "status"]
    ordering = ["start", "id"]
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    # Reading is for participants and staff; acting is for participants in the right role.
    READ_ACTIONS = frozenset({"list", "retrieve", "history"})

    def get_permissions(self) -> list:
        roles = {
            "create": [IsPatient | IsDoctor],
            "partial_update": [IsPatient | IsDoctor],
            "destroy": [IsPatient | IsDoctor],
            "cancel": [IsPatient | IsDoctor],
            "reschedule": [IsPatient | IsDoctor],
            "notes": [IsPatient | IsDoctor],
            "confirm": [IsDoctor],
            "complete": [IsDoctor],
            "no_show": [IsDoctor],
            "refer": [IsDoctor],
        }
        return [permission() for permission in roles.get(self.action, [IsAuthenticated])]

    def get_queryset(self) -> QuerySet[Appointment]:
        if getattr(self, "swagger_fake_view", False):
            return Appointment.objects.none()
        user = self.request.user
        if self.action in self.READ_ACTIONS:
            return selectors.appointment_list_visible(user=user)
        return selectors.appointment_list_participating(user=user)

    def create(self, request: Request, *args: object, **kwargs: object) -> Response:
        data = s.AppointmentCreateSerializer(data=request.data, context=self.get_serializer_context())
        data.is_valid(raise_exception=True)
        values = data.validated_data
        user = request.user
        appointment = services.appointment_book(
            doctor=values.get("doctor", user),
            patient=values.get("patient", user),
            start=values["start"],
            end=values.get("end"),
            reason_for_visit=values["reason_for_visit"],
            by=user,
        )
        return self._render(appointment, status.HTTP_201_CREATED)

    def partial_update(self, request: Request, *args: object, **kwargs: object) -> Response:
        appointment = self.get_object()
        data = s.AppointmentUpdateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        appointment = services.appointment_update(appointment=appointment, by=request.user, **data.validated_data)
        return self._render(appointment)

    def destroy(self, request: Request, *args: object, **kwargs: object) -> Response:
        services.appointment_cancel(appointment=self.get_object(), by=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)

    @_action_schema(
        "Confirm (doctor)",
        s.ConfirmSerializer,
        400,
        401,
        403,
        404,
        description="pending → confirmed, before the start. `location` defaults to the clinic address.",
    )
    @action(detail=True, methods=["post"])
    def confirm(self, request: Request, pk: str) -> Response:
        appointment = self.get_object()
        data = self._input(s.ConfirmSerializer)
        appointment = services.appointment_confirm(
            appointment=appointment, by=request.user, location=data.get("location")
        )
        return self._render(appointment)

    @_action_schema("Cancel", s.CancelSerializer, 400, 401, 403, 404, description="pending/confirmed → cancelled.")
    @action(detail=True, methods=["post"])
    def cancel(self, request: Request, pk: str) -> Response:
        appointment = self.get_object()
        data = self._input(s.CancelSerializer)
        appointment = services.appointment_cancel(appointment=appointment, by=request.user, reason=data["reason"])
        return self._render(appointment)

    @_action_schema(
        "Reschedule",
        s.RescheduleSerializer,
        400,
        401,
        403,
        404,
        conflict=OpenApiResponse(CONFLICT, description="`invalid_transition` (not active) or `slot_unavailable`."),
        description="Move a pending/confirmed appointment to another bookable time (same checks as booking). A "
        "patient's reschedule returns it to `pending`; a doctor's keeps the status and the length.",
    )
    @action(detail=True, methods=["post"])
    def reschedule(self, request: Request, pk: str) -> Response:
        appointment = self.get_object()
        data = self._input(s.RescheduleSerializer)
        appointment = services.appointment_reschedule(appointment=appointment, by=request.user, start=data["start"])
        return self._render(appointment)

    @_action_schema(
        "Mark completed (doctor)", None, 401, 403, 404, description="confirmed → completed, once the start has passed."
    )
    @action(detail=True, methods=["post"])
    def complete(self, request: Request, pk: str) -> Response:
        return self._render(services.appointment_complete(appointment=self.get_object(), by=request.user))

    @_action_schema(
        "Mark no-show (doctor)", None, 401, 403, 404, description="confirmed → no_show, once the start has passed."
    )
    @action(detail=True, methods=["post"], url_path="no-show")
    def no_show(self, request: Request, pk: str) -> Response:
        return self._render(services.appointment_no_show(appointment=self.get_object(), by=request.user))

    @_action_schema(
        "Refer to another doctor (doctor)",
        s.ReferSerializer,
        400,
        401,
        403,
        404,
        ok=201,
        conflict=OpenApiResponse(CONFLICT, description="`invalid_transition` (not active) or `slot_unavailable`."),
        description="The target must be another bookable doctor of the same specialty (else 400). This appointment "
        "becomes `referred`; a new `pending` one with the target doctor at `start` (default: the same time) is "
        "created, linked both ways, and returned.",
    )
    @action(detail=True, methods=["post"])
    def refer(self, request: Request, pk: str) -> Response:
        appointment = self.get_object()
        data = self._input(s.ReferSerializer)
        referral = services.appointment_refer(
            appointment=appointment,
            by=request.user,
            doctor=data["doctor"],
            start=data.get("start"),
            reason=data["reason"],
        )
        return self._render(referral, status.HTTP_201_CREATED)

    @extend_schema(
        summary="Status history",
        description="Every status change, oldest first, as a plain (unpaginated) list. The creation is the first "
        'entry (`from_status` ""); reschedules are entries too, with the old time in `reason`.',
        responses={200: s.StatusChangeSerializer(many=True), **_errors(401, 404)},
    )
    @action(detail=True, methods=["get"], filter_backends=[], pagination_class=None)
    def history(self, request: Request, pk: str) -> Response:
        changes = selectors.appointment_history(appointment=self.get_object())
        return Response(s.StatusChangeSerializer(changes, many=True).data)

    @extend_schema(
        methods=["GET"],
        summary="Notes (participants)",
        responses={200: s.AppointmentNoteSerializer(many=True), **_errors(401, 403, 404)},
    )
    @extend_schema(
        methods=["POST"],
        summary="Add a note (participants)",
        request=s.AppointmentNoteSerializer,
        responses={201: s.AppointmentNoteSerializer, **_errors(400, 401, 403, 404)},
    )
    @action(detail=True, methods=["get", "post"], filter_backends=[])
    def notes(self, request: Request, pk: str) -> Response:
        appointment = self.get_object()
        if request.method == "POST":
            data = s.AppointmentNoteSerializer(data=request.data)
            data.is_valid(raise_exception=True)
            note = services.appointment_note_create(
                appointment=appointment, author=request.user, text=data.validated_data["text"]
            )
            return Response(s.AppointmentNoteSerializer(note).data, status=status.HTTP_201_CREATED)
        page = self.paginate_queryset(selectors.appointment_notes(appointment=appointment))
        return self.get_paginated_response(s.AppointmentNoteSerializer(page, many=True).data)

    def _input(self, serializer_class: type[serializers.Serializer]) -> dict:
        data = serializer_class(data=self.request.data)
        data.is_valid(raise_exception=True)
        return data.validated_data

    def _render(self, appointment: Appointment, code: int = status.HTTP_200_OK) -> Response:
        # Re-read through the selector so that the nested doctor/patient and the links are current.
        fresh = selectors.appointment_base().get(pk=appointment.pk)
        return Response(s.AppointmentSerializer(fresh).data, status=code)
