from typing import Any

from rest_framework import serializers

from appointments.models import Appointment
from consultations.models import (
    CLINICAL_TEXT_MAX_LENGTH,
    CONTENT_FIELDS,
    MAX_PRESCRIPTIONS,
    PRESCRIPTION_FIELD_MAX_LENGTHS,
    Consultation,
)
from cybermed.api.fields import StrictCharField, StrictIdField, printable


class PrescriptionSerializer(serializers.Serializer):
    drug = StrictCharField(max_length=PRESCRIPTION_FIELD_MAX_LENGTHS["drug"])
    dose = StrictCharField(max_length=PRESCRIPTION_FIELD_MAX_LENGTHS["dose"])
    frequency = StrictCharField(max_length=PRESCRIPTION_FIELD_MAX_LENGTHS["frequency"])
    duration = StrictCharField(max_length=PRESCRIPTION_FIELD_MAX_LENGTHS["duration"])
    notes = StrictCharField(max_length=PRESCRIPTION_FIELD_MAX_LENGTHS["notes"], allow_blank=True, default="")

    def to_internal_value(self, data: Any) -> dict[str, str]:
        if isinstance(data, dict):
            unknown = sorted(set(data) - set(self.fields))
            if unknown:
                raise serializers.ValidationError({printable(name): ["Unknown field."] for name in unknown})
        return super().to_internal_value(data)


def clinical_text() -> StrictCharField:
    return StrictCharField(max_length=CLINICAL_TEXT_MAX_LENGTH, allow_blank=True, trim_whitespace=False, required=False)


class ConsultationContentSerializer(serializers.Serializer):
    medical_history = clinical_text()
    examination_findings = clinical_text()
    investigations = clinical_text()
    treatment_plan = clinical_text()
    prescriptions = PrescriptionSerializer(many=True, max_length=MAX_PRESCRIPTIONS, required=False)
    review_date = serializers.DateField(allow_null=True, required=False)


class ConsultationCreateSerializer(ConsultationContentSerializer):
    appointment = StrictIdField(
        queryset=Appointment.objects.none(),
        error_messages={
            "does_not_exist": "No such appointment.",
            "incorrect_type": "Must be an appointment id.",
            "not_an_id": "Must be an appointment id.",
        },
    )

    def get_fields(self) -> dict[str, serializers.Field]:
        fields = super().get_fields()
        # Someone else's appointment reads exactly like one that does not exist.
        request = self.context.get("request")
        if request is not None and request.user.is_authenticated:
            fields["appointment"].queryset = Appointment.objects.filter(doctor=request.user)
        return fields


class ConsultationUpdateSerializer(ConsultationContentSerializer):
    """PUT replaces every clinical field (all required); PATCH changes the ones given."""

    def get_fields(self) -> dict[str, serializers.Field]:
        fields = super().get_fields()
        for name in CONTENT_FIELDS:
            fields[name].required = True
        return fields


class ConsultationSerializer(serializers.ModelSerializer):
    prescriptions = PrescriptionSerializer(many=True, read_only=True)

    class Meta:
        model = Consultation
        fields = ["id", "appointment", "doctor", "patient", *CONTENT_FIELDS, "created_at", "updated_at"]
        read_only_fields = fields


class ConsultationRevisionSerializer(serializers.Serializer):
    """One earlier version: its clinical content, and the change that replaced it (`old_values` holds the
    changed fields as they were before it)."""

    medical_history = serializers.CharField()
    examination_findings = serializers.CharField()
    investigations = serializers.CharField()
    treatment_plan = serializers.CharField()
    prescriptions = PrescriptionSerializer(many=True)
    review_date = serializers.DateField(allow_null=True)

    changed_by = serializers.IntegerField(allow_null=True, help_text="User id of whoever made the change.")
    changed_at = serializers.DateTimeField()
    changed_fields = serializers.ListField(child=serializers.ChoiceField(choices=CONTENT_FIELDS))
    old_values = serializers.DictField(
        help_text="Field name → value before the change (prescriptions as a list, review_date as YYYY-MM-DD)."
    )
