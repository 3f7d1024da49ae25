"""Number fields for every app's serializers: integers are integers, never a bool, a fraction or infinity.

DRF's PrimaryKeyRelatedField looks `3.5` up as object 3 and crashes on `1e400` (OverflowError);
its IntegerField takes `5.0` and `True`-ish strings. Here a JSON integer (or, as form data sends
numbers, a string of ASCII digits) is the only thing accepted.
"""

from typing import Any

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
