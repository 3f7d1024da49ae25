"""Consultation records (amended, never deleted) and their append-only access audit."""

from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from simple_history.models import HistoricalRecords

from consultations.choices import AccessAction, AccessChannel
from cybermed.api.parsers import BoundedJSONDecoder
from cybermed.querysets import AppendOnlyModel

# Bounds for the structured prescriptions list (shared by the API serializer and the admin form).
PRESCRIPTION_FIELD_MAX_LENGTHS: dict[str, int] = {
    "drug": 200,
    "dose": 100,
    "frequency": 100,
    "duration": 100,
    "notes": 1000,
}
PRESCRIPTION_REQUIRED_FIELDS = ("drug", "dose", "frequency", "duration")
MAX_PRESCRIPTIONS = 50
CLINICAL_TEXT_MAX_LENGTH = 20_000

# The clinical content a doctor writes and amends; everything else on the record is set by the system.
CONTENT_FIELDS = (
    "medical_history",
    "examination_findings",
    "investigations",
    "treatment_plan",
    "prescriptions",
    "review_date",
)


def validate_prescriptions(value: Any) -> None:
    """A list of at most MAX_PRESCRIPTIONS objects with exactly the known string keys."""
    if not isinstance(value, list):
        raise ValidationError("Prescriptions must be a list.")
    if len(value) > MAX_PRESCRIPTIONS:
        raise ValidationError(f"At most {MAX_PRESCRIPTIONS} prescriptions.")
    for index, item in enumerate(value, start=1):
        if not isinstance(item, dict):
            raise ValidationError(f"Prescription {index} must be an object.")
        unknown = sorted(set(item) - set(PRESCRIPTION_FIELD_MAX_LENGTHS))
        if unknown:
            raise ValidationError(f"Prescription {index} has unknown fields: {', '.join(unknown)}.")
        for name, max_length in PRESCRIPTION_FIELD_MAX_LENGTHS.items():
            field_value = item.get(name, "")
            if not isinstance(field_value, str):
                raise ValidationError(f"Prescription {index}: {name} must be a string.")
            if name in PRESCRIPTION_REQUIRED_FIELDS and not field_value.strip():
                raise ValidationError(f"Prescription {index}: {name} is required.")
            if len(field_value) > max_length:
                raise ValidationError(f"Prescription {index}: {name} is longer than {max_length} characters.")


class Consultation(models.Model):
    """The record a doctor writes for one appointment. Every change is kept in `history`."""

    appointment = models.ForeignKey(
        "appointments.Appointment", on_delete=models.PROTECT, related_name="consultations", editable=False
    )
    # Copied from the appointment when the record is created (an appointment never changes hands), so
    # that every read can be scoped with one indexed filter.
    doctor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="consultations_written", editable=False
    )
    patient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="consultations_received", editable=False
    )
    medical_history = models.TextField(blank=True, default="", max_length=CLINICAL_TEXT_MAX_LENGTH)
    examination_findings = models.TextField(blank=True, default="", max_length=CLINICAL_TEXT_MAX_LENGTH)
    investigations = models.TextField(blank=True, default="", max_length=CLINICAL_TEXT_MAX_LENGTH)
    treatment_plan = models.TextField(blank=True, default="", max_length=CLINICAL_TEXT_MAX_LENGTH)
    prescriptions = models.JSONField(
        default=list, blank=True, validators=[validate_prescriptions], decoder=BoundedJSONDecoder
    )
    review_date = models.DateField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["doctor", "-created_at"], name="consultation_doctor_created"),
            models.Index(fields=["patient", "-created_at"], name="consultation_patient_created"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["appointment"], name="consultation_one_per_appointment"),
        ]

    def __str__(self) -> str:
        return f"Consultation #{self.pk} (appointment #{self.appointment_id})"


class ConsultationAccessLog(AppendOnlyModel):
    """Who read, created or changed which consultation, when and from where. No medical content.

    Append-only: rows are only ever inserted. The actor and consultation are kept as plain ids
    (no database constraint) so that nothing elsewhere can cascade into this table.
    """

    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        null=True,
        related_name="+",
    )
    action = models.CharField(max_length=16, choices=AccessAction.choices)
    consultation = models.ForeignKey(Consultation, on_delete=models.DO_NOTHING, db_constraint=False, related_name="+")
    channel = models.CharField(max_length=8, choices=AccessChannel.choices)
    client_ip = models.GenericIPAddressField(null=True, blank=True)
    at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["consultation", "-at"], name="consult_access_consult_at")]

    def __str__(self) -> str:
        return f"{self.get_action_display()} of consultation #{self.consultation_id} by user #{self.actor_id}"
