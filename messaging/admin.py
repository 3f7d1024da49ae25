"""Threads and messages in the admin: superusers only, read-only, and every read is recorded.

Messages are medical data between a patient and their doctor; the front desk (staff) never sees them,
and a superuser who opens them leaves a trace (MessageAccessLog), as consultation reads do.
"""

from typing import Any

from django.contrib import admin
from django.contrib.admin.utils import unquote
from django.http import HttpRequest, HttpResponse

from consultations.audit import client_ip
from consultations.choices import AccessAction
from messaging.models import Message, MessageAccessLog, Thread


def _record(request: HttpRequest, action: AccessAction, *, threads: Any = (), messages: Any = ()) -> None:
    ip = client_ip(request)
    rows = [MessageAccessLog(actor=request.user, action=action, thread_id=t.pk, client_ip=ip) for t in threads]
    rows += [
        MessageAccessLog(actor=request.user, action=action, thread_id=m.thread_id, message_id=m.pk, client_ip=ip)
        for m in messages
    ]
    if rows:
        MessageAccessLog.objects.bulk_create(rows)


class SuperuserReadOnlyAdmin(admin.ModelAdmin):
    def has_module_permission(self, request: HttpRequest) -> bool:
        return bool(request.user.is_active and request.user.is_superuser)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return bool(request.user.is_active and request.user.is_superuser)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class MessageInline(admin.TabularInline):
    model = Message
    fields = ["id", "sender", "created_at", "status", "body"]
    readonly_fields = fields
    ordering = ["-id"]
    extra = 0
    can_delete = False
    show_change_link = False

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return bool(request.user.is_active and request.user.is_superuser)

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Thread)
class ThreadAdmin(SuperuserReadOnlyAdmin):
    list_display = ["id", "patient", "doctor", "updated_at", "created_at"]
    list_select_related = ["patient", "doctor"]
    search_fields = ["patient__email", "doctor__email"]
    fields = ["patient", "doctor", "patient_read_up_to", "doctor_read_up_to", "created_at", "updated_at"]
    readonly_fields = fields
    inlines = [MessageInline]

    def changelist_view(self, request: HttpRequest, extra_context: dict | None = None) -> HttpResponse:
        response = super().changelist_view(request, extra_context)
        changelist = getattr(response, "context_data", {}).get("cl") if response.status_code == 200 else None
        if changelist is not None:
            _record(request, AccessAction.LIST, threads=changelist.result_list)
        return response

    def change_view(
        self, request: HttpRequest, object_id: str, form_url: str = "", extra_context: dict | None = None
    ) -> HttpResponse:
        response = super().change_view(request, object_id, form_url, extra_context)
        if request.method == "GET" and response.status_code == 200:
            _record(request, AccessAction.VIEW, threads=[Thread(pk=unquote(object_id))])
        return response


@admin.register(Message)
class MessageAdmin(SuperuserReadOnlyAdmin):
    list_display = ["id", "thread", "sender", "status", "created_at"]
    list_select_related = ["thread", "sender"]
    list_filter = ["status"]
    fields = ["thread", "sender", "status", "body", "created_at", "retracted_at"]
    readonly_fields = fields

    def changelist_view(self, request: HttpRequest, extra_context: dict | None = None) -> HttpResponse:
        response = super().changelist_view(request, extra_context)
        changelist = getattr(response, "context_data", {}).get("cl") if response.status_code == 200 else None
        if changelist is not None:
            _record(request, AccessAction.LIST, messages=changelist.result_list)
        return response

    def change_view(
        self, request: HttpRequest, object_id: str, form_url: str = "", extra_context: dict | None = None
    ) -> HttpResponse:
        response = super().change_view(request, object_id, form_url, extra_context)
        if request.method == "GET" and response.status_code == 200:
            _record(request, AccessAction.VIEW, messages=[response.context_data["original"]])
        return response


@admin.register(MessageAccessLog)
class MessageAccessLogAdmin(SuperuserReadOnlyAdmin):
    """Append-only: who read which thread or message in this admin."""

    list_display = ["at", "actor", "action", "thread_id", "message_id", "client_ip"]
    list_filter = ["action"]
    list_select_related = ["actor"]
