import django_filters

from users.models import Specialty, User


class DoctorFilter(django_filters.FilterSet):
    specialty = django_filters.ModelChoiceFilter(
        field_name="doctor_profile__specialty", queryset=Specialty.objects.all(), help_text="Specialty id."
    )
    ordering = django_filters.OrderingFilter(
        fields=(
            ("last_name", "last_name"),
            ("first_name", "first_name"),
            ("doctor_profile__experience_years", "experience_years"),
        ),
        help_text="last_name, first_name or experience_years; prefix with - for descending order.",
    )

    class Meta:
        model = User
        fields = ["specialty"]


class PatientFilter(django_filters.FilterSet):
    ordering = django_filters.OrderingFilter(
        fields=(("last_name", "last_name"), ("first_name", "first_name"), ("date_joined", "date_joined")),
    )

    class Meta:
        model = User
        fields: list[str] = []
