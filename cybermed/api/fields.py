"""Serializer fields for every app that take JSON at its word, so every malformed value is a 400, never a 500.

Integers are integers, never a bool, a fraction or infinity: DRF's PrimaryKeyRelatedField looks `3.5`
up as object 3 and crashes on `1e400` (OverflowError); its IntegerField takes `5.0` and `True`-ish
strings. Here a JSON integer (or, as form data sends numbers, a string of ASCII digits) is the only
thing accepted. Strings are strings (DRF's CharField would turn 12 into "12"), and datetimes carry an
offset and stay far enough from the ends of the calendar to compute with.
"""

import datetime as dt
import re
from typing import Any

from django.db import models
from django.utils import timezone
from phonenumber_field import modelfields as phone_model
from phonenumber_field import serializerfields as phone_serializer
from rest_framework import serializers

# The largest id a database integer column holds; a bigger one cannot name anything.
MAX_ID = 2**63 - 1


def integer_from_json(data: Any) -> int | None:
    """`data` as an int if it is a JSON integer or a string of ASCII digits (optionally signed), else None."""
    if isinstance(data, str):
        text = data.strip()
        digits = text[1:] if text[:1] in "+-" else text
        if not (digits.isascii() and digits.isdigit()) or len(digits) > 20:
            return None
        return int(text)
    if isinstance(data, bool) or not isinstance(data, int):
        return None
    return data


class StrictIdField(serializers.PrimaryKeyRelatedField):
    """An object id as a JSON integer (or a string of digits): never a bool, a fraction, or an impossible number."""

    default_error_messages = {"not_an_id": "Must be an integer id."}

    def to_internal_value(self, data: Any) -> Any:
        value = integer_from_json(data)
        if value is None or not 0 < value <= MAX_ID:
            self.fail("not_an_id")
        return super().to_internal_value(value)


class StrictIntegerField(serializers.IntegerField):
    """A whole number written as one: `5.0`, `5.5`, `true` and `1e400` are refused, not rounded or crashed on."""

    def to_internal_value(self, data: Any) -> int:
        value = integer_from_json(data)
        if value is None:
            self.fail("invalid")
        return super().to_internal_value(value)


class MoneyField(serializers.DecimalField):
    """An amount as a decimal string ("12.50"), rendered as one: a JSON number (a binary float) is refused, since
    it may not hold the amount the client meant; so are NaN, infinities and exponents."""

    default_error_messages = {"not_a_string": 'Send the amount as a decimal string, e.g. "12.50".'}

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("max_digits", 10)
        kwargs.setdefault("decimal_places", 2)
        super().__init__(coerce_to_string=True, **kwargs)

    def to_internal_value(self, data: Any) -> Any:
        if not isinstance(data, str) or not re.fullmatch(r"\d{1,10}(\.\d{1,10})?", data.strip()):
            self.fail("not_a_string")
        return super().to_internal_value(data.strip())


# Inputs closer than this to the ends of Python's datetime range are refused: converting them between
# time zones, or adding a slot or a day around them, would overflow.
RANGE_MARGIN = dt.timedelta(days=7)
MIN_DATETIME = dt.datetime.min.replace(tzinfo=dt.UTC) + RANGE_MARGIN
MAX_DATETIME = dt.datetime.max.replace(tzinfo=dt.UTC) - RANGE_MARGIN
MIN_DATE = dt.date.min + RANGE_MARGIN
MAX_DATE = dt.date.max - RANGE_MARGIN
OUT_OF_RANGE = f"Out of the supported range ({MIN_DATE.isoformat()} to {MAX_DATE.isoformat()})."


def printable(text: str) -> str:
    """`text` safe to echo back in JSON: a lone surrogate cannot be encoded as UTF-8 and would crash rendering."""
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


def aware_datetime_in_range(value: dt.datetime) -> dt.datetime | None:
    """`value` in UTC, or None if it is too close to the ends of the datetime range to compute with."""
    try:
        utc = value.astimezone(dt.UTC)
    except OverflowError:
        return None
    return utc if MIN_DATETIME <= utc <= MAX_DATETIME else None


class StrictCharField(serializers.CharField):
    """A JSON string and nothing else: DRF's CharField would quietly turn 12 into "12"."""

    default_error_messages = {
        "not_a_string": "Must be a string.",
        "bad_unicode": "Contains characters that cannot be stored (unpaired surrogates).",
    }

    def to_internal_value(self, data: Any) -> str:
        if not isinstance(data, str):
            self.fail("not_a_string")
        try:
            data.encode("utf-8")
        except UnicodeEncodeError:
            self.fail("bad_unicode")
        return super().to_internal_value(data)


class PhoneNumberField(phone_serializer.PhoneNumberField, StrictCharField):
    """A phone number as a JSON string, stored and shown in E.164 (`+442071838750`); "" for none.

    International format only (unless PHONENUMBER_DEFAULT_REGION names a country for national numbers):
    an SMS gateway needs the country code, and guessing it is how messages reach strangers.
    """

    def to_internal_value(self, data: Any) -> str:
        number = super().to_internal_value(data)
        return number.as_e164 if number else ""

    def to_representation(self, value: object) -> str:
        return str(value) if value else ""


class AwareDateTimeField(serializers.DateTimeField):
    """ISO 8601 with an offset; a naive datetime is rejected instead of being read in the server's zone."""

    default_error_messages = {
        "naive": "Include a UTC offset or Z, e.g. 2030-01-07T09:00:00+01:00.",
        "out_of_range": OUT_OF_RANGE,
    }

    def to_internal_value(self, value: object) -> dt.datetime:
        if isinstance(value, dt.datetime):
            parsed = value
        else:
            if not isinstance(value, str):
                self.fail("invalid", format="YYYY-MM-DDThh:mm[:ss[.uuuuuu]](+HH:MM|-HH:MM|Z)")
            parsed = super().to_internal_value(value)
            if not _has_offset(value):
                self.fail("naive")
        if timezone.is_naive(parsed):
            self.fail("naive")
        utc = aware_datetime_in_range(parsed)
        if utc is None:
            self.fail("out_of_range")
        return utc


def _has_offset(raw: str) -> bool:
    try:
        return dt.datetime.fromisoformat(raw.strip()).tzinfo is not None
    except ValueError:
        return False


class BoundedDateField(serializers.DateField):
    """`YYYY-MM-DD`, far enough from the ends of the calendar to compute with."""

    default_error_messages = {"out_of_range": OUT_OF_RANGE}

    def to_internal_value(self, value: object) -> dt.date:
        parsed = super().to_internal_value(value)
        if not MIN_DATE <= parsed <= MAX_DATE:
            self.fail("out_of_range")
        return parsed


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
        phone_model.PhoneNumberField: PhoneNumberField,
        **dict.fromkeys(INTEGER_COLUMNS, StrictIntegerField),
    }
