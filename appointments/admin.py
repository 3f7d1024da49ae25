"""The front desk: clinic staff run the day from here, through the same services as the API.

Every change (book, confirm, cancel, reschedule, no-show) calls appointments.services, so it gets the
same checks, history rows and notifications; a conflict is an admin message, never an error page.
Times are shown in the doctor's own zone, with the zone named.
"""

import contextlib
import datetime as dt
from collections.abc import Callable
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.widgets import AutocompleteSelect
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.http import urlencode

from appointments import selectors, services
from appointments.choices import ACTIVE_STATUSES, Status
from appointments.models import Appointment, AppointmentNote, AvailabilityRule, StatusChange, TimeOff
from cybermed.admin import ReadOnlyAdmin, ReadOnlyInline
from cybermed.exceptions import DomainConflict
from users.admin import register_user_inlines
from users.choices import Role
from users.models import DoctorProfile, Specialty, User
from users.selectors import doctor_list_visible

STATUS_COLOURS = {
    Status.PENDING: "#b26a00",
    Status.CONFIRMED: "#1b6e20",
    Status.COMPLETED: "#44546a",
    Status.CANCELLED: "#a12622",
    Status.NO_SHOW: "#6a1b9a",
    Status.REFERRED: "#0d47a1",
}


# --- how people, times and statuses are shown -------------------------------------------------------


def person(user: User) -> str:
    return user.get_full_name() or user.email


def person_html(user: User) -> str:
    """The name first, the email as a secondary line."""
    return format_html('{}<br><span class="quiet">{}</span>', person(user), user.email)


def zone_of(doctor: User) -> dt.tzinfo:
    profile = getattr(doctor, "doctor_profile", None)
    return profile.zone if profile is not None else dt.UTC


def local_span(appointment: Appointment) -> str:
    """E.g. "Tue 2 Dec 2026, 10:30–11:00 (Asia/Tokyo)": the doctor's wall clock and zone."""
    zone = zone_of(appointment.doctor)
    start, end = appointment.start.astimezone(zone), appointment.end.astimezone(zone)
    return f"{start:%a} {start.day} {start:%b %Y, %H:%M}–{end:%H:%M} ({zone})"


def local_instant(instant: dt.datetime | None, doctor: User) -> str:
    """E.g. "Sat 5 Dec 2026, 23:20 (Asia/Tokyo)": an instant on the doctor's wall clock, with the zone named."""
    if instant is None:
        return "-"
    zone = zone_of(doctor)
    local = instant.astimezone(zone)
    return f"{local:%a} {local.day} {local:%b %Y, %H:%M} ({zone})"


def status_html(status: str) -> str:
    label = Status(status).label if status in Status.values else status
    return format_html(
        '<strong class="cm-status" style="color:{}">{}</strong>', STATUS_COLOURS.get(status, "#333"), label
    )


# --- inlines ------------------------------------------------------------------------------------------


class AvailabilityRuleInline(admin.TabularInline):
    """Shown on the doctor's page in the users admin."""

    model = AvailabilityRule
    fk_name = "doctor"
    extra = 0


class TimeOffInline(admin.TabularInline):
    model = TimeOff
    fk_name = "doctor"
    extra = 0


register_user_inlines(Role.DOCTOR, AvailabilityRuleInline, TimeOffInline)


class _AppointmentChildInline(ReadOnlyInline):
    """Rows of one appointment (history, notes), their times on the doctor's wall clock."""

    instant_field = "created_at"

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return super().get_queryset(request).select_related("appointment__doctor__doctor_profile")

    @admin.display(description="At (doctor's zone)")
    def local_time(self, obj: StatusChange | AppointmentNote) -> str:
        return local_instant(getattr(obj, self.instant_field), obj.appointment.doctor)


class StatusChangeInline(_AppointmentChildInline):
    model = StatusChange
    instant_field = "at"
    fields = ["local_time", "from_status", "to_status", "by_whom", "reason"]
    readonly_fields = fields

    def get_queryset(self, request: HttpRequest) -> QuerySet[StatusChange]:
        return super().get_queryset(request).select_related("by")

    @admin.display(description="By")
    def by_whom(self, obj: StatusChange) -> str:
        return person_html(obj.by) if obj.by else "-"


