from zoneinfo import ZoneInfo

from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import serializers

from appointments.api.serializers import LocalDateTimeField
from cybermed.api.fields import MAX_ID, BoundedDateField, StrictCharField, integer_from_json
from reports.selectors import BUCKETS, MAX_RANGE_DAYS, STATUSES
from users.models import DoctorProfile, Specialty, validate_timezone


class QueryIdField(serializers.IntegerField):
    """An id in a query string: digits only, so `1e400`, `1.5` and `-3` are a 400, never a lookup."""

    default_error_messages = {"not_an_id": "Must be an integer id."}

    def to_internal_value(self, data: object) -> int:
        value = integer_from_json(data)
        if value is None or not 0 < value <= MAX_ID:
            self.fail("not_an_id")
        return value


class TimeZoneField(StrictCharField):
    """An IANA zone name, returned as its ZoneInfo (after the string's own checks, such as its length)."""

    def run_validation(self, data: object = serializers.empty) -> ZoneInfo:
        name = super().run_validation(data)
        try:
            validate_timezone(name)
        except DjangoValidationError as exc:
            raise serializers.ValidationError(exc.messages) from exc
        return ZoneInfo(name)


class RangeQuerySerializer(serializers.Serializer):
    """`from`/`to` (local dates, inclusive), an optional zone, and (for staff) the doctors to cover."""

    def get_fields(self) -> dict:
        # `from` is a Python keyword, so the fields are named here rather than as class attributes.
        return {
            "from": BoundedDateField(help_text="First local date (YYYY-MM-DD)."),
            "to": BoundedDateField(help_text=f"Last local date, inclusive; at most {MAX_RANGE_DAYS} days in all."),
            "tz": TimeZoneField(
                required=False,
                max_length=64,
                help_text="IANA zone the dates (and buckets) are read in. Default: the doctor's own zone when "
                "the report covers one doctor, else UTC.",
            ),
            "doctor": QueryIdField(required=False, help_text="Only this doctor (user id). Doctors: their own id."),
            "specialty": QueryIdField(required=False, help_text="Only doctors of this specialty (id)."),
            **self.extra_fields(),
        }

    def extra_fields(self) -> dict:
        return {}

    def validate(self, attrs: dict) -> dict:
        if attrs["to"] < attrs["from"]:
            raise serializers.ValidationError({"to": ["Must not be before `from`."]})
        if (attrs["to"] - attrs["from"]).days + 1 > MAX_RANGE_DAYS:
            raise serializers.ValidationError({"to": [f"The range covers at most {MAX_RANGE_DAYS} days."]})
        doctor = attrs.get("doctor")
        if doctor is not None and not DoctorProfile.objects.filter(user_id=doctor).exists():
            raise serializers.ValidationError({"doctor": [f"No doctor with id {doctor}."]})
        specialty = attrs.get("specialty")
        if specialty is not None and not Specialty.objects.filter(pk=specialty).exists():
            raise serializers.ValidationError({"specialty": [f"No specialty with id {specialty}."]})
        return attrs


class TimeseriesQuerySerializer(RangeQuerySerializer):
    def extra_fields(self) -> dict:
        return {"bucket": serializers.ChoiceField(choices=BUCKETS, default="day", help_text="Bucket size.")}


