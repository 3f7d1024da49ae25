import logging
from zoneinfo import ZoneInfo

from drf_spectacular.utils import PolymorphicProxySerializer, extend_schema
from rest_framework.exceptions import PermissionDenied
from rest_framework.permissions import IsAuthenticated
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from reports import dashboard, selectors
from reports.api import serializers as s
from reports.api.renderers import CSVRenderer, csv_response
from reports.selectors import FIGURE_FIELDS, Period, Scope
from users.api.permissions import IsDoctorOrStaff, IsStaff
from users.choices import Role
from users.models import DoctorProfile, User

export_logger = logging.getLogger("reports.export")

UTC = ZoneInfo("UTC")
CSV_NOTE = (
    " Also as CSV (`Accept: text/csv` or `?format=csv`): the same rows with one header row; text cells "
    "starting with `=`, `+`, `-`, `@`, tab or CR get a leading `'` so that spreadsheets do not run them."
)


class ReportView(APIView):
    """Shared plumbing of the report endpoints: the query, the caller's scope, JSON or streamed CSV."""

    permission_classes = [IsDoctorOrStaff]
    renderer_classes = [JSONRenderer, CSVRenderer]
    query_serializer = s.RangeQuerySerializer
    report = ""

    def handle_exception(self, exc: Exception) -> Response:
        # Errors are always JSON, even when the client asked for CSV.
        self.request.accepted_renderer = JSONRenderer()
        self.request.accepted_media_type = JSONRenderer.media_type
        return super().handle_exception(exc)

    def query(self, request: Request) -> tuple[Scope, Period, dict]:
        params = request.query_params.copy()
        params.pop("format", None)
        query = self.query_serializer(data=params)
        query.is_valid(raise_exception=True)
        data = query.validated_data
        user: User = request.user
        doctor_id = data.get("doctor")
        if not user.is_staff:
            if doctor_id is not None and doctor_id != user.pk:
                raise PermissionDenied("Doctors can only read their own figures.")
            doctor_id = user.pk
        scope = Scope(doctor_id=doctor_id, specialty_id=data.get("specialty"))
        zone = data.get("tz")
        if zone is None:
            profile = DoctorProfile.objects.filter(user_id=doctor_id).first() if doctor_id is not None else None
            zone = profile.zone if profile else UTC
        return scope, Period(data["from"], data["to"], zone), data

    def respond(self, request: Request, *, period: Period, columns: tuple[str, ...], rows: list[dict], body: object):
        if request.accepted_renderer.format != "csv":
            return Response(body)
        if request.user.is_staff:
            # Who exported what, never the figures or any patient data.
            export_logger.info(
                "report export user=%s report=%s from=%s to=%s tz=%s",
                request.user.pk,
                self.report,
                period.first.isoformat(),
                period.last.isoformat(),
                period.zone.key,
            )
        name = f"{self.report}-{period.first.isoformat()}-{period.last.isoformat()}.csv"
        return csv_response(columns=columns, rows=rows, filename=name)


class SummaryView(ReportView):
    report = "summary"

    @extend_schema(parameters=[s.RangeQuerySerializer], responses=s.SummarySerializer)
    def get(self, request: Request) -> Response:
        """Clinic or doctor summary

        Figures over the appointments starting on local dates `from`..`to` (inclusive, at most 366 days):
        counts by status; no-show rate = no_show ÷ (completed + no_show); cancellation rate = cancelled ÷
        all appointments; late cancellations = cancelled less than 24 h before the start (the cancellation
        time comes from the status history); median booking lead time (start − created_at) in hours;
        utilisation = booked ÷ available minutes, where available minutes are the weekly rules on the
        doctor's local dates (DST-correct) minus time off, and booked minutes are pending, confirmed,
        completed and no-show appointments inside them; new patients (first completed appointment, with
        the doctor when one doctor is covered, else with the clinic) and returning ones (an earlier
        completed appointment exists). Doctors get their own figures; `doctor=` naming another doctor is a
        403. Staff get the clinic, or one doctor or specialty. Dates are read in `tz`, by default the
        doctor's zone when one doctor is covered, else UTC.
        """
        scope, period, data = self.query(request)
        figures = selectors.summary(scope=scope, period=period)
        row = {
            "from": period.first,
            "to": period.last,
            "timezone": period.zone.key,
            "doctor": scope.doctor_id,
            "specialty": scope.specialty_id,
            **figures,
        }
        columns = ("from", "to", "timezone", "doctor", "specialty", *FIGURE_FIELDS)
        return self.respond(request, period=period, columns=columns, rows=[row], body=s.SummarySerializer(row).data)

    get.__doc__ += CSV_NOTE


class TimeseriesView(ReportView):
    report = "timeseries"
    query_serializer = s.TimeseriesQuerySerializer

    @extend_schema(parameters=[s.TimeseriesQuerySerializer], responses=s.BucketSerializer(many=True))
    def get(self, request: Request) -> Response:
        """Figures per day, week or month

        The summary's figures per bucket, in order, empty buckets included: `day`, `week` (Monday to
        Sunday) or `month`, on the local calendar of `tz` (default: the doctor's zone when one doctor is
        covered, else UTC). The first and last buckets are cut to the range; `bucket` is the local date a
        bucket starts on (the first one starts on `from`). A plain array, not paginated.
        """
        scope, period, data = self.query(request)
        rows = selectors.timeseries(scope=scope, period=period, bucket=data["bucket"])
        body = s.BucketSerializer(rows, many=True).data
        return self.respond(request, period=period, columns=("bucket", *FIGURE_FIELDS), rows=rows, body=body)

    get.__doc__ += CSV_NOTE


class DoctorReportView(ReportView):
    report = "doctors"
    permission_classes = [IsStaff]

    @extend_schema(parameters=[s.RangeQuerySerializer], responses=s.DoctorRowSerializer(many=True))
    def get(self, request: Request) -> Response:
        """Figures per doctor

        One row per doctor (by name, doctors without appointments included) with the summary's figures,
        new and returning patients judged per doctor. Filter with `doctor=` or `specialty=`. Dates are
        read in `tz` (default UTC) for every row, so that the rows add up to the clinic. A plain array.
        """
        scope, period, data = self.query(request)
        rows = selectors.per_doctor(scope=scope, period=period)
        body = s.doctor_rows(rows)
        columns = ("doctor", "doctor_name", "specialty", "timezone", *FIGURE_FIELDS)
        return self.respond(request, period=period, columns=columns, rows=rows, body=body)

    get.__doc__ += CSV_NOTE


DASHBOARD = PolymorphicProxySerializer(
    component_name="Dashboard",
    serializers={
        "patient": s.PatientDashboardSerializer,
        "doctor": s.DoctorDashboardSerializer,
        "staff": s.StaffDashboardSerializer,
    },
    resource_type_field_name="role",
)


class DashboardView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(responses=DASHBOARD)
    def get(self, request: Request) -> Response:
        """My dashboard

        By role (`role` says which). Patient: the next appointment, how many are to come, unread
        notifications and unread messages. Doctor: today's
        schedule in their zone, pending requests still to come, this local week's utilisation. Staff:
        today's (UTC) clinic figures, as in the summary report.
        """
        user: User = request.user
        if user.is_staff:
            return Response(s.StaffDashboardSerializer(dashboard.staff_dashboard()).data)
        if user.role == Role.DOCTOR and DoctorProfile.objects.filter(user=user).exists():
            return Response(s.DoctorDashboardSerializer(dashboard.doctor_dashboard(user=user)).data)
        return Response(s.PatientDashboardSerializer(dashboard.patient_dashboard(user=user)).data)