class AppointmentNoteInline(_AppointmentChildInline):
    model = AppointmentNote
    fields = ["local_time", "author", "text"]
    readonly_fields = fields

    def get_queryset(self, request: HttpRequest) -> QuerySet[AppointmentNote]:
        return super().get_queryset(request).select_related("author")


class _PersonAppointmentsInline(ReadOnlyInline):
    """A user's appointments on their user page: read-only, each linked to its front-desk page."""

    model = Appointment
    other = "doctor"
    fields = ["appointment", "when", "with_whom", "state"]
    readonly_fields = fields
    verbose_name_plural = "appointments"

    def get_queryset(self, request: HttpRequest) -> QuerySet[Appointment]:
        return (
            super().get_queryset(request).select_related("doctor__doctor_profile", "patient").order_by("-start", "-id")
        )

    @admin.display(description="Appointment")
    def appointment(self, obj: Appointment) -> str:
        return format_html(
            '<a href="{}">#{}</a>', reverse("admin:appointments_appointment_change", args=[obj.pk]), obj.pk
        )

    @admin.display(description="When (doctor's zone)")
    def when(self, obj: Appointment) -> str:
        return local_span(obj)

    @admin.display(description="With")
    def with_whom(self, obj: Appointment) -> str:
        return person_html(getattr(obj, self.other))

    @admin.display(description="Status")
    def state(self, obj: Appointment) -> str:
        return status_html(obj.status)


class PatientAppointmentsInline(_PersonAppointmentsInline):
    fk_name = "patient"
    other = "doctor"


class DoctorAppointmentsInline(_PersonAppointmentsInline):
    fk_name = "doctor"
    other = "patient"


register_user_inlines(Role.PATIENT, PatientAppointmentsInline)
register_user_inlines(Role.DOCTOR, DoctorAppointmentsInline)


def extend_user_admin() -> None:
    """Limit the booking page's patient autocomplete (served by the users admin) to active patients.

    appointments depends on users, so it extends the users admin, not the reverse. Called once the admin
    modules are loaded."""
    try:
        user_admin = admin.site.get_model_admin(User)
    except admin.exceptions.NotRegistered:  # pragma: no cover - the users admin is always installed
        return
    if getattr(user_admin, "_appointments_attached", False):
        return
    original_search = user_admin.get_search_results

    def get_search_results(request: HttpRequest, queryset: QuerySet[User], term: str) -> tuple[QuerySet, bool]:
        # The booking page's patient autocomplete offers active patients only.
        if request.GET.get("model_name") == "appointment" and request.GET.get("field_name") == "patient":
            queryset = queryset.filter(role=Role.PATIENT, is_active=True)
        return original_search(request, queryset, term)

    user_admin.get_search_results = get_search_results
    user_admin._appointments_attached = True


# --- forms ----------------------------------------------------------------------------------------------


def slot_choices(profile: DoctorProfile | None, day: dt.date | None) -> list[tuple[str, str]]:
    if profile is None or day is None:
        return []
    zone = profile.zone
    slots = selectors.doctor_free_slots(profile=profile, first=day, last=day)
    return [(start.isoformat(), f"{start.astimezone(zone):%H:%M}–{end.astimezone(zone):%H:%M}") for start, end in slots]


class SlotField(forms.ChoiceField):
    """One of the free slots offered (their ISO starts), as an aware datetime."""

    def clean(self, value: Any) -> dt.datetime:
        chosen = super().clean(value)
        return dt.datetime.fromisoformat(chosen) if chosen else None


