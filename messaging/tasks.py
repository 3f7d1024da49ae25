"""The "new message" email: no message text, ever (messages are medical data; email is not private)."""

import logging
import smtplib

from django.conf import settings
from django.core.mail import send_mail
from django.template.loader import render_to_string
from django_tasks import task

from cybermed import realtime
from messaging.choices import MessageStatus
from messaging.models import Message
from notifications.formatting import person_name
from notifications.models import NotificationPreference
from users.links import home_link
from users.models import User

logger = logging.getLogger(__name__)


def _still_worth_sending(message: Message, recipient: User) -> bool:
    thread = message.thread
    if message.status != MessageStatus.SENT or thread.read_up_to(recipient.pk) >= message.pk:
        return False
    # A burst of messages gets one email: the newest unread one's.
    newer = Message.objects.filter(thread=thread, sender_id=message.sender_id, pk__gt=message.pk)
    return not newer.filter(status=MessageStatus.SENT).exists()


@task()
def send_message_email(message_id: int, recipient_id: int) -> bool:
    """Tell a recipient who is not connected when it runs (MESSAGE_EMAIL_DELAY_SECONDS after the message) that
    a message waits, unless they read it meanwhile, the sender retracted it, or they switched email off.
    Returns whether an email went out."""
    message = Message.objects.select_related("thread", "sender").filter(pk=message_id).first()
    recipient = User.objects.filter(pk=recipient_id, is_active=True).first()
    if message is None or recipient is None or not recipient.email:
        return False
    if realtime.is_online(recipient.pk):  # connected now: the socket showed it, no email needed
        return False
    if recipient.pk not in message.thread.participant_ids() or not _still_worth_sending(message, recipient):
        return False
    if NotificationPreference.objects.filter(user=recipient, email_enabled=False).exists():
        return False
    context = {"sender_name": person_name(message.sender), "user": recipient, "frontend_url": home_link()}
    try:
        send_mail(
            subject=f"CyberMed: you have a new message from {context['sender_name']}",
            message=render_to_string("messaging/email/new_message.txt", context),
            from_email=settings.DEFAULT_FROM_EMAIL,
            recipient_list=[recipient.email],
        )
    except (smtplib.SMTPException, OSError):
        logger.exception("could not email about message %s", message_id)
        return False
    return True
