"""Background work: notification emails are sent here, never inside a request."""

import datetime as dt
import logging
import smtplib
from email.mime.text import MIMEText

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone
from django_tasks import task

from calendars import ics
from calendars.selectors import invitation_appointment
from notifications.choices import Kind, SmsStatus
from notifications.formatting import format_local
from notifications.models import Notification, NotificationPreference
from notifications.services import notification_sms_send, notifications_prune, reminders_send
from users.links import home_link

logger = logging.getLogger(__name__)

# The emails that carry the event as an invitation, so that mail clients add, move or remove it.
INVITING_KINDS = frozenset(
    {Kind.APPOINTMENT_CREATED, Kind.APPOINTMENT_CONFIRMED, Kind.APPOINTMENT_RESCHEDULED, Kind.APPOINTMENT_CANCELLED}
)


def _invitation(notification: Notification) -> MIMEText | None:
    """The appointment as it is now, as an iTIP REQUEST (or CANCEL once it is cancelled), or None.

    Built when the email is sent rather than when the change happened: a late email then never
    re-adds an appointment cancelled in between (its CANCEL outranks by SEQUENCE anyway).
    """
    if notification.kind not in INVITING_KINDS or notification.appointment_id is None:
        return None
    appointment = invitation_appointment(pk=notification.appointment_id)
    if appointment is None or notification.user_id not in (appointment.doctor_id, appointment.patient_id):
        return None
    method = ics.invitation_method(appointment)
    part = MIMEText(ics.invitation_calendar(appointment, recipient=notification.user).decode(), "calendar", "utf-8")
    # method= on the Content-Type is what makes Gmail and Outlook show the event with "add to calendar".
    part.set_param("method", method)
    part.add_header("Content-Disposition", "attachment", filename="invite.ics" if method == "REQUEST" else "cancel.ics")
    return part


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

    Idempotent: the notification's row is locked while its email is sent and `emailed_at` is set in the same
    transaction, so a second delivery of this task (a redelivered message, a retry) waits, then sends nothing.
    A worker that dies before the commit leaves `emailed_at` empty and the redelivered task sends the email;
    only a death between the mail server's acceptance and the commit (milliseconds) can duplicate it.
    A failing mail server is logged and raised: the notification is already stored, and a queue that retries
    (Celery, with backoff) sends the email later.
    """
    with transaction.atomic():
        notification = (
            Notification.objects.select_for_update(of=("self",))
            .select_related("user")
            .filter(pk=notification_id, emailed_at__isnull=True)
            .first()
        )
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
        invitation = _invitation(notification)
        if invitation is not None:
            message.attach(invitation)
        try:
            message.send()
        except (smtplib.SMTPException, OSError):
            logger.exception("could not email notification %s", notification_id)
            raise
        notification.emailed_at = timezone.now()
        notification.save(update_fields=["emailed_at"])
    return True


@task()
def send_reminders() -> int:
    """The periodic reminder run (celery beat, or the send_reminders command from cron)."""
    return reminders_send()


@task()
def prune_notifications() -> int:
    """Delete read notifications older than NOTIFICATION_RETENTION_DAYS; returns how many went."""
    return notifications_prune(older_than=timezone.now() - dt.timedelta(days=settings.NOTIFICATION_RETENTION_DAYS))


@task()
def send_notification_sms(notification_id: int) -> bool:
    """Text one notification (confirmations and reminders) to a user who opted in. Returns whether one went out."""
    delivery = notification_sms_send(notification_id=notification_id)
    return delivery is not None and delivery.status != SmsStatus.FAILED
