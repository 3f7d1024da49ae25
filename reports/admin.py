"""The admin's "Clinic insights" page: the reports' figures as tiles and inline SVG charts, for staff."""

import datetime as dt
from zoneinfo import ZoneInfo

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import URLPattern, path
from django.utils import timezone

from cybermed.admin import ReadOnlyAdmin
from cybermed.api.fields import MAX_ID, integer_from_json
from reports import charts, selectors
from reports.models import ClinicInsights
from reports.selectors import MAX_RANGE_DAYS, STATUSES, Period, Scope
from users.models import DoctorProfile, Specialty, validate_timezone

DEFAULT_DAYS = 28
# The page also computes the previous period, so its dates stay well inside the calendar.
EARLIEST, LATEST = dt.date(1900, 1, 1), dt.date(2999, 12, 31)

# (figure, label, kind, which way is better: 1 up, -1 down, 0 neither)
TILES = (
    ("appointments", "Appointments", "count", 1),
    ("no_show_rate", "No-show rate", "rate", -1),
    ("cancellation_rate", "Cancellation rate", "rate", -1),
    ("late_cancellations", "Late cancellations (< 24 h)", "count", -1),
    ("median_lead_time_hours", "Median booking lead time", "hours", 0),
    ("utilisation", "Utilisation", "rate", 1),
    ("new_patients", "New patients", "count", 1),
    ("returning_patients", "Returning patients", "count", 1),
)


class IdChoiceField(forms.ModelChoiceField):
    """A model choice by id that refuses impossible ids before the lookup (SQLite overflows on them)."""

    def to_python(self, value: object) -> object:
        if value in self.empty_values:
            return None
        number = integer_from_json(value)
        if number is None or not 0 < number <= MAX_ID:
            raise ValidationError(self.error_messages["invalid_choice"], code="invalid_choice")
        return super().to_python(number)


class InsightsFilterForm(forms.Form):
    date_from = forms.DateField(label="From", required=False, widget=forms.DateInput(attrs={"type": "date"}))
    date_to = forms.DateField(label="To", required=False, widget=forms.DateInput(attrs={"type": "date"}))
    doctor = IdChoiceField(
        queryset=DoctorProfile.objects.select_related("user").order_by("user__last_name", "user__first_name"),
        required=False,
        empty_label="All doctors",
    )
    specialty = IdChoiceField(queryset=Specialty.objects.all(), required=False, empty_label="All specialties")
    tz = forms.CharField(label="Time zone", required=False, max_length=64, validators=[validate_timezone])

    def clean(self) -> dict:
        data = super().clean()
        first, last = data.get("date_from"), data.get("date_to")
        for day in (first, last):
            if day and not EARLIEST <= day <= LATEST:
                raise ValidationError(f"Dates must lie between {EARLIEST} and {LATEST}.")
        if first and last:
            if last < first:
                raise ValidationError("“To” must not be before “From”.")
            if (last - first).days + 1 > MAX_RANGE_DAYS:
                raise ValidationError(f"The range covers at most {MAX_RANGE_DAYS} days.")
        return data


def _format(value: float | None, kind: str) -> str:
    if value is None:
        return "–"
    if kind == "rate":
        return charts.percent(value)
    if kind == "hours":
        return f"{value:.1f} h"
    return str(value)


def _delta(now: float | None, before: float | None, kind: str, better: int) -> tuple[str, str]:
    if now is None or before is None:
        return "no comparison", "flat"
    change = now - before
    if kind == "rate":
        text = f"{change * 100:+.1f} pts"
    elif kind == "hours":
        text = f"{change:+.1f} h"
    else:
        text = f"{change:+d}"
    if change == 0 or better == 0:
        return text, "flat"
    return text, "good" if change * better > 0 else "bad"


def tiles(current: dict, previous: dict) -> list[dict]:
    result = []
    for figure, label, kind, better in TILES:
        delta, mood = _delta(current[figure], previous[figure], kind, better)
        result.append(
            {
                "label": label,
                "value": _format(current[figure], kind),
                "previous": _format(previous[figure], kind),
                "delta": delta,
                "mood": mood,
            }
        )
    return result


def insights_context(*, scope: Scope, period: Period) -> dict:
    """Everything the page shows, from the same selectors as the API."""
    current = selectors.summary(scope=scope, period=period)
    previous = selectors.summary(scope=scope, period=period.previous())
    weeks = selectors.timeseries(scope=scope, period=period, bucket="week")
    doctors = selectors.per_doctor(scope=scope, period=period)
    return {
        "period": period,
        "previous_period": period.previous(),
        "summary": current,
        "tiles": tiles(current, previous),
        "weekly_chart": charts.stacked_bars(
            [(f"{row['bucket']:%d %b}", {status: row[status] for status in STATUSES}) for row in weeks]
        ),
        "no_show_chart": charts.horizontal_bars(
            [(row["doctor_name"], row["no_show_rate"]) for row in doctors],
            colour=charts.STATUS_COLOURS["no_show"],
            label="No-show rate per doctor",
        ),
        "utilisation_chart": charts.horizontal_bars(
            [(row["doctor_name"], row["utilisation"]) for row in doctors],
            colour=charts.STATUS_COLOURS["completed"],
            label="Utilisation per doctor",
        ),
        "doctors": doctors,
    }


@admin.register(ClinicInsights)
class ClinicInsightsAdmin(ReadOnlyAdmin):
    """Not a model list: the entry opens the insights page, for every active staff member."""

    def has_module_permission(self, request: HttpRequest) -> bool:
        return request.user.is_active and request.user.is_staff

    def has_view_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return self.has_module_permission(request)

    def get_urls(self) -> list[URLPattern]:
        meta = self.model._meta
        view = self.admin_site.admin_view(self.insights_view)
        return [path("", view, name=f"{meta.app_label}_{meta.model_name}_changelist")]

    def insights_view(self, request: HttpRequest) -> HttpResponse:
        form = InsightsFilterForm(request.GET or None)
        data = form.cleaned_data if form.is_bound and form.is_valid() else {}
        doctor, specialty, tz = data.get("doctor"), data.get("specialty"), data.get("tz")
        zone = ZoneInfo(tz) if tz else (doctor.zone if doctor else ZoneInfo("UTC"))
        last = data.get("date_to") or timezone.now().astimezone(zone).date()
        first = data.get("date_from") or last - dt.timedelta(days=DEFAULT_DAYS - 1)
        if first > last:  # only one end given, on the wrong side of the default
            first = last
        first = max(first, last - dt.timedelta(days=MAX_RANGE_DAYS - 1))
        scope = Scope(doctor_id=doctor.user_id if doctor else None, specialty_id=specialty.pk if specialty else None)
        context = {
            **self.admin_site.each_context(request),
            "title": "Clinic insights",
            "opts": self.model._meta,
            "form": form,
            **insights_context(scope=scope, period=Period(first, last, zone)),
        }
        return TemplateResponse(request, "admin/reports/insights.html", context)
