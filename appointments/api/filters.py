import django_filters
from django.db.models import QuerySet
from django.utils import timezone

from appointments.choices import Status
from appointments.models import Appointment
from cybermed.api.filters import AwareDateTimeFilter, CommaMultipleChoiceFilter, IdFilter
from users.api.filters import StableOrderingFilter
from users.models import User


class AppointmentFilter(django_filters.FilterSet):
    status = CommaMultipleChoiceFilter(choices=Status.choices, help_text="Repeat it or separate values by commas.")
    doctor = IdFilter(field_name="doctor_id", label="Doctor's user id")
    patient = IdFilter(field_name="patient_id", label="Patient's user id")
    start_after = AwareDateTimeFilter(field_name="start", lookup_expr="gte", label="start >= this datetime")
    start_before = AwareDateTimeFilter(field_name="start", lookup_expr="lt", label="start < this datetime")
    when = django_filters.ChoiceFilter(
        choices=[("upcoming", "upcoming"), ("past", "past")],
        method="filter_when",
        label="upcoming: start is now or later; past: start is before now",
    )

    class Meta:
        model = Appointment
        fields = ["status", "doctor", "patient", "start_after", "start_before", "when"]

    def filter_when(self, qs: QuerySet, name: str, value: str) -> QuerySet:
        now = timezone.now()
        return qs.filter(start__gte=now) if value == "upcoming" else qs.filter(start__lt=now)


class PatientFilter(django_filters.FilterSet):
    ordering = StableOrderingFilter(
        fields=(("last_name", "last_name"), ("first_name", "first_name"), ("date_joined", "date_joined")),
        help_text="last_name, first_name or date_joined; prefix with - for descending order.",
    )

    class Meta:
        model = User
        fields: list[str] = []
