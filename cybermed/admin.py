"""Admin building blocks shared by every app (this module registers nothing)."""

from typing import Any

from django.contrib import admin
from django.http import HttpRequest, HttpResponse


class ReadOnlyAdmin(admin.ModelAdmin):
    """Records that only the services write (history, audit trails, what was sent to whom): staff read them here,
    nobody adds, edits or deletes them, superusers included."""

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class ReadOnlyInline(admin.TabularInline):
    """The same rows shown on their parent's page."""

    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class AuditedReadsMixin:
    """For a ModelAdmin whose rows are medical data: every read shown to a user is recorded.

    A changelist page records the rows it shows (`listing=True`) and a change page, on GET, the object it
    shows; what a record is belongs to the app, in `record_reads`.
    """

    def record_reads(self, request: HttpRequest, objects: Any, *, listing: bool) -> None:
        raise NotImplementedError

    def changelist_view(self, request: HttpRequest, extra_context: dict | None = None) -> HttpResponse:
        response = super().changelist_view(request, extra_context)
        changelist = getattr(response, "context_data", {}).get("cl") if response.status_code == 200 else None
        if changelist is not None:
            self.record_reads(request, changelist.result_list, listing=True)
        return response

    def change_view(
        self, request: HttpRequest, object_id: str, form_url: str = "", extra_context: dict | None = None
    ) -> HttpResponse:
        response = super().change_view(request, object_id, form_url, extra_context)
        if request.method == "GET" and response.status_code == 200:
            self.record_reads(request, [response.context_data["original"]], listing=False)
        return response
