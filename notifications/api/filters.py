import django_filters

from notifications.models import Notification


class NotificationFilter(django_filters.FilterSet):
    # A plain BooleanFilter silently ignores values it can't read ("maybe"); a choice filter answers 400.
    is_read = django_filters.TypedChoiceFilter(
        choices=[("true", "true"), ("false", "false")],
        coerce=lambda value: value == "true",
        help_text="`true` or `false`.",
    )

    class Meta:
        model = Notification
        fields = ["is_read"]
