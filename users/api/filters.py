import django_filters
from django.db.models import QuerySet

from users.models import Specialty, User

# The directories' default order; requested orderings are completed with it so that equal values
# (two doctors with 5 years' experience) never swap places between pages.
NAME_ORDER = ("last_name", "first_name", "pk")


class StableOrderingFilter(django_filters.OrderingFilter):
    """`?ordering=` that always ends in a unique key, and treats an empty value (`?ordering=,`) as absent."""

    def filter(self, qs: QuerySet, value: list[str] | None) -> QuerySet:
        ordering = [self.get_ordering_value(param) for param in value or [] if param]
        if not ordering:
            return qs
        return qs.order_by(*ordering, *NAME_ORDER)


class DoctorFilter(django_filters.FilterSet):
    specialty = django_filters.ModelChoiceFilter(
        field_name="doctor_profile__specialty", queryset=Specialty.objects.all(), help_text="Specialty id."
    )
    ordering = StableOrderingFilter(
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
