from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone

from consultations.choices import AccessAction
from cybermed.querysets import AppendOnlyModel
from messaging.choices import MessageStatus

MAX_BODY_LENGTH = 5000


class Thread(models.Model):
    """The one conversation between a patient and a doctor.

    Each participant's read watermark (the id of the last message they read) lives on the row itself,
    so listing threads with unread counts needs no join table; `last_message` is kept by the service
    that posts, so the list shows it without a query per thread.
    """

    patient = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="patient_threads")
    doctor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="doctor_threads")
    last_message = models.ForeignKey(
        "messaging.Message", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    patient_read_up_to = models.BigIntegerField(default=0)
    doctor_read_up_to = models.BigIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    # Most recent activity (creation or last message): the order of the thread list.
    updated_at = models.DateTimeField(default=timezone.now)
    # When each participant's queued "new message" email check runs (messaging.tasks), null when none is queued:
    # a burst of messages queues one check, not one task per message. The check whose time is stored here is the
    # only one that may act.
    patient_email_check_at = models.DateTimeField(null=True, blank=True, editable=False)
    doctor_email_check_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["-updated_at", "-id"]
        indexes = [
            models.Index(fields=["patient", "-updated_at"], name="thread_patient_recent"),
            models.Index(fields=["doctor", "-updated_at"], name="thread_doctor_recent"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["patient", "doctor"], name="thread_patient_doctor_uniq"),
            models.CheckConstraint(condition=~Q(patient=F("doctor")), name="thread_two_people"),
        ]

    def __str__(self) -> str:
        return f"Thread #{self.pk}: patient #{self.patient_id} and doctor #{self.doctor_id}"

    def participant_ids(self) -> tuple[int, int]:
        return (self.patient_id, self.doctor_id)

    def other_participant_id(self, user_id: int) -> int:
        return self.doctor_id if user_id == self.patient_id else self.patient_id

    def read_up_to(self, user_id: int) -> int:
        return self.patient_read_up_to if user_id == self.patient_id else self.doctor_read_up_to

    def email_check_field(self, recipient_id: int) -> str:
        return "patient_email_check_at" if recipient_id == self.patient_id else "doctor_email_check_at"


class Message(models.Model):
    """Plain text, never edited or deleted; a retracted message keeps its row and its text (a medical
    record), but the API shows its body to nobody from then on."""

    thread = models.ForeignKey(Thread, on_delete=models.CASCADE, related_name="messages")
    sender = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    body = models.TextField(max_length=MAX_BODY_LENGTH)
    status = models.CharField(max_length=10, choices=MessageStatus.choices, default=MessageStatus.SENT)
    created_at = models.DateTimeField(auto_now_add=True)
    retracted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        indexes = [models.Index(fields=["thread", "-id"], name="message_thread_newest")]
        constraints = [
            models.CheckConstraint(
                condition=Q(status=MessageStatus.SENT, retracted_at__isnull=True)
                | Q(status=MessageStatus.RETRACTED, retracted_at__isnull=False),
                name="message_retracted_has_time",
            )
        ]

    def __str__(self) -> str:
        # Never the body: this string shows up in logs and the admin's history.
        return f"Message #{self.pk} in thread #{self.thread_id}"


class MessageAccessLog(AppendOnlyModel):
    """Who opened which thread's messages in the admin, when and from where (the API never lets staff in).

    Append-only and kept by plain ids like consultations' access log, so nothing cascades into it.
    """

    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.DO_NOTHING, db_constraint=False, null=True, related_name="+"
    )
    action = models.CharField(max_length=16, choices=AccessAction.choices)
    thread = models.ForeignKey(Thread, on_delete=models.DO_NOTHING, db_constraint=False, related_name="+")
    message = models.ForeignKey(
        Message, on_delete=models.DO_NOTHING, db_constraint=False, null=True, blank=True, related_name="+"
    )
    client_ip = models.GenericIPAddressField(null=True, blank=True)
    at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-at", "-id"]

    def __str__(self) -> str:
        return f"{self.get_action_display()} of thread #{self.thread_id} by user #{self.actor_id}"
