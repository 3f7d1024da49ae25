"""Threads and messages in the admin: superusers only, read-only, and every read is recorded.

Messages are medical data between a patient and their doctor; the front desk (staff) never sees them,
and a superuser who opens them leaves a trace (MessageAccessLog), as consultation reads do.
"""

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from consultations.audit import client_ip
from consultations.choices import AccessAction
from cybermed.admin import AuditedReadsMixin, ReadOnlyAdmin, ReadOnlyInline
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


class SuperuserReadOnlyAdmin(ReadOnlyAdmin):
    def has_module_permission(self, request: HttpRequest) -> bool:
        return bool(request.user.is_active and request.user.is_superuser)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return bool(request.user.is_active and request.user.is_superuser)


class MessageInline(ReadOnlyInline):
    model = Message
    fields = ["id", "sender", "created_at", "status", "body"]
    readonly_fields = fields
    ordering = ["-id"]
    show_change_link = False

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return bool(request.user.is_active and request.user.is_superuser)


@admin.register(Thread)
class ThreadAdmin(AuditedReadsMixin, SuperuserReadOnlyAdmin):
    list_display = ["id", "patient", "doctor", "updated_at", "created_at"]
    list_select_related = ["patient", "doctor"]
    search_fields = ["patient__email", "doctor__email"]
    fields = ["patient", "doctor", "patient_read_up_to", "doctor_read_up_to", "created_at", "updated_at"]
    readonly_fields = fields
    inlines = [MessageInline]

    def record_reads(self, request: HttpRequest, objects: Any, *, listing: bool) -> None:
        _record(request, AccessAction.LIST if listing else AccessAction.VIEW, threads=objects)


@admin.register(Message)
class MessageAdmin(AuditedReadsMixin, SuperuserReadOnlyAdmin):
    list_display = ["id", "thread", "sender", "status", "created_at"]
    list_select_related = ["thread", "sender"]
    list_filter = ["status"]
    fields = ["thread", "sender", "status", "body", "created_at", "retracted_at"]
    readonly_fields = fields

    def record_reads(self, request: HttpRequest, objects: Any, *, listing: bool) -> None:
        _record(request, AccessAction.LIST if listing else AccessAction.VIEW, messages=objects)


@admin.register(MessageAccessLog)
class MessageAccessLogAdmin(SuperuserReadOnlyAdmin):
    """Append-only: who read which thread or message in this admin."""

    list_display = ["at", "actor", "action", "thread_id", "message_id", "client_ip"]
    list_filter = ["action"]
    list_select_related = ["actor"]
