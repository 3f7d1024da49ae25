"""The one JSON parser for every endpoint: a body the API cannot safely work with is a 400, never a 500.

DRF's parser lets three things through that later code cannot handle:

- nesting deep enough to exhaust Python's recursion limit (`[[[[...]]]]`): the RecursionError escapes;
- nesting that parses but is still deep enough to make serializers, model validators or the renderer
  recurse; no request of this API needs more than a few levels, so anything deeper than MAX_JSON_DEPTH
  is refused before any view code runs;
- numbers too large for a float (`1e400` parses to infinity): JSON has no infinity, so they are refused
  like the `NaN` and `Infinity` literals, which are not JSON either.

The size of a body is bounded before parsing by DATA_UPLOAD_MAX_MEMORY_SIZE (a 413).
"""

import codecs
import json
import math
from typing import Any

from django.conf import settings
from rest_framework import parsers
from rest_framework.exceptions import ParseError

# Levels of arrays and objects, the outermost counting as 1. The deepest body the API accepts
# (a consultation's prescriptions) needs 3.
MAX_JSON_DEPTH = 64


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"Number out of range: {text[:40]}")
    return value


def _reject_constant(name: str) -> None:
    raise ValueError(f"{name} is not valid JSON")


def json_depth_exceeds(data: Any, limit: int = MAX_JSON_DEPTH) -> bool:
    """Whether `data` nests arrays/objects more than `limit` levels (iteratively: deep input cannot recurse)."""
    if not isinstance(data, dict | list):
        return False
    stack: list[tuple[Any, int]] = [(data, 1)]
    while stack:
        value, depth = stack.pop()
        children = value.values() if isinstance(value, dict) else value
        if depth > limit:
            return True
        stack.extend((child, depth + 1) for child in children if isinstance(child, dict | list))
    return False


def json_loads_bounded(text: str | bytes) -> Any:
    """`json.loads` that raises ValueError for non-finite numbers, NaN/Infinity and nesting past MAX_JSON_DEPTH."""
    try:
        data = json.loads(text, parse_float=_finite_float, parse_constant=_reject_constant)
    except RecursionError:
        raise ValueError(f"Nested more than {MAX_JSON_DEPTH} levels deep.") from None
    if json_depth_exceeds(data):
        raise ValueError(f"Nested more than {MAX_JSON_DEPTH} levels deep.")
    return data


class JSONParser(parsers.JSONParser):
    def parse(self, stream: Any, media_type: str | None = None, parser_context: dict | None = None) -> Any:
        encoding = (parser_context or {}).get("encoding", settings.DEFAULT_CHARSET)
        try:
            return json_loads_bounded(codecs.getreader(encoding)(stream).read())
        except ValueError as exc:  # includes UnicodeDecodeError and json.JSONDecodeError
            raise ParseError(f"JSON parse error - {exc}") from None


class BoundedJSONDecoder(json.JSONDecoder):
    """For JSONFields: the admin's JSON form fields apply the same bounds as the API parser.

    Django's form field only turns json.JSONDecodeError into a validation error, so that is what this raises.
    """

    def decode(self, s: str, *args: Any, **kwargs: Any) -> Any:
        try:
            return json_loads_bounded(s)
        except json.JSONDecodeError:
            raise
        except ValueError as exc:
            raise json.JSONDecodeError(str(exc), s, 0) from None
