"""Schema generation: the responses every operation can give are derived here, from the view itself.

A view documents only what cannot be derived (a 200 body that is not its serializer, a 409 and its
codes, an extra 401/404 its logic raises). From the view this adds:

- 401 unless every permission is `AllowAny`;
- 403 when a permission beyond `IsAuthenticated` applies (the permissions' own messages say why);
- 404 when the path has a parameter, or the list is paginated (a page past the end);
- 400 when there is a request body, a filter set, or declared query parameters to validate;
- 429 when a throttle applies;
- summary and description from the handler's docstring (first paragraph, rest), or, for handlers a
  viewset inherits from DRF, from a `<action>:` section of the view's docstring.

Error bodies have one shape each: `Error` (`detail`, optional `code`), `Conflict` (`detail`, `code`
from the domain conflicts) and `ValidationError` (a map of names to messages).
"""

import inspect
import re
from collections.abc import Iterator

import uritemplate
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.openapi import AutoSchema as SpectacularAutoSchema
from drf_spectacular.plumbing import ResolvedComponent
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse
from rest_framework import serializers
from rest_framework.permissions import AND, OR, SAFE_METHODS, AllowAny, IsAuthenticated

from cybermed.exceptions import DomainConflict, IdempotencyConflict

IDEMPOTENCY_KEY_PARAMETER = OpenApiParameter(
    name="Idempotency-Key",
    location=OpenApiParameter.HEADER,
    required=False,
    type=str,
    description="1-255 printable ASCII characters (e.g. a UUID). A retry with the same key and the same body "
    "within 24 h gets the first response (same status and body, header `Idempotent-Replayed: true`) and has "
    "no second effect, also when the two race; the same key with another body → 409 `idempotency_conflict`. "
    "Keys are per user. Responses with a 5xx status are not kept.",
)


def conflict_choices() -> dict[str, str]:
    """Every domain conflict's code and meaning, walked from the class tree so that a new one is documented."""

    def walk(cls: type[DomainConflict]) -> Iterator[type[DomainConflict]]:
        for sub in cls.__subclasses__():
            yield sub
            yield from walk(sub)

    choices: dict[str, str] = {}
    for conflict_class in walk(DomainConflict):
        choices.setdefault(conflict_class.code, conflict_class.default_detail)
    return choices


class ErrorSerializer(serializers.Serializer):
    detail = serializers.CharField()
    code = serializers.CharField(required=False, help_text="Present where the error has a machine-readable reason.")


class ConflictSerializer(serializers.Serializer):
    detail = serializers.CharField()

    def get_fields(self) -> dict:
        # Built when the schema is generated, after every app has defined its conflicts.
        return {**super().get_fields(), "code": serializers.ChoiceField(choices=list(conflict_choices().items()))}


# DRF's validation errors (and django-filter's): names mapped to messages; nested serializers and
# list items carry their own maps.
VALIDATION_ERROR_SCHEMA = {
    "type": "object",
    "description": "Field (or query parameter) names mapped to their messages; nested objects and lists "
    "carry their own maps. `non_field_errors` holds messages about the input as a whole.",
    "additionalProperties": {
        "anyOf": [
            {"type": "array", "items": {"anyOf": [{"type": "string"}, {"type": "object"}]}},
            {"type": "object"},
        ]
    },
}


def error(description: str) -> OpenApiResponse:
    """An error response in the standard `Error` shape, for a status the view itself raises."""
    return OpenApiResponse(ErrorSerializer, description=description)


def conflict(*conflicts: type[DomainConflict], description: str = "") -> OpenApiResponse:
    """The 409 of an operation, naming the conflict codes it can answer with."""
    codes = " ".join(f"`{c.code}`: {c.default_detail}" for c in conflicts)
    return OpenApiResponse(ConflictSerializer, description=f"{codes} {description}".strip())


SECTION = re.compile(r"^([a-z_]+):\s*$")


# Handlers that serve any view (DRF's mixins, our `.values()` list): the view's `<action>:` section describes them.
GENERIC_HANDLER_MODULES = ("rest_framework", "cybermed.api.lists")


def is_generic_handler(obj: object) -> bool:
    return getattr(obj, "__module__", "").startswith(GENERIC_HANDLER_MODULES)


def _own_doc(obj: object) -> str:
    if obj is None or is_generic_handler(obj):
        return ""
    return inspect.cleandoc(obj.__doc__ or "")


def _unwrap(text: str) -> str:
    # Docstrings are wrapped at the line length; the rendered description should flow.
    return "\n\n".join(" ".join(p.split()) for p in re.split(r"\n\s*\n", text.strip()) if p.strip())


def _sections(doc: str) -> tuple[str, dict[str, str]]:
    """Split a view docstring into its preamble and its `<action>:` sections (DRF's convention)."""
    preamble: list[str] = []
    sections: dict[str, list[str]] = {}
    current = preamble
    for line in doc.splitlines():
        match = SECTION.match(line)
        if match:
            current = sections.setdefault(match.group(1), [])
        else:
            current.append(line)
    return "\n".join(preamble).strip(), {name: inspect.cleandoc("\n".join(text)) for name, text in sections.items()}