class BookForm(forms.Form):
    patient = forms.ModelChoiceField(queryset=User.objects.filter(role=Role.PATIENT, is_active=True))
    doctor = forms.ModelChoiceField(queryset=DoctorProfile.objects.none(), to_field_name="user_id")
    date = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}), help_text="In the doctor's time zone.")
    start = SlotField(required=False, widget=forms.RadioSelect, label="Free slot")
    reason_for_visit = forms.CharField(required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args: Any, admin_site: admin.AdminSite, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        patient = self.fields["patient"]
        patient.widget = AutocompleteSelect(Appointment._meta.get_field("patient"), admin_site)
        patient.widget.choices = patient.choices
        doctors = DoctorProfile.objects.filter(user__in=doctor_list_visible()).select_related("user", "specialty")
        self.fields["doctor"].queryset = doctors.order_by("user__last_name", "user__first_name")
        self.fields["doctor"].label_from_instance = lambda p: (
            f"Dr {person(p.user)} — {p.specialty or ''} ({p.timezone})"
        )
        self.profile: DoctorProfile | None = None
        self.day: dt.date | None = None
        doctor_field, date_field = self["doctor"], self["date"]
        try:
            self.profile = self.fields["doctor"].clean(doctor_field.value())
            self.day = self.fields["date"].clean(date_field.value())
        except ValidationError:
            pass
        self.fields["start"].choices = slot_choices(self.profile, self.day)


class CancelForm(forms.Form):
    reason = forms.CharField(max_length=2000, widget=forms.Textarea(attrs={"rows": 3}))


class RescheduleForm(forms.Form):
    date = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}), help_text="In the doctor's time zone.")
    start = SlotField(required=False, widget=forms.RadioSelect, label="Free slot")

    def __init__(self, *args: Any, profile: DoctorProfile | None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        day = None
        with contextlib.suppress(ValidationError):
            day = self.fields["date"].clean(self["date"].value())
        self.fields["start"].choices = slot_choices(profile, day)


class ScheduleForm(forms.Form):
    doctor = forms.ModelChoiceField(
        queryset=DoctorProfile.objects.none(), to_field_name="user_id", required=False, empty_label="(any)"
    )
    specialty = forms.ModelChoiceField(queryset=Specialty.objects.all(), required=False, empty_label="(any)")
    date = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    span = forms.ChoiceField(choices=[("day", "Day"), ("week", "Week")], required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        doctors = DoctorProfile.objects.filter(user__in=doctor_list_visible()).select_related("user", "specialty")
        self.fields["doctor"].queryset = doctors.order_by("user__last_name", "user__first_name")
        self.fields["doctor"].label_from_instance = lambda p: f"Dr {person(p.user)} ({p.timezone})"


# --- the appointment admin --------------------------------------------------------------------------------


@admin.register(Appointment)
class AppointmentAdmin(admin.ModelAdmin):
    list_display = ["id", "when", "patient_name", "doctor_name", "state"]
    list_display_links = ["id", "when"]
    list_filter = ["status", ("doctor", admin.RelatedOnlyFieldListFilter), "start"]
    search_fields = [
        "patient__email",
        "doctor__email",
        "patient__last_name",
        "patient__first_name",
        "doctor__last_name",
    ]
    date_hierarchy = "start"
    list_select_related = ["doctor__doctor_profile", "patient"]
    autocomplete_fields = ["patient"]
    change_form_template = "admin/appointments/appointment/front_desk_change_form.html"
    change_list_template = "admin/appointments/appointment/front_desk_change_list.html"
    fields = [
        "when",
        "state",
        "patient_name",
        "doctor_name",
        "reason_for_visit",
        "location",
        "cancellation_reason",
        "referred_from",
        "creator",
        "created",
        "updated",
    ]
    # Status and time only change through the services (history, signals, double-booking checks).
    readonly_fields = [
        "when",
        "state",
        "patient_name",
        "doctor_name",
        "cancellation_reason",
        "referred_from",
        "creator",
        "created",
        "updated",
    ]
    inlines = [StatusChangeInline, AppointmentNoteInline]
    actions = ["confirm_selected", "cancel_selected", "no_show_selected"]

    @admin.display(description="When (doctor's zone)", ordering="start")
    def when(self, obj: Appointment) -> str:
        return local_span(obj)

    @admin.display(description="Created by")
    def creator(self, obj: Appointment) -> str:
        return person_html(obj.created_by) if obj.created_by else "-"

    @admin.display(description="Created at (doctor's zone)")
    def created(self, obj: Appointment) -> str:
        return local_instant(obj.created_at, obj.doctor)

    @admin.display(description="Updated at (doctor's zone)")
    def updated(self, obj: Appointment) -> str:
        return local_instant(obj.updated_at, obj.doctor)

    @admin.display(description="Patient", ordering="patient__last_name")
    def patient_name(self, obj: Appointment) -> str:
        return person_html(obj.patient)

    @admin.display(description="Doctor", ordering="doctor__last_name")
    def doctor_name(self, obj: Appointment) -> str:
        return person_html(obj.doctor)

    @admin.display(description="Status", ordering="status")
    def state(self, obj: Appointment) -> str:
        return status_html(obj.status)

    def get_queryset(self, request: HttpRequest) -> QuerySet[Appointment]:
        return super().get_queryset(request).select_related("doctor__doctor_profile", "patient", "created_by")

    def has_delete_permission(self, request: HttpRequest, obj: Appointment | None = None) -> bool:
        return False

    def get_urls(self) -> list:
        wrap: Callable = self.admin_site.admin_view
        return [
            path("schedule/", wrap(self.schedule_view), name="appointments_appointment_schedule"),
            path("<int:pk>/confirm/", wrap(self.confirm_view), name="appointments_appointment_confirm"),
            path("<int:pk>/cancel/", wrap(self.cancel_view), name="appointments_appointment_cancel"),
            path("<int:pk>/reschedule/", wrap(self.reschedule_view), name="appointments_appointment_reschedule"),
            path("<int:pk>/no-show/", wrap(self.no_show_view), name="appointments_appointment_no_show"),
            *super().get_urls(),
        ]

    # --- helpers

    def _context(self, request: HttpRequest, title: str, **extra: Any) -> dict:
        return {**self.admin_site.each_context(request), "opts": self.model._meta, "title": title, **extra}

    def _acting(self, request: HttpRequest, pk: int) -> Appointment:
        if not self.has_change_permission(request):
            raise PermissionDenied
        return get_object_or_404(self.get_queryset(request), pk=pk)

    def _change_url(self, appointment: Appointment) -> str:
        return reverse("admin:appointments_appointment_change", args=[appointment.pk])

    def _attempt(self, request: HttpRequest, done: str, call: Callable[[], Any]) -> bool:
        """Run one service call; its outcome becomes an admin message."""
        try:
            call()
        except DomainConflict as conflict:
            self.message_user(request, str(conflict.detail), messages.ERROR)
        except PermissionDenied as denied:
            self.message_user(request, str(denied) or "You may not do this.", messages.ERROR)
        except ValidationError as invalid:
            self.message_user(request, " ".join(invalid.messages), messages.ERROR)
        else:
            self.message_user(request, done, messages.SUCCESS)
            return True
        return False

    # --- the pages

    def add_view(self, request: HttpRequest, form_url: str = "", extra_context: dict | None = None) -> HttpResponse:
        """Book a patient into one of a doctor's free slots (the API's booking, made by staff)."""
        if not self.has_add_permission(request):
            raise PermissionDenied
        booking = request.method == "POST" and "_book" in request.POST
        # Until "Book" is pressed the form only shows the free slots of the chosen doctor and date.
        data = request.POST if request.method == "POST" else request.GET
        form = (
            BookForm(data, admin_site=self.admin_site)
            if booking
            else BookForm(initial=data.dict(), admin_site=self.admin_site)
        )
        if booking and form.is_valid():
            values = form.cleaned_data
            if not values["start"]:
                form.add_error("start", "Pick one of the free slots.")
            else:
                booked: dict[str, Appointment] = {}

                def book() -> None:
                    booked["appointment"] = services.appointment_book(
                        doctor=values["doctor"].user,
                        patient=values["patient"],
                        start=values["start"],
                        by=request.user,
                        reason_for_visit=values["reason_for_visit"],
                    )

                if self._attempt(request, "Booked.", book):
                    appointment = booked["appointment"]
                    self.message_user(request, f"{person(appointment.patient)}: {local_span(appointment)}.")
                    return HttpResponseRedirect(self._change_url(appointment))
                form = BookForm(data, admin_site=self.admin_site)  # the slots may have changed
        profile = form.profile
        context = self._context(
            request,
            "Book an appointment",
            form=form,
            media=self.media + form.media,
            zone=profile.timezone if profile else None,
            today=timezone.now().astimezone(profile.zone).date() if profile else None,
        )
        return TemplateResponse(request, "admin/appointments/appointment/book.html", context)

    def confirm_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        appointment = self._acting(request, pk)
        if request.method == "POST":
            self._attempt(
                request, "Confirmed.", lambda: services.appointment_confirm(appointment=appointment, by=request.user)
            )
            return HttpResponseRedirect(self._change_url(appointment))
        return self._act_page(request, appointment, "Confirm this appointment?", "Yes, confirm")

    def no_show_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        appointment = self._acting(request, pk)
        if request.method == "POST":
            self._attempt(
                request,
                "Marked as no-show.",
                lambda: services.appointment_no_show(appointment=appointment, by=request.user),
            )
            return HttpResponseRedirect(self._change_url(appointment))
        return self._act_page(request, appointment, "Mark this appointment as a no-show?", "Yes, mark no-show")

    def cancel_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        appointment = self._acting(request, pk)
        form = CancelForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            reason = form.cleaned_data["reason"]
            self._attempt(
                request,
                "Cancelled.",
                lambda: services.appointment_cancel(appointment=appointment, by=request.user, reason=reason),
            )
            return HttpResponseRedirect(self._change_url(appointment))
        return self._act_page(request, appointment, "Cancel this appointment?", "Cancel the appointment", form=form)

    def reschedule_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        appointment = self._acting(request, pk)
        profile = getattr(appointment.doctor, "doctor_profile", None)
        zone = zone_of(appointment.doctor)
        initial = {"date": appointment.start.astimezone(zone).date().isoformat()}
        moving = request.method == "POST" and "_move" in request.POST
        data = request.POST if request.method == "POST" else request.GET
        form = (
            RescheduleForm(data, profile=profile)
            if moving
            else RescheduleForm(initial={**initial, **data.dict()}, profile=profile)
        )
        if moving and form.is_valid():
            start = form.cleaned_data["start"]
            if not start:
                form.add_error("start", "Pick one of the free slots.")
            elif self._attempt(
                request,
                "Rescheduled.",
                lambda: services.appointment_reschedule(appointment=appointment, by=request.user, start=start),
            ):
                return HttpResponseRedirect(self._change_url(appointment))
            else:
                form = RescheduleForm(data, profile=profile)
        return self._act_page(request, appointment, "Reschedule this appointment", "Move it here", form=form)

    def _act_page(self, request: HttpRequest, appointment: Appointment, title: str, button: str, **extra: Any):
        context = self._context(
            request,
            title,
            original=appointment,
            when=local_span(appointment),
            button=button,
            zone=str(zone_of(appointment.doctor)),
            **extra,
        )
        return TemplateResponse(request, "admin/appointments/appointment/act.html", context)

    def schedule_view(self, request: HttpRequest) -> HttpResponse:
        """A day or week of a doctor (or of every doctor of a specialty), in each doctor's own zone."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        form = ScheduleForm(request.GET or None)
        values = form.cleaned_data if form.is_valid() else {}
        span = values.get("span") or "week"
        profiles: list[DoctorProfile] = []
        if values.get("doctor"):
            profiles = [values["doctor"]]
        elif values.get("specialty"):
            profiles = list(
                DoctorProfile.objects.filter(user__in=doctor_list_visible(), specialty=values["specialty"])
                .select_related("user", "specialty")
                .order_by("user__last_name", "user__first_name")[:20]
            )
        now = timezone.now()
        columns = []
        for profile in profiles:
            zone = profile.zone
            today = now.astimezone(zone).date()
            day = values.get("date") or today
            first = day - dt.timedelta(days=day.weekday()) if span == "week" else day
            last = first + dt.timedelta(days=6 if span == "week" else 0)
            appointments, free = selectors.doctor_schedule(profile=profile, first=first, last=last, now=now)
            days = {first + dt.timedelta(days=i): [] for i in range((last - first).days + 1)}
            for appointment in appointments:
                appointment.doctor = profile.user
                local = appointment.start.astimezone(zone)
                days.setdefault(local.date(), []).append(
                    {"start": local, "label": f"{local:%H:%M}–{appointment.end.astimezone(zone):%H:%M}",
                     "appointment": appointment,
                     "status": status_html(appointment.status), "url": self._change_url(appointment),
                     "active": appointment.status in ACTIVE_STATUSES}
                )  # fmt: skip
            book = reverse("admin:appointments_appointment_add")
            for start, end in free:
                local = start.astimezone(zone)
                query = urlencode({"doctor": profile.user_id, "date": local.date().isoformat()})
                days.setdefault(local.date(), []).append(
                    {"start": local, "label": f"{local:%H:%M}–{end.astimezone(zone):%H:%M}", "free": True,
                     "url": f"{book}?{query}&start={start.isoformat().replace('+', '%2B')}"}
                )  # fmt: skip
            shift = dt.timedelta(days=7 if span == "week" else 1)
            nav = {"doctor": profile.user_id, "span": span}
            columns.append(
                {
                    "profile": profile,
                    "zone": profile.timezone,
                    "offset": now.astimezone(zone).strftime("UTC%z"),
                    "today": today,
                    "first": first,
                    "last": last,
                    "days": [
                        (d, today == d, sorted(items, key=lambda i: i["start"])) for d, items in sorted(days.items())
                    ],
                    "previous": urlencode({**nav, "date": (first - shift).isoformat()}),
                    "next": urlencode({**nav, "date": (first + shift).isoformat()}),
                    "this": urlencode({**nav, "date": today.isoformat()}),
                }
            )
        context = self._context(request, "Schedule", form=form, columns=columns, span=span)
        return TemplateResponse(request, "admin/appointments/appointment/schedule.html", context)

    # --- list actions

    def _each(self, request: HttpRequest, queryset: QuerySet[Appointment], verb: str, call: Callable) -> None:
        done, refused = 0, []
        for appointment in queryset:
            try:
                call(appointment)
            except (DomainConflict, PermissionDenied, ValidationError) as error:
                detail = getattr(error, "detail", None) or " ".join(getattr(error, "messages", [])) or str(error)
                refused.append(f"#{appointment.pk}: {detail}")
            else:
                done += 1
        self.message_user(request, f"{verb} {done} appointment(s).", messages.SUCCESS if done else messages.INFO)
        if refused:
            self.message_user(request, f"Not changed: {'; '.join(refused)}", messages.WARNING)

    @admin.action(description="Confirm selected appointments", permissions=["change"])
    def confirm_selected(self, request: HttpRequest, queryset: QuerySet[Appointment]) -> None:
        self._each(
            request, queryset, "Confirmed", lambda a: services.appointment_confirm(appointment=a, by=request.user)
        )

    @admin.action(description="Mark selected appointments as no-show", permissions=["change"])
    def no_show_selected(self, request: HttpRequest, queryset: QuerySet[Appointment]) -> None:
        self._each(
            request,
            queryset,
            "Marked as no-show",
            lambda a: services.appointment_no_show(appointment=a, by=request.user),
        )

    @admin.action(description="Cancel selected appointments (asks for a reason)", permissions=["change"])
    def cancel_selected(self, request: HttpRequest, queryset: QuerySet[Appointment]) -> HttpResponse | None:
        form = CancelForm(request.POST if "apply" in request.POST else None)
        if form.is_valid():
            reason = form.cleaned_data["reason"]
            self._each(
                request,
                queryset,
                "Cancelled",
                lambda a: services.appointment_cancel(appointment=a, by=request.user, reason=reason),
            )
            return None
        context = self._context(
            request,
            "Cancel appointments",
            form=form,
            appointments=[(a, local_span(a)) for a in queryset],
            action_checkbox_name=admin.helpers.ACTION_CHECKBOX_NAME,
        )
        return TemplateResponse(request, "admin/appointments/appointment/cancel_selected.html", context)


@admin.register(StatusChange)
class StatusChangeAdmin(ReadOnlyAdmin):
    """The status history: written by the services only."""

    list_display = ["at", "appointment", "from_status", "to_status", "by", "reason"]
    list_filter = ["to_status"]
    list_select_related = ["appointment", "by"]
    search_fields = ["=appointment__id", "by__email"]
    date_hierarchy = "at"


@admin.register(AvailabilityRule)
class AvailabilityRuleAdmin(admin.ModelAdmin):
    list_display = ["doctor", "weekday", "start_time", "end_time"]
    list_filter = ["weekday"]
    search_fields = ["doctor__email", "doctor__last_name"]
    list_select_related = ["doctor"]
    raw_id_fields = ["doctor"]


@admin.register(TimeOff)
class TimeOffAdmin(admin.ModelAdmin):
    list_display = ["doctor", "start", "end", "reason"]
    search_fields = ["doctor__email", "doctor__last_name", "reason"]
    date_hierarchy = "start"
    list_select_related = ["doctor"]
    raw_id_fields = ["doctor"]
