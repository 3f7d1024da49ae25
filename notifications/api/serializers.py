from rest_framework import serializers

from cybermed.api.fields import StrictIdField
from cybermed.api.lists import ValuesRows
from notifications.models import Notification, NotificationPreference, WaitlistEntry
from notifications.services import WAITLIST_MAX_DAYS
from users.selectors import doctor_list_visible


class NotificationSerializer(serializers.ModelSerializer):
    class Meta:
        model = Notification
        fields = ["id", "kind", "title", "message", "appointment", "data", "is_read", "created_at"]
        read_only_fields = fields


class NotificationRows(ValuesRows):
    """NotificationSerializer's JSON for a list page, from `.values()`."""

    columns = ("id", "kind", "title", "message", "appointment_id", "data", "is_read", "created_at")

    def render(self, row: dict) -> dict:
        return {
            "id": row["id"],
            "kind": row["kind"],
            "title": row["title"],
            "message": row["message"],
            "appointment": row["appointment_id"],
            "data": row["data"],
            "is_read": row["is_read"],
            "created_at": self.datetime(row["created_at"]),
        }


class NotificationPreferenceSerializer(serializers.ModelSerializer):
    class Meta:
        model = NotificationPreference
        fields = ["email_enabled", "reminders_enabled", "sms_enabled"]


class ReadAllResultSerializer(serializers.Serializer):
    updated = serializers.IntegerField(help_text="How many notifications were marked read.")


class UnreadCountSerializer(serializers.Serializer):
    unread = serializers.IntegerField()


class VisibleDoctorField(StrictIdField):
    """A doctor's user id; only doctors listed in the directory (read per request, settings included)."""

    def get_queryset(self):  # noqa: ANN201 - DRF signature
        return doctor_list_visible()


class WaitlistEntrySerializer(serializers.ModelSerializer):
    doctor = VisibleDoctorField(help_text="User id of a doctor listed in the directory.")
    start_date = serializers.DateField(help_text="First day to wait for, in the doctor's time zone.")
    end_date = serializers.DateField(
        help_text=f"Last day (inclusive), at most {WAITLIST_MAX_DAYS} days after start_date."
    )

    class Meta:
        model = WaitlistEntry
        fields = ["id", "doctor", "start_date", "end_date", "created_at"]
        read_only_fields = ["id", "created_at"]
        validators: list = []  # the duplicate entry is a 409 from the service, not a 400


class TwilioStatusSerializer(serializers.Serializer):
    """The fields of Twilio's status callback we read (it sends more, which are signed and ignored)."""

    MessageSid = serializers.CharField(max_length=64)
    MessageStatus = serializers.CharField(max_length=32)
    ErrorCode = serializers.CharField(max_length=16, required=False, allow_blank=True, default="")
