"""Serializer fields that take JSON at its word."""

from django.db import models
from rest_framework import serializers

from cybermed.api.fields import StrictIntegerField


class StrictCharField(serializers.CharField):
    """A string, and only a string: DRF's CharField quietly turns `123` or `1.5` into text; this answers 400."""

    def to_internal_value(self, data: object) -> str:
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class StrictEmailField(serializers.EmailField, StrictCharField):
    pass


INTEGER_COLUMNS = (
    models.IntegerField,
    models.BigIntegerField,
    models.SmallIntegerField,
    models.PositiveIntegerField,
    models.PositiveBigIntegerField,
    models.PositiveSmallIntegerField,
)


class StrictModelSerializer(serializers.ModelSerializer):
    """A ModelSerializer whose text columns accept only JSON strings."""

    # ...and whose integer columns accept only whole numbers (see StrictIntegerField).
    serializer_field_mapping = {
        **serializers.ModelSerializer.serializer_field_mapping,
        models.CharField: StrictCharField,
        models.TextField: StrictCharField,
        models.EmailField: StrictEmailField,
        **dict.fromkeys(INTEGER_COLUMNS, StrictIntegerField),
    }