def _figure_fields() -> dict:
    fields: dict = {
        "appointments": serializers.IntegerField(help_text="All appointments starting in the range."),
        **{status: serializers.IntegerField(help_text=f"Appointments now `{status}`.") for status in STATUSES},
        "no_show_rate": serializers.FloatField(
            allow_null=True, help_text="no_show ÷ (completed + no_show); null when both are 0."
        ),
        "cancellation_rate": serializers.FloatField(
            allow_null=True, help_text="cancelled ÷ all appointments; null when there are none."
        ),
        "late_cancellations": serializers.IntegerField(
            help_text="Cancelled less than 24 h before the start (cancellation time from the status history)."
        ),
        "median_lead_time_hours": serializers.FloatField(
            allow_null=True, help_text="Median of start − created_at, in hours."
        ),
        "available_minutes": serializers.IntegerField(
            help_text="Minutes inside the weekly rules (doctor's zone, DST-correct) minus time off."
        ),
        "booked_minutes": serializers.IntegerField(
            help_text="Minutes of pending, confirmed, completed and no-show appointments inside available time."
        ),
        "utilisation": serializers.FloatField(
            allow_null=True, help_text="booked_minutes ÷ available_minutes; null when nothing was available."
        ),
        "new_patients": serializers.IntegerField(
            help_text="Patients whose first completed appointment (with the doctor, or the clinic) is in the range."
        ),
        "returning_patients": serializers.IntegerField(
            help_text="Patients with a completed appointment in the range and an earlier completed one."
        ),
    }
    return fields


class FiguresSerializer(serializers.Serializer):
    def get_fields(self) -> dict:
        return _figure_fields()


class SummarySerializer(FiguresSerializer):
    def get_fields(self) -> dict:
        return {
            "from": serializers.DateField(),
            "to": serializers.DateField(),
            "timezone": serializers.CharField(),
            "doctor": serializers.IntegerField(allow_null=True),
            "specialty": serializers.IntegerField(allow_null=True),
            **_figure_fields(),
        }


class BucketSerializer(FiguresSerializer):
    def get_fields(self) -> dict:
        return {"bucket": serializers.DateField(help_text="Local start date of the bucket."), **_figure_fields()}


class DoctorRowSerializer(FiguresSerializer):
    def get_fields(self) -> dict:
        return {
            "doctor": serializers.IntegerField(),
            "doctor_name": serializers.CharField(),
            "specialty": serializers.CharField(),
            "timezone": serializers.CharField(),
            **_figure_fields(),
        }


def doctor_rows(rows: list[dict]) -> list[dict]:
    """`DoctorRowSerializer(rows, many=True).data` for `selectors.per_doctor()`'s rows, without DRF's calls per field
    (2,000 rows of 25 fields: about 20 ms). Those rows already hold what the fields would give (int, float or
    None, str), so taking the fields in the serializer's order renders the same bytes (test_api checks it)."""
    names = list(DoctorRowSerializer().fields)
    return [{name: row[name] for name in names} for row in rows]


# --- Dashboard ------------------------------------------------------------------------------------


class DashboardAppointmentSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    start = LocalDateTimeField(help_text="With the doctor's UTC offset at that moment.")
    end = LocalDateTimeField()
    status = serializers.CharField()
    doctor = serializers.IntegerField(required=False)
    doctor_name = serializers.CharField(required=False)
    patient = serializers.IntegerField(required=False)
    patient_name = serializers.CharField(required=False)


class PatientDashboardSerializer(serializers.Serializer):
    role = serializers.CharField()
    next_appointment = DashboardAppointmentSerializer(allow_null=True)
    upcoming_count = serializers.IntegerField(help_text="Pending and confirmed appointments still to come.")
    unread_notifications = serializers.IntegerField()
    unread_messages = serializers.IntegerField(help_text="Messages from doctors not read yet, across all threads.")


class DoctorDashboardSerializer(serializers.Serializer):
    role = serializers.CharField()
    timezone = serializers.CharField()
    today = serializers.DateField(help_text="Today in the doctor's zone.")
    schedule = DashboardAppointmentSerializer(many=True, help_text="Today's appointments, cancelled ones left out.")
    pending_requests = serializers.IntegerField(help_text="Pending appointments still to come.")
    week_utilisation = serializers.FloatField(allow_null=True, help_text="This local week's (Mon-Sun) utilisation.")


class StaffDashboardSerializer(FiguresSerializer):
    def get_fields(self) -> dict:
        return {"role": serializers.CharField(), "today": serializers.DateField(), **_figure_fields()}
