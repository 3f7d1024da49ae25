import django_filters
from django import forms

from notifications.models import Notification

TRUE_VALUES = {"true", "1"}
FALSE_VALUES = {"false", "0"}


class StrictBooleanField(forms.Field):
    """`true`/`false`/`1`/`0`, any case; anything else is a 400 (a plain BooleanFilter silently ignores it)."""

    def to_python(self, value: str | None) -> bool | None:
        if value in (None, ""):
            return None
        text = str(value).strip().lower()
        if text in TRUE_VALUES:
            return True
        if text in FALSE_VALUES:
            return False
        raise forms.ValidationError("Use true or false.", code="invalid")


class StrictBooleanFilter(django_filters.Filter):
    field_class = StrictBooleanField


class NotificationFilter(django_filters.FilterSet):
    is_read = StrictBooleanFilter(help_text="`true` or `false` (`1`/`0` also accepted).")

    class Meta:
        model = Notification
        fields = ["is_read"]