def _refusal(permission: object) -> str:
    """What a client is told when `permission` refuses it (composed permissions: each side's message)."""
    if isinstance(permission, OR):
        return f"{_refusal(permission.op1)} / {_refusal(permission.op2)}"
    if isinstance(permission, AND):
        return " ".join(filter(None, (_refusal(permission.op1), _refusal(permission.op2))))
    return getattr(permission, "message", "") or ""


class AutoSchema(SpectacularAutoSchema):
    def _docs(self) -> tuple[str, str]:
        name = getattr(self.view, "action", None) or self.method.lower()
        view_doc = self.view.__class__.__dict__.get("__doc__")
        preamble, sections = _sections(inspect.cleandoc(view_doc or ""))
        doc = _own_doc(getattr(self.view, name, None)) or sections.get(name, "")
        if not doc:  # a view with one operation and no handler of its own: its docstring describes that
            doc, preamble = preamble, ""
        summary, _, rest = _unwrap(doc).partition("\n\n")
        return summary.removesuffix("."), rest or _unwrap(preamble)

    def get_summary(self) -> str | None:
        return self._docs()[0] or None

    def get_description(self) -> str:
        return self._docs()[1]

    def _handler(self) -> object:
        return getattr(self.view, getattr(self.view, "action", None) or self.method.lower(), None)

    def _is_idempotent(self) -> bool:
        # Keys are for writes: an action that also answers GET documents the header on its POST only.
        return self.method not in SAFE_METHODS and bool(getattr(self._handler(), "idempotent", False))

    def get_override_parameters(self) -> list:
        parameters = super().get_override_parameters()
        if self._is_idempotent():
            parameters = [*parameters, IDEMPOTENCY_KEY_PARAMETER]
        return parameters

    def get_auth(self) -> list[dict]:
        # A view that authenticates nobody takes no credentials (rather than optional ones).
        return super().get_auth() if self.view.get_authenticators() else []

    def _has_validated_input(self) -> bool:
        if self._get_request_body():
            return True
        if self._is_list_view() and any(
            issubclass(backend, DjangoFilterBackend) and getattr(self.view, "filterset_class", None)
            for backend in self.get_filter_backends()
        ):
            return True
        # Declared query parameters (or a serializer of them) are validated by the view.
        return any(
            not isinstance(p, OpenApiParameter) or p.location == OpenApiParameter.QUERY
            for p in self.get_override_parameters()
        )

    def _standard_responses(self) -> Iterator[tuple[str, OpenApiResponse]]:
        if self._has_validated_input():
            yield "400", OpenApiResponse(self._validation_error(), description="The input is not valid.")
        permissions = self.view.get_permissions()
        if not all(isinstance(p, AllowAny) for p in permissions):
            yield "401", error("No access token, or one that is invalid or expired.")
        beyond = [p for p in permissions if not isinstance(p, (IsAuthenticated, AllowAny))]
        if beyond:
            reasons = " ".join(dict.fromkeys(_refusal(p) for p in beyond)).strip()
            yield "403", error(reasons or "Authenticated, but not allowed to do this.")
        if uritemplate.variables(self.path):
            yield "404", error("No such object, or not one you can see (the two are indistinguishable).")
        elif self._is_list_view() and self._get_paginator():
            yield "404", error("No such page (past the end, or not a number).")
        if self.view.get_throttles():
            yield "429", error("Too many requests; retry after the seconds given in Retry-After.")

    def schema_component(self, name: str, schema: dict) -> dict:
        """Register a hand-written schema as the component `name` (once) and return its $ref."""
        component = ResolvedComponent(name=name, type=ResolvedComponent.SCHEMA, object=name, schema=schema)
        self.registry.register_on_missing(component)
        return component.ref

    def _validation_error(self) -> dict:
        error_component = self.resolve_serializer(ErrorSerializer(), "response")
        # A body that cannot be parsed at all is answered with `detail` instead of a field map.
        return {"anyOf": [self.schema_component("ValidationError", VALIDATION_ERROR_SCHEMA), error_component.ref]}

    def _get_response_bodies(self, direction: str = "response") -> dict:
        responses = super()._get_response_bodies(direction)
        for code, response in self._standard_responses():
            if code not in responses:
                responses[code] = self._get_response_for_code(response, code, direction=direction)
        if self._is_idempotent():
            if "409" not in responses:
                responses["409"] = self._get_response_for_code(
                    conflict(IdempotencyConflict), "409", direction=direction
                )
            else:
                extra = f"`{IdempotencyConflict.code}`: {IdempotencyConflict.default_detail}"
                responses["409"] = {**responses["409"], "description": f"{responses['409']['description']} {extra}"}
        return dict(sorted(responses.items()))
