import datetime as dt

from django.db.models import QuerySet
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from cybermed.api.fields import StrictCharField, StrictIdField, StrictIntegerField
from cybermed.api.lists import ValuesRows, drf_datetime
from messaging import selectors
from messaging.choices import MessageStatus
from messaging.models import MAX_BODY_LENGTH, Message, Thread
from notifications.formatting import doctor_name, name_of, person_name
from users.choices import Role
from users.models import User


class MessageSerializer(serializers.ModelSerializer):
    body = serializers.SerializerMethodField(help_text='The text; `""` once the sender retracted it.')

    class Meta:
        model = Message
        fields = ["id", "thread", "sender", "body", "created_at", "status"]
        read_only_fields = fields

    def get_body(self, message: Message) -> str:
        return "" if message.status == MessageStatus.RETRACTED else message.body


def message_json(*, id: int, thread: int, sender: int, body: str, created_at: dt.datetime, status: str) -> dict:
    """MessageSerializer's JSON without DRF's per-field machinery: every chat message is rendered twice (the
    POST's response and the push to the sockets), and DRF spent a tenth of a message's server CPU on it.
    `test_message_json_matches_the_serializer` holds the two identical."""
    return {
        "id": id,
        "thread": thread,
        "sender": sender,
        "body": "" if status == MessageStatus.RETRACTED else body,
        "created_at": drf_datetime(created_at.astimezone(timezone.get_current_timezone())),
        "status": status,
    }


def message_json_of(message: Message) -> dict:
    return message_json(
        id=message.pk,
        thread=message.thread_id,
        sender=message.sender_id,
        body=message.body,
        created_at=message.created_at,
        status=message.status,
    )


class ThreadSerializer(serializers.ModelSerializer):
    last_message = MessageSerializer(read_only=True, allow_null=True)
    unread = serializers.IntegerField(read_only=True, help_text="Messages from the other participant not read yet.")
    patient_name = serializers.SerializerMethodField()
    doctor_name = serializers.SerializerMethodField()

    class Meta:
        model = Thread
        fields = ["id", "patient", "doctor", "patient_name", "doctor_name", "last_message", "unread", "updated_at"]
        read_only_fields = fields

    def get_patient_name(self, thread: Thread) -> str:
        return person_name(thread.patient)

    def get_doctor_name(self, thread: Thread) -> str:
        return doctor_name(thread.doctor)


class ThreadRows(ValuesRows):
    """ThreadSerializer's JSON for a list page, from `.values()` of `selectors.thread_list()` (the request's user's)."""

    columns = (
        "id",
        "patient_id",
        "doctor_id",
        "patient__first_name",
        "patient__last_name",
        "patient__email",
        "patient__role",
        "doctor__first_name",
        "doctor__last_name",
        "doctor__email",
        "last_message_id",
        "last_message__thread_id",
        "last_message__sender_id",
        "last_message__body",
        "last_message__created_at",
        "last_message__status",
        "unread_as_patient",
        "unread_as_doctor",
        "updated_at",
    )

    @classmethod
    def unscoped(cls) -> QuerySet[Thread]:
        return selectors.thread_rows()

    def render(self, row: dict) -> dict:
        return {
            "id": row["id"],
            "patient": row["patient_id"],
            "doctor": row["doctor_id"],
            "patient_name": name_of(
                first_name=row["patient__first_name"],
                last_name=row["patient__last_name"],
                email=row["patient__email"],
                role=row["patient__role"],
            ),
            "doctor_name": name_of(
                first_name=row["doctor__first_name"],
                last_name=row["doctor__last_name"],
                email=row["doctor__email"],
                role=Role.DOCTOR,
            ),
            "last_message": None if row["last_message_id"] is None else self._message(row),
            "unread": selectors.unread_for(
                user_id=self.request.user.pk,
                patient_id=row["patient_id"],
                unread_as_patient=row["unread_as_patient"],
                unread_as_doctor=row["unread_as_doctor"],
            ),
            "updated_at": self.datetime(row["updated_at"]),
        }

    def _message(self, row: dict) -> dict:
        return message_json(
            id=row["last_message_id"],
            thread=row["last_message__thread_id"],
            sender=row["last_message__sender_id"],
            body=row["last_message__body"],
            created_at=row["last_message__created_at"],
            status=row["last_message__status"],
        )


@extend_schema_field(OpenApiTypes.INT)
class RoleField(StrictIdField):
    """The id of an active user of one role; anything else is a 400."""

    def __init__(self, role: str, **kwargs: object) -> None:
        self.role = role
        super().__init__(**kwargs)

    def get_queryset(self):  # noqa: ANN201 - DRF signature
        return User.objects.filter(role=self.role, is_active=True)


class ThreadOpenSerializer(serializers.Serializer):
    """A patient names the doctor, a doctor names the patient."""

    doctor = RoleField(Role.DOCTOR, required=False, help_text="The doctor's user id (when a patient opens it).")
    patient = RoleField(Role.PATIENT, required=False, help_text="The patient's user id (when a doctor opens it).")

    def validate(self, attrs: dict) -> dict:
        wanted = "doctor" if self.context["request"].user.is_patient else "patient"
        if wanted not in attrs:
            raise serializers.ValidationError({wanted: "This field is required."})
        extra = set(attrs) - {wanted}
        if extra:
            raise serializers.ValidationError(dict.fromkeys(extra, f"Give only `{wanted}`."))
        return {"counterpart": attrs[wanted]}


class MessageCreateSerializer(serializers.Serializer):
    body = StrictCharField(
        min_length=1, max_length=MAX_BODY_LENGTH, trim_whitespace=False, help_text="Plain text, 1-5,000 characters."
    )

    def validate_body(self, value: str) -> str:
        if not value.strip():
            raise serializers.ValidationError("This field may not be blank.")
        return value


class ReadSerializer(serializers.Serializer):
    up_to = StrictIntegerField(min_value=0, help_text="Id of the newest message read.")


class ReadResultSerializer(serializers.Serializer):
    thread_id = serializers.IntegerField()
    up_to = serializers.IntegerField(help_text="The caller's read watermark now (never moves back).")
    unread = serializers.IntegerField()
