"""Parse and render scheduling data. Writes go through appointments.services, never through save()."""

import datetime as dt

from django.utils import timezone
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from appointments.choices import Status
from appointments.models import Appointment, AppointmentNote, AvailabilityRule, StatusChange, TimeOff
from users.choices import Role
from users.models import User
from users.selectors import doctor_list_visible

MAX_SLOT_RANGE_DAYS = 62


class AwareDateTimeField(serializers.DateTimeField):
    """ISO 8601 with an offset; a naive datetime is rejected instead of being read in the server's zone."""

    default_error_messages = {"naive": "Include a UTC offset or Z, e.g. 2030-01-07T09:00:00+01:00."}

    def to_internal_value(self, value: object) -> dt.datetime:
        if isinstance(value, dt.datetime):
            parsed = value
        else:
            parsed = super().to_internal_value(value)
            raw = value if isinstance(value, str) else ""
            if not _has_offset(raw):
                self.fail("naive")
        if timezone.is_naive(parsed):
            self.fail("naive")
        return parsed.astimezone(dt.UTC)


def _has_offset(raw: str) -> bool:
    try:
        return dt.datetime.fromisoformat(raw.strip()).tzinfo is not None
    except ValueError:
        return False


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


class TimeOffSerializer(serializers.ModelSerializer):
    start = AwareDateTimeField()
    end = AwareDateTimeField()

    class Meta:
        model = TimeOff
        fields = ["id", "start", "end", "reason"]
        validators: list = []


class SlotQuerySerializer(serializers.Serializer):
    start = serializers.DateField(help_text="First local date of the doctor (YYYY-MM-DD).")
    end = serializers.DateField(help_text="Last local date, inclusive (YYYY-MM-DD).")

    def validate(self, attrs: dict) -> dict:
        if attrs["end"] < attrs["start"]:
            raise serializers.ValidationError({"end": ["The end date must not be before the start date."]})
        if (attrs["end"] - attrs["start"]).days + 1 > MAX_SLOT_RANGE_DAYS:
            raise serializers.ValidationError({"end": [f"At most {MAX_SLOT_RANGE_DAYS} days per request."]})
        return attrs


class LocalDateTimeField(serializers.DateTimeField):
    """Renders an aware datetime with the offset it carries (the doctor's), not the server's."""

    def enforce_timezone(self, value: dt.datetime) -> dt.datetime:
        return value if timezone.is_aware(value) else super().enforce_timezone(value)


class SlotSerializer(serializers.Serializer):
    start = LocalDateTimeField(help_text="With the doctor's UTC offset at that moment.")
    end = LocalDateTimeField()


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


class AppointmentSerializer(serializers.ModelSerializer):
    doctor = DoctorBriefSerializer(read_only=True)
    patient = PatientBriefSerializer(read_only=True)
    referred_to = serializers.SerializerMethodField()
    referred_from = serializers.PrimaryKeyRelatedField(read_only=True, allow_null=True)
    created_by = serializers.PrimaryKeyRelatedField(read_only=True, allow_null=True)

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
        ]
        read_only_fields = fields

    @extend_schema_field(serializers.IntegerField(allow_null=True))
    def get_referred_to(self, appointment: Appointment) -> int | None:
        referral = getattr(appointment, "referred_to", None)
        return referral.pk if referral else None


class AppointmentCreateSerializer(serializers.Serializer):
    """Patients send `doctor`; doctors send `patient` (and may send `end`)."""

    doctor = serializers.PrimaryKeyRelatedField(
        queryset=User.objects.none(), required=False, help_text="Doctor's user id (patients)."
    )
    patient = serializers.PrimaryKeyRelatedField(
        queryset=User.objects.none(), required=False, help_text="Patient's user id (doctors)."
    )
    start = AwareDateTimeField()
    end = AwareDateTimeField(required=False, help_text="Doctors only; defaults to start + the slot length.")
    reason_for_visit = serializers.CharField(max_length=2000, allow_blank=True, required=False, default="")

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
        else:
            if "patient" not in attrs:
                raise serializers.ValidationError({"patient": ["This field is required."]})
            if "doctor" in attrs and attrs["doctor"].pk != user.pk:
                raise serializers.ValidationError({"doctor": ["Doctors book appointments with themselves only."]})
        if "end" in attrs and attrs["end"] <= attrs["start"]:
            raise serializers.ValidationError({"end": ["The end must be after the start."]})
        return attrs


class AppointmentUpdateSerializer(serializers.Serializer):
    reason_for_visit = serializers.CharField(max_length=2000, allow_blank=True, required=False)
    location = serializers.CharField(max_length=500, allow_blank=True, required=False)

    def validate(self, attrs: dict) -> dict:
        unknown = sorted(set(self.initial_data) - set(self.fields)) if isinstance(self.initial_data, dict) else []
        if unknown:
            raise serializers.ValidationError(
                {name: ["This field cannot be changed here (only reason_for_visit and location)."] for name in unknown}
            )
        if not attrs:
            raise serializers.ValidationError({"non_field_errors": ["Send reason_for_visit or location."]})
        return attrs


class ConfirmSerializer(serializers.Serializer):
    location = serializers.CharField(max_length=500, allow_blank=True, required=False)


class CancelSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=2000, allow_blank=True, required=False, default="")


class RescheduleSerializer(serializers.Serializer):
    start = AwareDateTimeField()


class ReferSerializer(serializers.Serializer):
    doctor = serializers.PrimaryKeyRelatedField(queryset=User.objects.none(), help_text="Target doctor's user id.")
    start = AwareDateTimeField(required=False, help_text="Defaults to the original appointment's start.")
    reason = serializers.CharField(max_length=2000, allow_blank=True, required=False, default="")

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

    class Meta:
        model = AppointmentNote
        fields = ["id", "author", "text", "created_at"]
        read_only_fields = ["id", "author", "created_at"]
        extra_kwargs = {"text": {"max_length": 5000}}
