from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest

from appointments import services
from appointments.models import Appointment, AppointmentNote, AvailabilityRule, StatusChange, TimeOff
from cybermed.exceptions import DomainConflict
from users.admin import register_user_inlines
from users.choices import Role


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


class StatusChangeInline(admin.TabularInline):
    model = StatusChange
    extra = 0
    can_delete = False
    fields = ["at", "from_status", "to_status", "by", "reason"]
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest, obj: Appointment | None = None) -> bool:
        return False


class AppointmentNoteInline(admin.TabularInline):
    model = AppointmentNote
    extra = 0
    fields = ["created_at", "author", "text"]
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Appointment | None = None) -> bool:
        return False


@admin.register(Appointment)
class AppointmentAdmin(admin.ModelAdmin):
    list_display = ["id", "start", "end", "doctor", "patient", "status"]
    list_filter = ["status", ("doctor", admin.RelatedOnlyFieldListFilter), "start"]
    search_fields = ["patient__email", "doctor__email", "patient__last_name", "doctor__last_name"]
    date_hierarchy = "start"
    list_select_related = ["doctor", "patient"]
    raw_id_fields = ["doctor", "patient", "referred_from", "created_by"]
    # Status and time only change through the services (history, signals, double-booking checks).
    readonly_fields = [
        "status",
        "start",
        "end",
        "doctor",
        "patient",
        "referred_from",
        "created_by",
        "created_at",
        "updated_at",
    ]
    inlines = [StatusChangeInline, AppointmentNoteInline]
    actions = ["cancel_selected"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Appointment | None = None) -> bool:
        return False

    @admin.action(description="Cancel selected appointments (through the booking service)")
    def cancel_selected(self, request: HttpRequest, queryset: QuerySet[Appointment]) -> None:
        cancelled, skipped = 0, 0
        for appointment in queryset:
            try:
                services.appointment_cancel(appointment=appointment, by=request.user, reason="Cancelled by staff")
            except (DomainConflict, PermissionDenied):
                skipped += 1
            else:
                cancelled += 1
        self.message_user(request, f"Cancelled {cancelled} appointment(s).", messages.SUCCESS)
        if skipped:
            self.message_user(request, f"Skipped {skipped} that could not be cancelled.", messages.WARNING)


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
