from django_filters import rest_framework as filters

from consultations.models import Consultation
from cybermed.api.filters import IdFilter


class ConsultationFilter(filters.FilterSet):
    appointment = IdFilter(field_name="appointment_id", help_text="Appointment id.")
    patient = IdFilter(field_name="patient_id", help_text="Patient user id.")

    class Meta:
        model = Consultation
        fields = ["appointment", "patient"]
