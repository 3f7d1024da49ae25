"""The FHIR R4 read API: thin views over fhir_api.selectors and fhir_api.resources."""

from collections.abc import Callable
from typing import TypeVar
from urllib.parse import urlencode

from django.http import Http404, QueryDict
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import exceptions
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from fhir_api import resources, search, selectors
from fhir_api.api.renderers import ISSUE_CODE, FhirAutoSchema, FhirJSONRenderer, FhirNegotiation
from fhir_api.capability import SEARCH_PARAMS, capability_statement
from fhir_api.search import SearchError

T = TypeVar("T")

# Without `start=lt…`, a Slot search looks this many days ahead of its lower bound.
DEFAULT_SLOT_DAYS = 7
# The date the CapabilityStatement was last changed (FHIR requires one; it is not the time of the request).
CAPABILITY_DATE = "2026-12-06"

BUNDLE_200 = OpenApiResponse(OpenApiTypes.OBJECT, description="A FHIR Bundle of type searchset.")


def _resource_200(resource_type: str) -> OpenApiResponse:
    return OpenApiResponse(OpenApiTypes.OBJECT, description=f"A FHIR R4 {resource_type} resource.")


def _params(resource_type: str) -> list[OpenApiParameter]:
    declared = [
        OpenApiParameter(name, str, description=doc, many=kind == "date")
        for name, kind, doc in SEARCH_PARAMS[resource_type]
    ]
    paging = [
        OpenApiParameter(
            "_count", int, description=f"Page size, default {search.DEFAULT_COUNT}, at most {search.MAX_COUNT}."
        ),
        OpenApiParameter("_page", int, description="Page number, from 1."),
    ]
    return declared + paging


class FhirSearchInvalid(exceptions.APIException):
    status_code = 400
    default_detail = "Invalid search."
    default_code = "invalid"


class FhirView(APIView):
    """Renders FHIR JSON, and every error as an OperationOutcome with the same HTTP status."""

    renderer_classes = [FhirJSONRenderer]
    content_negotiation_class = FhirNegotiation
    # Read-only; no OPTIONS either, whose body would be DRF's description of the view rather than FHIR.
    # (CORS preflights are answered by the CORS middleware before they reach a view.)
    http_method_names = ["get", "head"]
    schema = FhirAutoSchema()

    def read(self, found: T | None, render: Callable[[T], dict]) -> Response:
        """A read interaction: the resource rendered from `found`, or 404 when the caller may not see it."""
        if found is None:
            raise Http404
        return Response(render(found))

    def base_url(self) -> str:
        return self.request.build_absolute_uri("/fhir/")

    def handle_exception(self, exc: Exception) -> Response:
        if isinstance(exc, SearchError):
            exc = FhirSearchInvalid(str(exc))
        response = super().handle_exception(exc)  # the project's handler: statuses, headers, logging
        response.data = resources.operation_outcome(
            code=ISSUE_CODE.get(response.status_code, "exception"), diagnostics=_diagnostics(response.data)
        )
        return response

    def finalize_response(self, request: Request, response: Response, *args: object, **kwargs: object) -> Response:
        response = super().finalize_response(request, response, *args, **kwargs)
        # Personal and medical data, like everything under /api/ (NoStoreMiddleware): no cache keeps a copy.
        response["Cache-Control"] = "no-store"
        response["Pragma"] = "no-cache"
        return response

    def searchset(self, request: Request, rows: list[dict], total: int, page: search.Page) -> Response:
        """A page of a search as a Bundle, with self/first/previous/next links carrying the same query."""

        def url(number: int) -> str:
            query = QueryDict(mutable=True)
            query.update(request.query_params)
            query.setlist("_count", [str(page.count)])
            query.setlist("_page", [str(number)])
            return request.build_absolute_uri(request.path) + "?" + urlencode(sorted(query.lists()), doseq=True)

        links = {"self": url(page.number), "first": url(1)}
        if page.number > 1:
            links["previous"] = url(page.number - 1)
        if page.offset + page.count < total:
            links["next"] = url(page.number + 1)
        return Response(resources.searchset(entries=rows, total=total, base=self.base_url(), links=links))


def _diagnostics(data: object) -> str:
    if isinstance(data, dict) and "detail" in data:
        return str(data["detail"])
    return str(data)


class MetadataView(FhirView):
    """The server's CapabilityStatement."""

    permission_classes = [AllowAny]
    authentication_classes: list = []

    @extend_schema(responses=_resource_200("CapabilityStatement"), operation_id="fhir_metadata", tags=["fhir"])
    def get(self, request: Request) -> Response:
        """FHIR CapabilityStatement

        Public, as FHIR clients fetch it before they authenticate: what this read-only server serves
        (resources, interactions, search parameters) and how to authenticate.
        """
        return Response(capability_statement(base=self.base_url(), date=CAPABILITY_DATE))


