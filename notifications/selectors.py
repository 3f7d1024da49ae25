"""Reads of the notifications app, always scoped to the caller."""

from django.db.models import QuerySet

from notifications.models import Notification, WaitlistEntry
from users.models import User


def notification_list(*, user: User) -> QuerySet[Notification]:
    return Notification.objects.filter(user=user).order_by("-created_at", "-id")


def notification_unread_count(*, user: User) -> int:
    return Notification.objects.filter(user=user, is_read=False).count()


def waitlist_entry_list(*, patient: User) -> QuerySet[WaitlistEntry]:
    return WaitlistEntry.objects.filter(patient=patient).order_by("-created_at", "-id")
