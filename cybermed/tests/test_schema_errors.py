"""Every operation documents the errors it can give, judged against its resolved view, in the shared shapes."""

import gc
import re

import pytest
from django.urls import resolve
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.generators import SchemaGenerator
from rest_framework.generics import ListAPIView
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.views import APIView

from cybermed.api.schema import is_generic_handler
from cybermed.exceptions import DomainConflict

HTTP_METHODS = {"get", "post", "put", "patch", "delete"}
PAGING_AND_SORTING = {"page", "page_size", "ordering", "search"}
# Statuses an operation's own logic raises, documented by hand on the view: nothing in the view's
# declarations predicts them.
RAISED_BY_THE_VIEW = {
    ("post", "/api/auth/login/"): {"401"},  # wrong password / inactive account, on an AllowAny view
    ("post", "/api/auth/login/refresh/"): {"401"},  # spent or invalid refresh token
    ("post", "/api/auth/social/{provider}/"): {"401"},  # an invalid ID token, on an AllowAny view
    ("get", "/api/doctor-profile/"): {"404"},  # no profile created yet
    ("put", "/api/doctor-profile/"): {"404"},
    ("patch", "/api/doctor-profile/"): {"404"},
    ("get", "/api/patient-profile/"): {"404"},
    ("put", "/api/patient-profile/"): {"404"},
    ("patch", "/api/patient-profile/"): {"404"},
    ("post", "/api/sms/twilio/status/"): {"403"},  # a missing or wrong X-Twilio-Signature, on an AllowAny view
}


def generate() -> dict:
    return SchemaGenerator().get_schema(request=None, public=True)


@pytest.fixture(scope="module")
def schema() -> dict:
    return generate()


def operations(schema: dict):
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            if method in HTTP_METHODS:
                yield path, method, operation


def resolved_view(path: str, method: str) -> APIView:
    """The view instance Django would dispatch `method path` to, set up as for a request."""
    callback = resolve(re.sub(r"\{\w+\}", "1", path)).func
    view = callback.cls(**getattr(callback, "initkwargs", {}))
    actions = getattr(callback, "actions", None)
    if actions:
        view.action_map = actions
        view.action = actions[method]
    return view


def is_paginated_list(view: APIView, method: str) -> bool:
    is_list = getattr(view, "action", None) == "list" or isinstance(view, ListAPIView)
    return method == "get" and is_list and getattr(view, "pagination_class", None) is not None


def has_filter_set(view: APIView, method: str) -> bool:
    backends = getattr(view, "filter_backends", [])
    return (
        is_paginated_list(view, method)
        and any(issubclass(b, DjangoFilterBackend) for b in backends)
        and view.filterset_class is not None
    )


def expected_errors(path: str, method: str, operation: dict) -> set[str]:
    view = resolved_view(path, method)
    permissions = view.get_permissions()
    expected = set()
    declared_query = {p["name"] for p in operation.get("parameters", []) if p["in"] == "query"} - PAGING_AND_SORTING
    if "requestBody" in operation or has_filter_set(view, method) or declared_query:
        expected.add("400")
    if not all(isinstance(p, AllowAny) for p in permissions):
        expected.add("401")
    if any(not isinstance(p, (IsAuthenticated, AllowAny)) for p in permissions):
        expected.add("403")
    if "{" in path or is_paginated_list(view, method):
        expected.add("404")
    if view.get_throttles():
        expected.add("429")
    return expected | RAISED_BY_THE_VIEW.get((method, path), set())


def test_every_operation_documents_400_401_403_404_429_exactly_where_its_view_can_give_them(schema):
    wrong = {}
    for path, method, operation in operations(schema):
        documented = {code for code in operation["responses"] if code in {"400", "401", "403", "404", "429"}}
        expected = expected_errors(path, method, operation)
        if documented != expected:
            wrong[f"{method.upper()} {path}"] = {"missing": expected - documented, "extra": documented - expected}
    assert wrong == {}


def test_the_exceptions_to_derivation_still_exist(schema):
    documented = {(method, path) for path, method, _ in operations(schema)}
    assert set(RAISED_BY_THE_VIEW) <= documented


def test_error_responses_use_the_shared_components(schema):
    error = {"$ref": "#/components/schemas/Error"}
    bad_input = {"anyOf": [{"$ref": "#/components/schemas/ValidationError"}, error]}
    conflict = {"$ref": "#/components/schemas/Conflict"}
    wrong = []
    for path, method, operation in operations(schema):
        for code, response in operation["responses"].items():
            if not code.startswith("4"):
                continue
            want = {"400": bad_input, "409": conflict}.get(code, error)
            media = "application/json"
            if path.startswith("/fhir/"):  # FHIR's own error resource, in FHIR's media type
                want, media = {"$ref": "#/components/schemas/OperationOutcome"}, "application/fhir+json"
            if response.get("content", {}).get(media, {}).get("schema") != want:
                wrong.append(f"{method.upper()} {path} {code}")
            if not response.get("description"):
                wrong.append(f"{method.upper()} {path} {code}: no description")
    assert wrong == []


def test_schema_has_one_error_one_conflict_and_one_validation_component(schema):
    components = schema["components"]["schemas"]
    error_like = {name for name, c in components.items() if "detail" in c.get("properties", {})}
    assert error_like == {"Error", "Conflict"}
    assert components["Error"]["required"] == ["detail"]
    assert set(components["Error"]["properties"]) == {"detail", "code"}
    assert set(components["Conflict"]["required"]) == {"detail", "code"}
    assert "ValidationError" in components


def test_conflict_code_enum_lists_every_domain_conflict_including_a_new_one():
    class DoubleSpend(DomainConflict):
        code = "double_spend"
        default_detail = "Spent twice."

    try:
        components = generate()["components"]["schemas"]
        enum = components[components["Conflict"]["properties"]["code"]["$ref"].rsplit("/", 1)[1]]["enum"]
        assert {"slot_unavailable", "invalid_transition", "already_exists", "booking_limit", "double_spend"} <= set(
            enum
        )
    finally:
        del DoubleSpend
        gc.collect()  # so that the class leaves DomainConflict.__subclasses__() for later tests
    assert "double_spend" not in {c.code for c in DomainConflict.__subclasses__()}


def test_every_operation_has_a_summary(schema):
    assert [f"{m.upper()} {p}" for p, m, op in operations(schema) if not op.get("summary")] == []


def test_every_handler_written_in_a_view_has_a_docstring(schema):
    undocumented = set()
    for path, method, _ in operations(schema):
        view = resolved_view(path, method)
        name = getattr(view, "action", None) or method
        handler = getattr(view, name)
        # __doc__, not inspect.getdoc: an override must not borrow the docstring of what it overrides.
        if not is_generic_handler(handler) and not (handler.__doc__ or "").strip():
            undocumented.add(f"{type(view).__name__}.{name}")
    assert sorted(undocumented) == []
