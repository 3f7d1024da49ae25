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
