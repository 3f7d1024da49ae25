"""The "new message" email: no message text, ever (messages are medical data; email is not private)."""

import datetime as dt
import logging
import smtplib
from functools import partial

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone
from django_tasks import task

from cybermed import realtime
from messaging.choices import MessageStatus
from messaging.models import Message, Thread
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


def queue_email_check(*, message_id: int, recipient_id: int, check_at: dt.datetime) -> None:
    """Run `send_message_email` for this message at `check_at`, as the recipient's one queued check (the time
    stored on the thread by messaging.services)."""
    send_message_email.using(run_after=check_at).enqueue(
        message_id=message_id, recipient_id=recipient_id, check_at=check_at.isoformat()
    )


def _newest_to_email_about(message_id: int, recipient_id: int, check_at: dt.datetime) -> int | None:
    """Run as the recipient's queued check: the newest message (from the same sender, from `message_id` on,
    not retracted) to email about, or None. None too when this check no longer owns the recipient's email,
    or when messages came while it waited: then it queues itself again for when the newest one's own delay
    is over, so that a burst gets one email, sent a full delay after its last message."""
    message = Message.objects.filter(pk=message_id).only("thread_id", "sender_id").first()
    if message is None:
        return None
    delay = dt.timedelta(seconds=settings.MESSAGE_EMAIL_DELAY_SECONDS)
    with transaction.atomic():
        thread = Thread.objects.select_for_update().filter(pk=message.thread_id).first()
        if thread is None or recipient_id not in thread.participant_ids():
            return None
        field = thread.email_check_field(recipient_id)
        if getattr(thread, field) != check_at:
            return None  # a later check took over (this one was taken for lost)
        newest = (
            Message.objects.filter(thread=thread, sender_id=message.sender_id, pk__gte=message_id)
            .filter(status=MessageStatus.SENT)
            .only("pk", "created_at")
            .order_by("-pk")
            .first()
        )
        again_at = newest.created_at + delay if newest is not None else None
        if again_at is not None and again_at > timezone.now():
            setattr(thread, field, again_at)
            thread.save(update_fields=[field])
            transaction.on_commit(
                partial(queue_email_check, message_id=newest.pk, recipient_id=recipient_id, check_at=again_at)
            )
            return None
        setattr(thread, field, None)
        thread.save(update_fields=[field])
    return newest.pk if newest is not None else None


@task()
def send_message_email(message_id: int, recipient_id: int, check_at: str | None = None) -> bool:
    """Tell a recipient who is not connected when it runs (MESSAGE_EMAIL_DELAY_SECONDS after the message) that
    a message waits, unless they read it meanwhile, the sender retracted it, or they switched email off.
    Returns whether an email went out.

    With `check_at` (the deferring backends) it runs as the recipient's one queued check and emails about the
    newest message since `message_id` (`_newest_to_email_about`); without it (the immediate backend, or a
    task queued before checks were coalesced), about `message_id` itself.
    """
    if check_at is not None:
        newest = _newest_to_email_about(message_id, recipient_id, dt.datetime.fromisoformat(check_at))
        if newest is None:
            return False
        message_id = newest
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
