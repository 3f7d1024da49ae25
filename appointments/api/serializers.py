"""Parse and render scheduling data. Writes go through appointments.services, never through save()."""

import datetime as dt
from collections.abc import Iterable

from django.db.models import QuerySet
from django.utils import timezone
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from appointments import selectors
from appointments.choices import Status
from appointments.extensions import payment_columns, payment_of, payment_of_row
from appointments.models import Appointment, AppointmentNote, AvailabilityRule, StatusChange, TimeOff
from cybermed.api.fields import AwareDateTimeField, BoundedDateField, StrictCharField, StrictIdField, printable
from cybermed.api.lists import ValuesRows, drf_datetime
from users.choices import Role
from users.models import User
from users.selectors import doctor_list_visible

MAX_SLOT_RANGE_DAYS = 62


@extend_schema_field({"type": "string", "pattern": r"^\d{2}:\d{2}$", "example": "09:00"})
class HourMinuteField(serializers.TimeField):
    def __init__(self, **kwargs: object) -> None:
        super().__init__(format="%H:%M", input_formats=["%H:%M"], **kwargs)


# --- Availability --------------------------------------------------------------------------------


class AvailabilityRuleSerializer(serializers.ModelSerializer):
    start_time = HourMinuteField()
    end_time = HourMinuteField()

    class Meta:
        model = AvailabilityRule
        fields = ["id", "weekday", "start_time", "end_time"]
        validators: list = []  # overlap and order are checked by the service (one place, one message)
        # DRF's message echoes the input, which may not even be encodable (a lone surrogate).
        extra_kwargs = {"weekday": {"error_messages": {"invalid_choice": "Must be 0 (Monday) to 6 (Sunday)."}}}


class TimeOffSerializer(serializers.ModelSerializer):
    start = AwareDateTimeField()
    end = AwareDateTimeField()
    reason = StrictCharField(max_length=255, allow_blank=True, required=False)

    class Meta:
        model = TimeOff
        fields = ["id", "start", "end", "reason"]
        validators: list = []


class SlotQuerySerializer(serializers.Serializer):
    start = BoundedDateField(help_text="First local date of the doctor (YYYY-MM-DD).")
    end = BoundedDateField(help_text="Last local date, inclusive (YYYY-MM-DD).")

    def validate(self, attrs: dict) -> dict:
        if attrs["end"] < attrs["start"]:
            raise serializers.ValidationError({"end": ["The end date must not be before the start date."]})
        # "Over 62 days" is read like the waitlist's "at most 62 days apart": end - start <= 62 days.
        if (attrs["end"] - attrs["start"]).days > MAX_SLOT_RANGE_DAYS:
            raise serializers.ValidationError({"end": [f"At most {MAX_SLOT_RANGE_DAYS} days after start."]})
        return attrs


class LocalDateTimeField(serializers.DateTimeField):
    """Renders an aware datetime with the offset it carries (the doctor's), not the server's."""

    def enforce_timezone(self, value: dt.datetime) -> dt.datetime:
        return value if timezone.is_aware(value) else super().enforce_timezone(value)


class SlotSerializer(serializers.Serializer):
    start = LocalDateTimeField(help_text="With the doctor's UTC offset at that moment.")
    end = LocalDateTimeField()


def slot_rows(slots: Iterable[tuple[dt.datetime, dt.datetime]], *, zone: dt.tzinfo) -> list[dict[str, str]]:
    """SlotSerializer's JSON, written directly: a 62-day range holds over a thousand slots, and DRF's fields
    spent 40 % of the request on them (issue 19; a test compares both). Shown with the doctor's own offset:
    the same instants, readable wall times."""
    return [
        {"start": drf_datetime(start.astimezone(zone)), "end": drf_datetime(end.astimezone(zone))}
        for start, end in slots
    ]


# --- Appointments -------------------------------------------------------------------------------


class SpecialtyBriefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


class DoctorBriefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    first_name = serializers.CharField()
    last_name = serializers.CharField()
    specialty = serializers.SerializerMethodField()

    @extend_schema_field(SpecialtyBriefSerializer(allow_null=True))
    def get_specialty(self, user: User) -> dict | None:
        profile = getattr(user, "doctor_profile", None)
        if profile is None or profile.specialty is None:
            return None
        return {"id": profile.specialty.id, "name": profile.specialty.name}


class PatientBriefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    first_name = serializers.CharField()
    last_name = serializers.CharField()


class PaymentSummarySerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=["not_required", "awaiting_payment", "paid", "refunded", "expired"])
    amount = serializers.CharField(allow_null=True, help_text='Decimal string, e.g. "40.00".')
    currency = serializers.CharField(allow_null=True, help_text="ISO 4217 code.")
    hold_expires_at = serializers.DateTimeField(
        allow_null=True, help_text="While awaiting payment: when the held slot is released."
    )


class AppointmentSerializer(serializers.ModelSerializer):
    doctor = DoctorBriefSerializer(read_only=True)
    patient = PatientBriefSerializer(read_only=True)
    referred_to = serializers.SerializerMethodField()
    referred_from = serializers.PrimaryKeyRelatedField(read_only=True, allow_null=True)
    created_by = serializers.PrimaryKeyRelatedField(read_only=True, allow_null=True)
    payment = serializers.SerializerMethodField()

    class Meta:
        model = Appointment
        fields = [
            "id",
            "doctor",
            "patient",
            "start",
            "end",
            "reason_for_visit",
            "status",
            "location",
            "cancellation_reason",
            "referred_to",
            "referred_from",
            "created_by",
            "created_at",
            "updated_at",
            "payment",
        ]
        read_only_fields = fields

    @extend_schema_field(PaymentSummarySerializer)
    def get_payment(self, appointment: Appointment) -> dict:
        return payment_of(appointment)

    @extend_schema_field(serializers.IntegerField(allow_null=True))
    def get_referred_to(self, appointment: Appointment) -> int | None:
        if hasattr(appointment, "referred_to_pk"):  # annotated by selectors.appointment_base()
            return appointment.referred_to_pk
        referral = getattr(appointment, "referred_to", None)
        return referral.pk if referral else None


class AppointmentRows(ValuesRows):
    """AppointmentSerializer's JSON for a list page, from `.values()` of `selectors.appointment_base()`."""

    columns = (
        "id",
        "doctor_id",
        "doctor__first_name",
        "doctor__last_name",
        "doctor__doctor_profile__specialty_id",
        "doctor__doctor_profile__specialty__name",
        "patient_id",
        "patient__first_name",
        "patient__last_name",
        "start",
        "end",
        "reason_for_visit",
        "status",
        "location",
        "cancellation_reason",
        "referred_to_pk",
        "referred_from_id",
        "created_by_id",
        "created_at",
        "updated_at",
    )

    def fetch(self, queryset: QuerySet[Appointment]) -> QuerySet:
        return queryset.values(*self.columns, *payment_columns())

    @classmethod
    def unscoped(cls) -> QuerySet[Appointment]:
        return selectors.appointment_base()

    def render(self, row: dict) -> dict:
        specialty_id = row["doctor__doctor_profile__specialty_id"]
        return {
            "id": row["id"],
            "doctor": {
                "id": row["doctor_id"],
                "first_name": row["doctor__first_name"],
                "last_name": row["doctor__last_name"],
                "specialty": (
                    None
                    if specialty_id is None
                    else {"id": specialty_id, "name": row["doctor__doctor_profile__specialty__name"]}
                ),
            },
            "patient": {
                "id": row["patient_id"],
                "first_name": row["patient__first_name"],
                "last_name": row["patient__last_name"],
            },
            "start": self.datetime(row["start"]),
            "end": self.datetime(row["end"]),
            "reason_for_visit": row["reason_for_visit"],
            "status": row["status"],
            "location": row["location"],
            "cancellation_reason": row["cancellation_reason"],
            "referred_to": row["referred_to_pk"],
            "referred_from": row["referred_from_id"],
            "created_by": row["created_by_id"],
            "created_at": self.datetime(row["created_at"]),
            "updated_at": self.datetime(row["updated_at"]),
            "payment": payment_of_row(row),
        }


