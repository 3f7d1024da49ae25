from django.db import models


class Kind(models.TextChoices):
    APPOINTMENT_CREATED = "appointment_created", "Appointment created"
    APPOINTMENT_CONFIRMED = "appointment_confirmed", "Appointment confirmed"
    APPOINTMENT_CANCELLED = "appointment_cancelled", "Appointment cancelled"
    APPOINTMENT_RESCHEDULED = "appointment_rescheduled", "Appointment rescheduled"
    APPOINTMENT_REFERRED = "appointment_referred", "Appointment referred"
    APPOINTMENT_COMPLETED = "appointment_completed", "Appointment completed"
    APPOINTMENT_NO_SHOW = "appointment_no_show", "Appointment marked as no-show"
    CONSULTATION_CREATED = "consultation_created", "Consultation record added"
    CONSULTATION_UPDATED = "consultation_updated", "Consultation record updated"
    REMINDER = "reminder", "Appointment reminder"
    SLOT_OPENED = "slot_opened", "Slot opened"


class SmsStatus(models.TextChoices):
    """Where a text message is: with the provider, sent to the network, or its final report."""

    QUEUED = "queued", "Queued"
    SENT = "sent", "Sent"
    DELIVERED = "delivered", "Delivered"
    UNDELIVERED = "undelivered", "Undelivered"
    FAILED = "failed", "Failed"


# Delivery reports can arrive out of order (Twilio's "sent" after its "delivered"): a status only
# replaces one of a lower rank.
SMS_STATUS_RANK = {
    SmsStatus.QUEUED: 0,
    SmsStatus.SENT: 1,
    SmsStatus.DELIVERED: 2,
    SmsStatus.UNDELIVERED: 2,
    SmsStatus.FAILED: 2,
}
