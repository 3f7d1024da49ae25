from django.db.models import QuerySet
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import filters, mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.serializers import BaseSerializer
from rest_framework.views import APIView

from appointments import selectors, services
from appointments.api import serializers as s
from appointments.api.filters import AppointmentFilter, PatientFilter
from appointments.api.permissions import may_make
from appointments.events import AppointmentEventKind as Event
from appointments.models import Appointment, AvailabilityRule, TimeOff
from cybermed.api.filters import FilterBackend
from cybermed.api.idempotency import idempotent
from cybermed.api.lists import ValuesListMixin
from cybermed.api.schema import conflict
from cybermed.exceptions import BookingLimit, InvalidTransition, NoticeRequired, SlotUnavailable
from users.api.permissions import IsDoctor, IsDoctorOrStaff, IsPatient
from users.models import User
from users.selectors import doctor_list_visible

TRANSITION_409 = conflict(InvalidTransition, description="(Or not yet, or no longer.)")
BOOKING_409 = conflict(SlotUnavailable, BookingLimit)
MOVE_409 = conflict(InvalidTransition, SlotUnavailable, NoticeRequired)
CANCEL_409 = conflict(InvalidTransition, NoticeRequired, description="(Patients: inside the doctor's notice window.)")


# --- Availability and time off ------------------------------------------------------------------


class AvailabilityRuleViewSet(viewsets.ModelViewSet):
    """A doctor's own weekly availability (doctors only).

    list:
    List my weekly availability rules

    retrieve:
    One of my availability rules

    create:
    Add a weekly availability rule

    Times are `HH:MM` in the doctor's time zone. Several rules per day are allowed; a rule overlapping
    another of the same weekday, or ending before it starts, is a 400.

    update:
    Replace an availability rule

    partial_update:
    Change an availability rule

    destroy:
    Delete an availability rule
    """

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


class TimeOffViewSet(viewsets.ModelViewSet):
    """A doctor's own exceptions to their weekly availability (doctors only).

    list:
    List my time off

    retrieve:
    One period of my time off

    create:
    Add time off

    `start` and `end` are ISO 8601 datetimes with an offset (naive → 400); end must be after start.
    Existing appointments in the period are not cancelled automatically.

    partial_update:
    Change time off

    destroy:
    Delete time off
    """

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

    @extend_schema(parameters=[s.SlotQuerySerializer], responses=s.SlotSerializer(many=True))
    def get(self, request: Request, doctor_id: int) -> Response:
        """Free slots of a doctor

        Bookable slots on the doctor's local dates `start`..`end` (both inclusive, `end` at most 62 days
        after `start`, like the waitlist's range; dates within 0001-01-08..9999-12-24): inside the weekly
        rules in the doctor's time zone (a 09:00 rule stays 09:00 local across DST changes; wall times
        skipped by a spring-forward change are skipped, repeated ones use their first occurrence), cut
        into `slot_minutes` from each rule's start, minus time off, active appointments and the past. A
        plain ordered array, not paginated. Every slot listed here can be booked with
        `POST /api/appointments/`.
        """
        query = s.SlotQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        doctor = get_object_or_404(doctor_list_visible(), pk=doctor_id)
        slots = selectors.doctor_free_slots(
            profile=doctor.doctor_profile, first=query.validated_data["start"], last=query.validated_data["end"]
        )
        return Response(s.slot_rows(slots, zone=doctor.doctor_profile.zone))


# --- Appointments --------------------------------------------------------------------------------