class AppointmentCreateSerializer(serializers.Serializer):
    """Patients send `doctor`; doctors send `patient` (and may send `end`); staff send both (and may send `end`)."""

    doctor = StrictIdField(
        queryset=User.objects.none(), required=False, help_text="Doctor's user id (patients, staff)."
    )
    patient = StrictIdField(
        queryset=User.objects.none(), required=False, help_text="Patient's user id (doctors, staff)."
    )
    start = AwareDateTimeField()
    end = AwareDateTimeField(required=False, help_text="Doctors and staff; defaults to start + the slot length.")
    reason_for_visit = StrictCharField(max_length=2000, allow_blank=True, required=False, default="")

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.fields["doctor"].queryset = doctor_list_visible()
        self.fields["patient"].queryset = User.objects.filter(role=Role.PATIENT, is_active=True)

    def validate(self, attrs: dict) -> dict:
        user = self.context["request"].user
        if user.role == Role.PATIENT:
            if "doctor" not in attrs:
                raise serializers.ValidationError({"doctor": ["This field is required."]})
            for field in ("patient", "end"):
                if field in attrs:
                    raise serializers.ValidationError({field: ["Patients cannot set this field."]})
        elif user.role == Role.DOCTOR:
            if "patient" not in attrs:
                raise serializers.ValidationError({"patient": ["This field is required."]})
            if "doctor" in attrs and attrs["doctor"].pk != user.pk:
                raise serializers.ValidationError({"doctor": ["Doctors book appointments with themselves only."]})
        else:  # the front desk books any patient with any bookable doctor
            missing = [field for field in ("doctor", "patient") if field not in attrs]
            if missing:
                raise serializers.ValidationError({field: ["This field is required."] for field in missing})
        if "end" in attrs and attrs["end"] <= attrs["start"]:
            raise serializers.ValidationError({"end": ["The end must be after the start."]})
        return attrs


class AppointmentUpdateSerializer(serializers.Serializer):
    reason_for_visit = StrictCharField(max_length=2000, allow_blank=True, required=False)
    location = StrictCharField(max_length=500, allow_blank=True, required=False)

    def validate(self, attrs: dict) -> dict:
        unknown = sorted(set(self.initial_data) - set(self.fields)) if isinstance(self.initial_data, dict) else []
        if unknown:
            raise serializers.ValidationError(
                {
                    printable(name): ["This field cannot be changed here (only reason_for_visit and location)."]
                    for name in unknown
                }
            )
        if not attrs:
            raise serializers.ValidationError({"non_field_errors": ["Send reason_for_visit or location."]})
        return attrs


class ConfirmSerializer(serializers.Serializer):
    location = StrictCharField(max_length=500, allow_blank=True, required=False)


class CancelSerializer(serializers.Serializer):
    reason = StrictCharField(max_length=2000, allow_blank=True, required=False, default="")


class RescheduleSerializer(serializers.Serializer):
    start = AwareDateTimeField()


class ReferSerializer(serializers.Serializer):
    doctor = StrictIdField(queryset=User.objects.none(), help_text="Target doctor's user id.")
    start = AwareDateTimeField(required=False, help_text="Defaults to the original appointment's start.")
    reason = StrictCharField(max_length=2000, allow_blank=True, required=False, default="")

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.fields["doctor"].queryset = doctor_list_visible()


class StatusChangeSerializer(serializers.ModelSerializer):
    by = serializers.PrimaryKeyRelatedField(read_only=True)
    from_status = serializers.CharField(read_only=True, help_text='A status, or "" for the creation.')
    to_status = serializers.CharField(read_only=True, help_text=f"One of: {', '.join(Status.values)}.")

    class Meta:
        model = StatusChange
        fields = ["from_status", "to_status", "by", "at", "reason"]
        read_only_fields = fields


class AppointmentNoteSerializer(serializers.ModelSerializer):
    author = serializers.PrimaryKeyRelatedField(read_only=True)
    text = StrictCharField(max_length=5000)

    class Meta:
        model = AppointmentNote
        fields = ["id", "author", "text", "created_at"]
        read_only_fields = ["id", "author", "created_at"]


class PatientSerializer(serializers.ModelSerializer):
    """A patient as their doctors and staff see them (`id` is the user id)."""

    profile_picture = serializers.ImageField(read_only=True)
    date_of_birth = serializers.SerializerMethodField()

    class Meta:
        model = User
        fields = [
            "id",
            "email",
            "first_name",
            "last_name",
            "gender",
            "phone_number",
            "profile_picture",
            "date_of_birth",
        ]

    def get_date_of_birth(self, user: User) -> dt.date | None:
        profile = getattr(user, "patient_profile", None)
        return profile.date_of_birth if profile else None
