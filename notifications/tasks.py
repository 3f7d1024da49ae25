"""Background work: notification emails are sent here, never inside a request."""

import datetime as dt
import logging
import smtplib

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django_tasks import task

from notifications.formatting import format_local
from notifications.models import Notification, NotificationPreference
from users.links import home_link

logger = logging.getLogger(__name__)


def _email_context(notification: Notification) -> dict:
    data = notification.data or {}
    zone_name = data.get("timezone") or "UTC"
    when = None
    if data.get("start"):
        try:
            when = format_local(dt.datetime.fromisoformat(data["start"]), zone_name)
        except (TypeError, ValueError):
            when = None
    return {
        "notification": notification,
        "user": notification.user,
        "when": when,
        "location": data.get("location") or "",
        "frontend_url": home_link(),
    }


@task()
def send_notification_email(notification_id: int) -> bool:
    """Email one notification unless its user switched email off. Returns whether a message went out.

    A failing mail server is logged, not raised: the notification itself is already stored."""
    notification = Notification.objects.select_related("user").filter(pk=notification_id).first()
    if notification is None:
        return False
    user = notification.user
    if not user.email or not user.is_active:
        return False
    if NotificationPreference.objects.filter(user=user, email_enabled=False).exists():
        return False
    context = _email_context(notification)
    message = EmailMultiAlternatives(
        subject=f"CyberMed: {notification.title}",
        body=render_to_string("notifications/email/notification.txt", context),
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[user.email],
    )
    message.attach_alternative(render_to_string("notifications/email/notification.html", context), "text/html")
    try:
        message.send()
    except (smtplib.SMTPException, OSError):
        logger.exception("could not email notification %s", notification_id)
        return False
    return True
