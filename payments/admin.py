"""Payments in the admin: read-only for staff (the history is the record); refunds go through the service."""

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from cybermed.admin import ReadOnlyAdmin
from cybermed.exceptions import DomainConflict, UpstreamUnavailable
from payments import services
from payments.models import Payment, PaymentEvent, WebhookEvent


class PaymentEventInline(admin.TabularInline):
    model = PaymentEvent
    fields = ["at", "kind", "from_status", "to_status", "paypal_id", "by", "detail"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(Payment)
class PaymentAdmin(ReadOnlyAdmin):
    list_display = ["id", "appointment", "amount", "currency", "status", "hold_expires_at", "paypal_order_id"]
    list_filter = ["status", "currency"]
    search_fields = ["paypal_order_id", "paypal_capture_id", "paypal_refund_id", "appointment__patient__email"]
    list_select_related = ["appointment"]
    inlines = [PaymentEventInline]
    actions = ["refund_selected"]

    @admin.action(description="Refund selected paid payments in full (PayPal)")
    def refund_selected(self, request: HttpRequest, queryset: QuerySet[Payment]) -> None:
        for payment in queryset:
            try:
                services.payment_refund(payment=payment, by=request.user)
            except (DomainConflict, UpstreamUnavailable) as error:
                self.message_user(request, f"Payment #{payment.pk}: {error}", messages.ERROR)
            else:
                self.message_user(request, f"Payment #{payment.pk} refunded.", messages.SUCCESS)

    def get_actions(self, request: HttpRequest) -> dict:
        # Actions normally need the change permission; refunding is staff's one write here.
        actions = super().get_actions(request)
        return actions if request.user.is_staff else {}

    def has_view_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return request.user.is_staff


@admin.register(WebhookEvent)
class WebhookEventAdmin(ReadOnlyAdmin):
    list_display = ["event_id", "event_type", "resource_id", "received_at"]
    list_filter = ["event_type"]
    search_fields = ["event_id", "resource_id"]

    def has_view_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return request.user.is_staff
