"""application/fhir+json responses, errors included (as OperationOutcome), and their OpenAPI description."""

from rest_framework import status
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.renderers import JSONRenderer

from cybermed.api.schema import AutoSchema

FHIR_JSON = "application/fhir+json"

# HTTP status → FHIR IssueType (http://hl7.org/fhir/R4/valueset-issue-type.html).
ISSUE_CODE = {
    status.HTTP_400_BAD_REQUEST: "invalid",
    status.HTTP_401_UNAUTHORIZED: "login",
    status.HTTP_403_FORBIDDEN: "forbidden",
    status.HTTP_404_NOT_FOUND: "not-found",
    status.HTTP_405_METHOD_NOT_ALLOWED: "not-supported",
    status.HTTP_406_NOT_ACCEPTABLE: "not-supported",
    status.HTTP_409_CONFLICT: "conflict",
    status.HTTP_413_REQUEST_ENTITY_TOO_LARGE: "too-long",
    status.HTTP_415_UNSUPPORTED_MEDIA_TYPE: "not-supported",
    status.HTTP_429_TOO_MANY_REQUESTS: "throttled",
    status.HTTP_503_SERVICE_UNAVAILABLE: "transient",
}


class FhirJSONRenderer(JSONRenderer):
    media_type = FHIR_JSON
    format = "fhir"


class FhirNegotiation(BaseContentNegotiation):
    """Always FHIR JSON: `application/json`, `*/*` and no Accept at all are all answered with it (FHIR's
    JSON format is JSON), and an XML-only client gets the JSON rather than a 406 it could do nothing with."""

    def select_parser(self, request, parsers):
        return parsers[0] if parsers else None

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type


OPERATION_OUTCOME_SCHEMA = {
    "type": "object",
    "description": "A FHIR R4 OperationOutcome: what went wrong, in `issue[].diagnostics`.",
    "required": ["resourceType", "issue"],
    "properties": {
        "resourceType": {"type": "string", "enum": ["OperationOutcome"]},
        "issue": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["severity", "code"],
                "properties": {
                    "severity": {"type": "string", "enum": ["error"]},
                    "code": {"type": "string", "description": "A FHIR IssueType: invalid, login, forbidden, ..."},
                    "diagnostics": {"type": "string"},
                },
            },
        },
    },
}


class FhirAutoSchema(AutoSchema):
    """The project's derived responses, with every error body an OperationOutcome in application/fhir+json."""

    def _get_response_bodies(self, direction: str = "response") -> dict:
        responses = super()._get_response_bodies(direction)
        outcome = self.schema_component("OperationOutcome", OPERATION_OUTCOME_SCHEMA)
        for code, response in responses.items():
            if code.startswith(("4", "5")):
                response["content"] = {FHIR_JSON: {"schema": outcome}}
        return responses
