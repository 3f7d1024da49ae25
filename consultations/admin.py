"""Staff read consultations here (every view is audited); only holders of `change_consultation` amend them."""

from typing import Any

from django import forms
from django.contrib import admin
from django.contrib.admin.utils import unquote
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from simple_history.admin import SimpleHistoryAdmin

from consultations import services
from consultations.audit import access_log_record, client_ip
from consultations.choices import AccessAction, AccessChannel
from consultations.models import CONTENT_FIELDS, Consultation, ConsultationAccessLog
from cybermed.admin import AuditedReadsMixin, ReadOnlyAdmin


class ConsultationAdminForm(forms.ModelForm):
    class Meta:
        model = Consultation
        fields = list(CONTENT_FIELDS)

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        changes = {name: cleaned[name] for name in self.changed_data if name in cleaned}
        try:
            services.consultation_validate_content(appointment=self.instance.appointment, changes=changes)
        except ValidationError as error:
            self.add_error(None, error)
        return cleaned


def _audit(request: HttpRequest, consultations: Any, action: AccessAction) -> None:
    access_log_record(
        actor=request.user,
        consultations=consultations,
        action=action,
        channel=AccessChannel.ADMIN,
        client_ip=client_ip(request),
    )


@admin.register(Consultation)
class ConsultationAdmin(AuditedReadsMixin, SimpleHistoryAdmin):
    form = ConsultationAdminForm
    list_display = ["id", "appointment", "doctor", "patient", "review_date", "created_at", "updated_at"]
    list_select_related = ["appointment", "doctor", "patient"]
    search_fields = ["patient__email", "doctor__email"]
    date_hierarchy = "created_at"
    readonly_fields = ["appointment", "doctor", "patient", "created_at", "updated_at"]
    fields = ["appointment", "doctor", "patient", *CONTENT_FIELDS, "created_at", "updated_at"]

    def has_view_permission(self, request: HttpRequest, obj: Consultation | None = None) -> bool:
        # Every active staff member may read (the contract lets staff open any consultation); editing
        # still needs the change permission, so without it the pages are read-only.
        return bool(request.user.is_active and request.user.is_staff) or super().has_view_permission(request, obj)

    def has_add_permission(self, request: HttpRequest) -> bool:
        # Written by the appointment's doctor through the API, never on their behalf.
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Consultation | None = None) -> bool:
        return False

    def save_model(self, request: HttpRequest, obj: Consultation, form: forms.ModelForm, change: bool) -> None:
        # Also reached by SimpleHistoryAdmin's "revert", whose form starts from the old version, so the
        # whole content is passed and the service works out what differs from the stored record.
        services.consultation_update(
            consultation=obj,
            actor=request.user,
            client_ip=client_ip(request),
            channel=AccessChannel.ADMIN,
            **{name: getattr(obj, name) for name in CONTENT_FIELDS},
        )

    def record_reads(self, request: HttpRequest, objects: Any, *, listing: bool) -> None:
        _audit(request, objects, AccessAction.LIST if listing else AccessAction.VIEW)

    def history_view(self, request: HttpRequest, object_id: str, extra_context: dict | None = None) -> HttpResponse:
        response = super().history_view(request, object_id, extra_context)
        if response.status_code == 200:
            _audit(request, [Consultation(pk=unquote(object_id))], AccessAction.HISTORY)
        return response

    def history_form_view(
        self, request: HttpRequest, object_id: str, version_id: str, extra_context: dict | None = None
    ) -> HttpResponse:
        response = super().history_form_view(request, object_id, version_id, extra_context)
        if request.method == "GET" and response.status_code == 200:
            _audit(request, [Consultation(pk=unquote(object_id))], AccessAction.HISTORY)
        return response


@admin.register(ConsultationAccessLog)
class ConsultationAccessLogAdmin(ReadOnlyAdmin):
    """Read-only for every staff member, superusers included: the audit trail is append-only."""

    list_display = ["at", "actor", "action", "consultation_id", "channel", "client_ip"]
    list_filter = ["action", "channel"]
    list_select_related = ["actor"]
    search_fields = ["actor__email", "=consultation__id"]
    date_hierarchy = "at"

    def has_view_permission(self, request: HttpRequest, obj: ConsultationAccessLog | None = None) -> bool:
        return bool(request.user.is_active and request.user.is_staff)
