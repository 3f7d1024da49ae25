from django.conf import settings
from django.db import models
from django.db.models import F, Q

from cybermed.api.parsers import BoundedJSONDecoder
from notifications.choices import Kind, SmsStatus


class Notification(models.Model):
    """An in-app message for one user; its email (if any) is sent by a background task."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications")
    kind = models.CharField(max_length=32, choices=Kind.choices)
    title = models.CharField(max_length=200)
    message = models.TextField()
    appointment = models.ForeignKey(
        "appointments.Appointment", on_delete=models.SET_NULL, null=True, blank=True, related_name="notifications"
    )
    data = models.JSONField(default=dict, blank=True, decoder=BoundedJSONDecoder)
    is_read = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    # Set in the transaction that sent the email: a task delivered twice (at-least-once queues) sends it once.
    emailed_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["user", "-created_at", "-id"], name="notification_user_newest"),
            models.Index(fields=["user", "is_read"], name="notification_user_unread"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} for user #{self.user_id}"


class NotificationPreference(models.Model):
    """Per-user switches; created on first use with everything on."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, primary_key=True, related_name="notification_preference"
    )
    email_enabled = models.BooleanField(default=True)
    reminders_enabled = models.BooleanField(default=True)
    # Off until the user opts in: a text costs money and reaches a phone others may see.
    sms_enabled = models.BooleanField(default=False)

    def __str__(self) -> str:
        return f"Preferences of user #{self.user_id}"


class SmsDelivery(models.Model):
    """One text message: to whom, through which backend, and what the provider last reported.

    At most one per notification (the task's insert is the claim, so a retried task cannot text twice).
    The body is kept: it carries no medical text by construction (notifications.sms_text).
    """

    notification = models.OneToOneField(Notification, on_delete=models.CASCADE, related_name="sms")
    to = models.CharField(max_length=32)
    body = models.CharField(max_length=320)
    backend = models.CharField(max_length=200)
    provider_id = models.CharField(max_length=64, blank=True, default="")
    status = models.CharField(max_length=12, choices=SmsStatus.choices, default=SmsStatus.QUEUED)
    error = models.CharField(max_length=500, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name_plural = "SMS deliveries"
        constraints = [
            models.UniqueConstraint(
                fields=["provider_id"], condition=~Q(provider_id=""), name="smsdelivery_provider_id_uniq"
            )
        ]

    def __str__(self) -> str:
        return f"SMS for notification #{self.notification_id}: {self.status}"


class ReminderSent(models.Model):
    """One row per reminder sent. The unique key makes `send_reminders` idempotent even when two copies run at
    once; `start` is part of the key so a rescheduled appointment gets a fresh reminder."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    appointment = models.ForeignKey("appointments.Appointment", on_delete=models.CASCADE, related_name="+")
    start = models.DateTimeField()
    sent_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "appointment", "start"], name="remindersent_user_appt_start_uniq")
        ]

    def __str__(self) -> str:
        return f"Reminder for appointment #{self.appointment_id} to user #{self.user_id}"


class WaitlistEntry(models.Model):
    """A patient waiting for any slot of `doctor` between two dates (inclusive, in the doctor's time zone)."""

    patient = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="waitlist_entries")
    doctor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="waitlisted_by")
    start_date = models.DateField()
    end_date = models.DateField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name_plural = "waitlist entries"
        indexes = [models.Index(fields=["doctor", "start_date", "end_date"], name="waitlist_doctor_range")]
        constraints = [
            models.CheckConstraint(condition=Q(end_date__gte=F("start_date")), name="waitlist_end_not_before_start"),
            models.UniqueConstraint(
                fields=["patient", "doctor", "start_date", "end_date"], name="waitlist_patient_doctor_range_uniq"
            ),
        ]

    def __str__(self) -> str:
        return f"Patient #{self.patient_id} waiting for doctor #{self.doctor_id} {self.start_date}..{self.end_date}"