class AppointmentSearchView(FhirView):
    """Appointments as FHIR."""

    @extend_schema(
        parameters=_params("Appointment"), operation_id="fhir_appointment_search", responses=BUNDLE_200, tags=["fhir"]
    )
    def get(self, request: Request) -> Response:
        """Search FHIR Appointments

        Scoped as `GET /api/appointments/`: patients see their own, doctors theirs, staff all. Ordered by
        start. Statuses map pending→pending, confirmed→booked, completed→fulfilled, cancelled→cancelled,
        no_show→noshow, referred→cancelled with cancelationReason "referred". An unknown parameter is a 400.
        """
        params = request.query_params
        search.check_known(params, [name for name, _, _ in SEARCH_PARAMS["Appointment"]])
        page = search.page_of(params)
        patient = search.single(params, "patient")
        practitioner = search.single(params, "practitioner")
        qs = selectors.appointment_search(
            user=request.user,
            ids=search.ids(params),
            patient_id=search.reference_id(patient, "patient", "Patient") if patient is not None else None,
            practitioner_id=(
                search.reference_id(practitioner, "practitioner", "Practitioner") if practitioner is not None else None
            ),
            actors=[search.actor(value) for value in params.getlist("actor")],
            dates=search.date_bounds(params, "date"),
            statuses=search.tokens(params, "status", resources.STATUS_SEARCH),
        )
        total = qs.count()
        rows = [resources.appointment(a) for a in qs[page.offset : page.offset + page.count]]
        return self.searchset(request, rows, total, page)


class AppointmentReadView(FhirView):
    """One appointment as FHIR."""

    @extend_schema(responses=_resource_200("Appointment"), operation_id="fhir_appointment_read", tags=["fhir"])
    def get(self, request: Request, pk: int) -> Response:
        """Read a FHIR Appointment

        Anyone who cannot see it in `GET /api/appointments/` gets a 404.
        """
        return self.read(selectors.appointments_visible(user=request.user).filter(pk=pk).first(), resources.appointment)


class SlotSearchView(FhirView):
    """Free slots as FHIR."""

    @extend_schema(parameters=_params("Slot"), operation_id="fhir_slot_search", responses=BUNDLE_200, tags=["fhir"])
    def get(self, request: Request) -> Response:
        """Search a doctor's free FHIR Slots

        `schedule=Schedule/<doctor id>` and `start=ge<date or dateTime>` are required; `start=lt…` (or
        `le`) ends the window, else it is 7 days long; at most 62 days. The slots are the ones
        `GET /api/doctors/{id}/slots/` lists (every one can be booked), all with status `free`.
        """
        params = request.query_params
        search.check_known(params, [name for name, _, _ in SEARCH_PARAMS["Slot"]])
        page = search.page_of(params)
        schedule = search.single(params, "schedule")
        if schedule is None:
            raise SearchError("schedule=Schedule/<doctor id> is required.")
        search.tokens(params, "status", ["free"])
        doctor = selectors.schedule_doctor(pk=search.reference_id(schedule, "schedule", "Schedule"))
        bounds = search.date_bounds(params, "start")
        if doctor is None:
            slots = []
            if not any(b.lower for b in bounds):  # the same 400 for a missing bound, whoever the schedule is
                raise SearchError("start=ge<date> (or gt, eq) is required: the first instant to look from.")
        else:
            slots = selectors.free_slots(doctor=doctor, bounds=bounds, default_days=DEFAULT_SLOT_DAYS)
        rows = [resources.slot(doctor.pk, a, b) for a, b in slots[page.offset : page.offset + page.count]]
        return self.searchset(request, rows, len(slots), page)


class ScheduleReadView(FhirView):
    """A doctor's schedule as FHIR."""

    @extend_schema(responses=_resource_200("Schedule"), operation_id="fhir_schedule_read", tags=["fhir"])
    def get(self, request: Request, pk: int) -> Response:
        """Read a FHIR Schedule

        One per doctor in the directory (its id is the doctor's user id); its free slots are
        `GET /fhir/Slot?schedule=Schedule/<id>&start=ge…`.
        """
        return self.read(selectors.schedule_doctor(pk=pk), resources.schedule)


class PractitionerReadView(FhirView):
    """A doctor as FHIR."""

    @extend_schema(responses=_resource_200("Practitioner"), operation_id="fhir_practitioner_read", tags=["fhir"])
    def get(self, request: Request, pk: int) -> Response:
        """Read a FHIR Practitioner

        A doctor in the directory (what `GET /api/doctors/{id}/` shows any signed-in user).
        """
        return self.read(selectors.practitioner_get(pk=pk), resources.practitioner)


class PatientReadView(FhirView):
    """A patient as FHIR."""

    @extend_schema(responses=_resource_200("Patient"), operation_id="fhir_patient_read", tags=["fhir"])
    def get(self, request: Request, pk: int) -> Response:
        """Read a FHIR Patient

        A patient reads only themself; a doctor the patients they have an appointment with (any status);
        staff every patient. Anyone else gets a 404.
        """
        return self.read(selectors.patient_get(user=request.user, pk=pk), resources.patient)


class NotFoundView(FhirView):
    """Any other path under /fhir/: an OperationOutcome 404 rather than the API's JSON one."""

    permission_classes = [AllowAny]
    authentication_classes: list = []
    schema = None

    def get(self, request: Request, rest: str = "") -> Response:
        raise Http404
