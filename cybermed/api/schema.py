"""Schema generation: responses every operation can give are documented once, here.

Views document what is specific to them; this adds the rest so that the OpenAPI document is honest
about what clients can receive: 404 for a page number past the end of a list, 400 for a bad query
parameter on a filtered list, and 429 wherever a throttle applies.
"""

from drf_spectacular.openapi import AutoSchema as SpectacularAutoSchema
from drf_spectacular.utils import OpenApiResponse, inline_serializer
from rest_framework import serializers

ErrorSerializer = inline_serializer(
    "Error",
    fields={
        "detail": serializers.CharField(),
        "code": serializers.CharField(required=False),
    },
)
# DRF's validation errors (and django-filter's): a map of parameter or field names to messages.
VALIDATION_ERROR_SCHEMA = {
    "type": "object",
    "additionalProperties": {"type": "array", "items": {"type": "string"}},
}


class AutoSchema(SpectacularAutoSchema):
    def _get_response_bodies(self, direction: str = "response") -> dict:
        responses = super()._get_response_bodies(direction)
        extra: dict[str, OpenApiResponse] = {}
        if self._is_list_view() and self._get_paginator():
            extra["404"] = OpenApiResponse(ErrorSerializer, description="No such page (past the end, or not a number).")
        if self._is_list_view() and self._get_filter_parameters():
            extra["400"] = OpenApiResponse(VALIDATION_ERROR_SCHEMA, description="A query parameter is not valid.")
        if self.view.get_throttles():
            extra["429"] = OpenApiResponse(
                ErrorSerializer, description="Too many requests; retry after the seconds given in Retry-After."
            )
        for code, response in extra.items():
            if code not in responses:
                responses[code] = self._get_response_for_code(response, code, direction=direction)
        return responses