@extend_schema_view(
    create=extend_schema(
        request=s.AppointmentCreateSerializer, responses={201: s.AppointmentSerializer, 409: BOOKING_409}
    ),
    partial_update=extend_schema(request=s.AppointmentUpdateSerializer),
    destroy=extend_schema(responses={204: None, 409: CANCEL_409}),
)
class AppointmentViewSet(
    ValuesListMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    """Appointments between a patient and a doctor, and every change to them.

    list:
    List my appointments

    Patients see theirs, doctors theirs, staff all. Ordered by `start` unless `ordering` is given
    (`start`, `end`, `created_at`, `status`; prefix `-` for descending).

    retrieve:
    One appointment
    """

    serializer_class = s.AppointmentSerializer
    list_rows = s.AppointmentRows
    filterset_class = AppointmentFilter
    ordering_fields = ["start", "end", "created_at", "status"]
    ordering = ["start", "id"]
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    # Who may act is decided by the transitions table: each action's permission is derived from it
    # (may_make), and the service checks the caller's role in the appointment itself (PermissionDenied →
    # 403). The queryset is what the caller may read, so an outsider's appointment is a 404.
    WRITES = {"create": may_make(Event.CREATED), "destroy": may_make(Event.CANCELLED)}

    def get_permissions(self) -> list:
        if self.action in self.WRITES:
            return [self.WRITES[self.action]()]
        if self.action == "partial_update":
            return [(IsPatient | IsDoctor)()]
        return super().get_permissions()

    def get_queryset(self) -> QuerySet[Appointment]:
        if getattr(self, "swagger_fake_view", False):
            return Appointment.objects.none()
        return selectors.appointment_list_visible(user=self.request.user)

    def list_scope(self, rows: s.AppointmentRows) -> QuerySet:
        return selectors.appointment_list_visible(user=self.request.user, base=rows.values_base())

    @idempotent
    def create(self, request: Request, *args: object, **kwargs: object) -> Response:
        """Book an appointment

        A patient sends `{doctor, start, reason_for_visit}` and gets a `pending` appointment one slot long.
        A doctor sends `{patient, start, reason_for_visit, end?}` and gets a `confirmed` one; `start` must
        be on their slot grid and the whole appointment inside their availability. Clinic staff send
        `{doctor, patient, start, reason_for_visit, end?}` and get a `confirmed` one, `created_by` the
        staff user, with the same checks as the doctor's. Datetimes need an offset
        (naive → 400); unknown or unbookable doctor/patient ids → 400. Anything wrong with the time itself
        (past, off the grid, outside availability, time off, someone already busy) → 409
        `slot_unavailable`, the same answer a concurrent booking gets from the database. A patient booking
        for themselves who already holds MAX_ACTIVE_APPOINTMENTS_PER_PATIENT active upcoming appointments
        (whoever made them) → 409 `booking_limit`; appointments a doctor or staff book for a patient are not
        limited.
        """
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
        """Edit reason or location

        The patient may change `reason_for_visit` while the appointment is pending; the doctor may change
        `location` while it is active. Any other field (status, start, doctor, …) or a field the caller may
        not change → 400 naming it; use the actions for status and time changes.
        """
        appointment = self.get_object()
        data = s.AppointmentUpdateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        appointment = services.appointment_update(appointment=appointment, by=request.user, **data.validated_data)
        return self._render(appointment)

    def destroy(self, request: Request, *args: object, **kwargs: object) -> Response:
        """Cancel an appointment

        Same as `POST …/cancel/` without a reason; the record stays with status `cancelled`.
        """
        services.appointment_cancel(appointment=self.get_object(), by=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(responses={200: s.AppointmentSerializer, 409: TRANSITION_409})
    @action(
        detail=True,
        methods=["post"],
        serializer_class=s.ConfirmSerializer,
        permission_classes=[may_make(Event.CONFIRMED)],
    )
    def confirm(self, request: Request, pk: str) -> Response:
        """Confirm (doctor, staff)

        pending → confirmed, before the start. `location` defaults to the clinic address.
        """
        appointment = self.get_object()
        data = self._input(s.ConfirmSerializer)
        appointment = services.appointment_confirm(
            appointment=appointment, by=request.user, location=data.get("location")
        )
        return self._render(appointment)

    @extend_schema(responses={200: s.AppointmentSerializer, 409: CANCEL_409})
    @action(
        detail=True,
        methods=["post"],
        serializer_class=s.CancelSerializer,
        permission_classes=[may_make(Event.CANCELLED)],
    )
    def cancel(self, request: Request, pk: str) -> Response:
        """Cancel

        pending/confirmed → cancelled. A patient needs at least the doctor's `cancellation_notice_hours` before
        the start (else 409 `notice_required`); the doctor and staff may cancel any time.
        """
        appointment = self.get_object()
        data = self._input(s.CancelSerializer)
        appointment = services.appointment_cancel(appointment=appointment, by=request.user, reason=data["reason"])
        return self._render(appointment)

    @extend_schema(responses={200: s.AppointmentSerializer, 409: MOVE_409})
    @action(
        detail=True,
        methods=["post"],
        serializer_class=s.RescheduleSerializer,
        permission_classes=[may_make(Event.RESCHEDULED)],
    )
    def reschedule(self, request: Request, pk: str) -> Response:
        """Reschedule

        Move a pending/confirmed appointment to another bookable time (same checks as booking). A patient's
        reschedule returns it to `pending`; a doctor's or staff's keeps the status and the length. A patient
        needs at least the doctor's `reschedule_notice_hours` before the current start (else 409
        `notice_required`).
        """
        appointment = self.get_object()
        data = self._input(s.RescheduleSerializer)
        appointment = services.appointment_reschedule(appointment=appointment, by=request.user, start=data["start"])
        return self._render(appointment)

    @extend_schema(request=None, responses={200: s.AppointmentSerializer, 409: TRANSITION_409})
    @action(detail=True, methods=["post"], permission_classes=[may_make(Event.COMPLETED)])
    def complete(self, request: Request, pk: str) -> Response:
        """Mark completed (doctor)

        confirmed → completed, once the start has passed.
        """
        return self._render(services.appointment_complete(appointment=self.get_object(), by=request.user))

    @extend_schema(request=None, responses={200: s.AppointmentSerializer, 409: TRANSITION_409})
    @action(detail=True, methods=["post"], url_path="no-show", permission_classes=[may_make(Event.NO_SHOW)])
    def no_show(self, request: Request, pk: str) -> Response:
        """Mark no-show (doctor, staff)

        confirmed → no_show, once the start has passed.
        """
        return self._render(services.appointment_no_show(appointment=self.get_object(), by=request.user))

    @extend_schema(responses={201: s.AppointmentSerializer, 409: MOVE_409})
    @action(
        detail=True, methods=["post"], serializer_class=s.ReferSerializer, permission_classes=[may_make(Event.REFERRED)]
    )
    def refer(self, request: Request, pk: str) -> Response:
        """Refer to another doctor (doctor)

        The target must be another bookable doctor of the same specialty (else 400). This appointment
        becomes `referred`; a new `pending` one with the target doctor at `start` (default: the same time)
        is created, linked both ways, and returned.
        """
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

    @extend_schema(responses=s.StatusChangeSerializer(many=True))
    @action(detail=True, methods=["get"], filter_backends=[], pagination_class=None)
    def history(self, request: Request, pk: str) -> Response:
        """Status history

        Every status change, oldest first, as a plain (unpaginated) list. The creation is the first entry
        (`from_status` ""); reschedules are entries too, with the old time in `reason`.
        """
        changes = selectors.appointment_history(appointment=self.get_object())
        return Response(s.StatusChangeSerializer(changes, many=True).data)

    @extend_schema(responses=s.AppointmentNoteSerializer(many=True))
    @action(
        detail=True,
        methods=["get"],
        filter_backends=[],
        serializer_class=s.AppointmentNoteSerializer,
        permission_classes=[IsPatient | IsDoctor],
    )
    def notes(self, request: Request, pk: str) -> Response:
        """Notes (participants)

        The appointment's notes, oldest first.
        """
        page = self.paginate_queryset(selectors.appointment_notes(appointment=self.get_object()))
        return self.get_paginated_response(s.AppointmentNoteSerializer(page, many=True).data)

    @extend_schema(responses={201: s.AppointmentNoteSerializer})
    @notes.mapping.post
    def add_note(self, request: Request, pk: str) -> Response:
        """Add a note (participants)"""
        appointment = self.get_object()
        data = s.AppointmentNoteSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        note = services.appointment_note_create(
            appointment=appointment, author=request.user, text=data.validated_data["text"]
        )
        return Response(s.AppointmentNoteSerializer(note).data, status=status.HTTP_201_CREATED)

    def _input(self, serializer_class: type[serializers.Serializer]) -> dict:
        data = serializer_class(data=self.request.data)
        data.is_valid(raise_exception=True)
        return data.validated_data

    def _render(self, appointment: Appointment, code: int = status.HTTP_200_OK) -> Response:
        # Re-read through the selector so that the nested doctor/patient and the links are current.
        fresh = selectors.appointment_base().get(pk=appointment.pk)
        return Response(s.AppointmentSerializer(fresh).data, status=code)


# --- Patients -----------------------------------------------------------------------------------


@extend_schema(tags=["directory"])
class PatientViewSet(viewsets.ReadOnlyModelViewSet):
    """Patients: a doctor sees those with an appointment with them; staff see everyone. `{id}` is the user id.

    list:
    Your patients

    retrieve:
    One of your patients
    """

    serializer_class = s.PatientSerializer
    permission_classes = [IsDoctorOrStaff]
    filter_backends = [FilterBackend, filters.SearchFilter]
    filterset_class = PatientFilter
    search_fields = ["first_name", "last_name", "email"]

    def get_queryset(self) -> QuerySet[User]:
        if getattr(self, "swagger_fake_view", False):  # schema generation has no caller
            return User.objects.none()
        return selectors.patient_list_for(user=self.request.user).order_by("last_name", "first_name", "pk")
