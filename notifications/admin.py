from django.contrib import admin

from cybermed.admin import ReadOnlyAdmin
from notifications.models import Notification, NotificationPreference, ReminderSent, SmsDelivery, WaitlistEntry


@admin.register(Notification)
class NotificationAdmin(ReadOnlyAdmin):
    list_display = ["id", "user", "kind", "title", "is_read", "created_at"]
    list_filter = ["kind", "is_read"]
    search_fields = ["user__email", "title"]
    list_select_related = ["user"]
    raw_id_fields = ["user", "appointment"]
    date_hierarchy = "created_at"


@admin.register(NotificationPreference)
class NotificationPreferenceAdmin(admin.ModelAdmin):
    list_display = ["user", "email_enabled", "reminders_enabled", "sms_enabled"]
    list_filter = ["email_enabled", "reminders_enabled", "sms_enabled"]
    search_fields = ["user__email"]
    list_select_related = ["user"]
    raw_id_fields = ["user"]


@admin.register(WaitlistEntry)
class WaitlistEntryAdmin(admin.ModelAdmin):
    list_display = ["id", "patient", "doctor", "start_date", "end_date", "created_at"]
    list_filter = ["start_date"]
    search_fields = ["patient__email", "doctor__email"]
    list_select_related = ["patient", "doctor"]
    raw_id_fields = ["patient", "doctor"]


@admin.register(ReminderSent)
class ReminderSentAdmin(ReadOnlyAdmin):
    list_display = ["id", "user", "appointment", "start", "sent_at"]
    search_fields = ["user__email"]
    list_select_related = ["user", "appointment"]
    raw_id_fields = ["user", "appointment"]


@admin.register(SmsDelivery)
class SmsDeliveryAdmin(ReadOnlyAdmin):
    list_display = ["id", "notification", "to", "status", "provider_id", "created_at", "updated_at"]
    list_filter = ["status"]
    search_fields = ["to", "provider_id"]
    list_select_related = ["notification"]
    raw_id_fields = ["notification"]
