"""Writes of the messaging app. Each push to the participants' sockets goes out after commit."""

import datetime as dt
import logging
from functools import partial

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import Max
from django.utils import timezone

from cybermed import realtime
from messaging import selectors
from messaging.choices import Event, MessageStatus
from messaging.exceptions import NotAllowed
from messaging.models import Message, Thread
from users.models import User

logger = logging.getLogger(__name__)

NO_SHARED_APPOINTMENT = "You can only message a doctor or patient you have an appointment with."


def thread_meta(thread: Thread) -> dict:
    """What a socket needs to relay typing in this thread (sent along with pushes, never to clients)."""
    return {"thread": [thread.pk, thread.patient_id, thread.doctor_id]}


def message_payload(message: Message) -> dict:
    from messaging.api.serializers import message_json_of  # the one shape of a message, REST and socket alike

    return message_json_of(message)


def thread_open(*, user: User, counterpart: User) -> tuple[Thread, bool]:
    """The thread between a patient and a doctor, created on first use; returns it and whether it is new.

    Only a patient and a doctor who share an appointment (in any status) may have one.
    """
    if user.is_patient and counterpart.is_doctor:
        patient, doctor = user, counterpart
    elif user.is_doctor and counterpart.is_patient:
        patient, doctor = counterpart, user
    else:
        raise NotAllowed("Threads are between a patient and a doctor.")
    if not selectors.share_an_appointment(patient_id=patient.pk, doctor_id=doctor.pk):
        raise NotAllowed(NO_SHARED_APPOINTMENT)
    existing = Thread.objects.filter(patient=patient, doctor=doctor).first()
    if existing is not None:
        return existing, False
    try:
        with transaction.atomic():
            thread = Thread.objects.create(patient=patient, doctor=doctor)
    except IntegrityError:
        # The other participant opened it at the same moment: theirs is the thread.
        return Thread.objects.get(patient=patient, doctor=doctor), False
    # No frame for clients (the first message announces the thread); sockets learn it for typing.
    realtime.push_on_commit(user_ids=thread.participant_ids(), event="", data={}, meta=thread_meta(thread))
    return thread, True


def message_post(*, thread_id: int | str, sender: User, body: str) -> Message:
    """Store a message in one of the sender's threads and push it to both participants once committed.

    The thread is found among the sender's own threads and locked (Thread.DoesNotExist for anyone else's: the API
    answers 404, as for any thread that is not yours). The lock makes ids within a thread follow commit order: a
    client that has seen message N and asks for `?after=N` can never miss one that commits later with a smaller
    id; and a message is never dated before the one it follows. The sender has read their own message. The
    recipient's "new message" email check is queued by the first message of a burst (`_claim_email_check`).

    On PostgreSQL all of it is one statement (`_POST_IN_ONE_STATEMENT`): live chat's hot path, where the ORM's
    lock, insert, update and transaction cost five round trips and most of the request's CPU. Elsewhere
    (SQLite) the same rules run through the ORM; the tests run on both databases, and
    `test_posting_is_the_same_on_both_paths` holds the two paths to the same result.
    """
    if connection.vendor == "postgresql":
        return _message_post_in_one_statement(thread_id=thread_id, sender=sender, body=body)
    return _message_post_through_the_orm(thread_id=thread_id, sender=sender, body=body)


@transaction.atomic
def _message_post_through_the_orm(*, thread_id: int | str, sender: User, body: str) -> Message:
    locked = selectors.threads_of(user=sender).select_for_update().get(pk=thread_id)
    message = Message.objects.create(thread=locked, sender=sender, body=body)  # dated now, after the lock
    locked.last_message = message
    locked.updated_at = message.created_at
    watermark = "patient_read_up_to" if sender.pk == locked.patient_id else "doctor_read_up_to"
    setattr(locked, watermark, message.pk)
    changed = ["last_message", "updated_at", watermark]
    check_at = _claim_email_check(locked, message)
    if check_at is not None:
        changed.append(locked.email_check_field(locked.other_participant_id(sender.pk)))
    locked.save(update_fields=changed)
    transaction.on_commit(partial(_message_posted, message, locked, check_at), robust=True)
    return message


# `_message_post_through_the_orm` in one statement (so no BEGIN and COMMIT either). `thread`: the sender's thread,
# locked, with the message's time (never before the thread's last activity, as the lock orders messages) and
# whether the message queues the recipient's email check (`_claim_email_check`'s rule); `message`: the insert;
# then the thread's update, in which every column not set for the sender keeps its value.
_POST_IN_ONE_STATEMENT = """
WITH thread AS (
    SELECT id, patient_id, doctor_id, GREATEST(%(now)s, updated_at) AS at,
           CASE WHEN patient_id = %(sender)s THEN doctor_email_check_at ELSE patient_email_check_at END AS queued
    FROM messaging_thread
    WHERE id = %(thread)s AND (patient_id = %(sender)s OR doctor_id = %(sender)s)
    FOR UPDATE
), claim AS (
    SELECT thread.*, %(defer)s AND (queued IS NULL OR queued + %(delay)s <= at) AS claims FROM thread
), message AS (
    INSERT INTO messaging_message (thread_id, sender_id, body, status, created_at)
    SELECT id, %(sender)s, %(body)s, %(status)s, at FROM claim
    RETURNING id, thread_id, created_at
)
UPDATE messaging_thread AS t SET
    last_message_id = message.id,
    updated_at = message.created_at,
    patient_read_up_to = CASE WHEN claim.patient_id = %(sender)s THEN message.id ELSE t.patient_read_up_to END,
    doctor_read_up_to = CASE WHEN claim.doctor_id = %(sender)s THEN message.id ELSE t.doctor_read_up_to END,
    patient_email_check_at = CASE WHEN claim.claims AND claim.doctor_id = %(sender)s
                             THEN message.created_at + %(delay)s ELSE t.patient_email_check_at END,
    doctor_email_check_at = CASE WHEN claim.claims AND claim.patient_id = %(sender)s
                            THEN message.created_at + %(delay)s ELSE t.doctor_email_check_at END
FROM message, claim
WHERE t.id = message.thread_id AND claim.id = message.thread_id
RETURNING message.id, message.created_at, claim.patient_id, claim.doctor_id, claim.claims
"""


def _message_post_in_one_statement(*, thread_id: int | str, sender: User, body: str) -> Message:
    from messaging.tasks import send_message_email

    thread_pk = _bigint_or_none(thread_id)
    if thread_pk is None:
        raise Thread.DoesNotExist
    delay = dt.timedelta(seconds=settings.MESSAGE_EMAIL_DELAY_SECONDS)
    params = {
        "thread": thread_pk,
        "sender": sender.pk,
        "body": body,
        "status": MessageStatus.SENT.value,
        "now": timezone.now(),
        "delay": delay,
        "defer": send_message_email.get_backend().supports_defer,
    }
    with connection.cursor() as cursor:
        cursor.execute(_POST_IN_ONE_STATEMENT, params)
        row = cursor.fetchone()
    if row is None:
        raise Thread.DoesNotExist
    message_pk, created_at, patient_pk, doctor_pk, claims = row
    thread = Thread(pk=thread_pk, patient_id=patient_pk, doctor_id=doctor_pk)
    message = Message(
        pk=message_pk, thread=thread, sender=sender, body=body, status=MessageStatus.SENT, created_at=created_at
    )
    check_at = created_at + delay if claims else None
    # Outside a transaction the statement has committed, and on_commit runs the pushes at once.
    transaction.on_commit(partial(_message_posted, message, thread, check_at), robust=True)
    return message


def _bigint_or_none(value: int | str) -> int | None:
    """`value` as a bigint primary key, or None when it cannot be one (no such thread, as the ORM would say)."""
    try:
        number = int(value)
    except (TypeError, ValueError):
        return None
    return number if -(2**63) <= number < 2**63 else None


def _claim_email_check(thread: Thread, message: Message) -> dt.datetime | None:
    """When the recipient's "new message" email check is to run, if this message must queue one (the thread is
    locked); None when a check is already queued, which will see this message too (it looks at the newest one).

    A check still not run long after it was due is taken for lost (a worker or broker that dropped it): the
    message queues a new one, and the old one, should it ever run, finds it no longer owns the recipient's
    email and does nothing.
    """
    from messaging.tasks import send_message_email

    if not send_message_email.get_backend().supports_defer:
        return None  # the immediate backend (development, tests): every message is checked at once
    field = thread.email_check_field(thread.other_participant_id(message.sender_id))
    queued = getattr(thread, field)
    delay = dt.timedelta(seconds=settings.MESSAGE_EMAIL_DELAY_SECONDS)
    if queued is not None and queued + delay > message.created_at:
        return None
    check_at = message.created_at + delay
    setattr(thread, field, check_at)
    return check_at


def _message_posted(message: Message, thread: Thread, check_at: dt.datetime | None) -> None:
    from messaging.tasks import queue_email_check, send_message_email

    realtime.push(
        user_ids=thread.participant_ids(),
        event=Event.MESSAGE_CREATED,
        data={"thread_id": thread.pk, "message": message_payload(message)},
        meta=thread_meta(thread),
    )
    # Whether the recipient is connected is decided when the email is due, not now: someone who closed the
    # app a moment ago still looks online for up to a minute (presence outlives the socket).
    recipient_id = thread.other_participant_id(message.sender_id)
    if check_at is not None:
        queue_email_check(message_id=message.pk, recipient_id=recipient_id, check_at=check_at)
    elif not send_message_email.get_backend().supports_defer:
        # No deferral (the immediate backend): the task runs now and re-checks that the message is still unread.
        send_message_email.enqueue(message_id=message.pk, recipient_id=recipient_id)


@transaction.atomic
def message_retract(*, message: Message, by: User) -> Message:
    """Hide a message's body from everyone, for good; only its sender may. Retracting twice is a no-op."""
    if message.sender_id != by.pk:
        raise NotAllowed("Only the sender can retract a message.")
    locked = Message.objects.select_for_update().select_related("thread").get(pk=message.pk)
    if locked.status == MessageStatus.RETRACTED:
        return locked
    locked.status = MessageStatus.RETRACTED
    locked.retracted_at = timezone.now()
    locked.save(update_fields=["status", "retracted_at"])
    thread = locked.thread
    realtime.push_on_commit(
        user_ids=thread.participant_ids(),
        event=Event.MESSAGE_RETRACTED,
        data={"thread_id": thread.pk, "message": message_payload(locked)},
    )
    return locked


@transaction.atomic
def thread_mark_read(*, thread: Thread, user: User, up_to: int) -> int:
    """Move the user's read watermark forward to `up_to` (never back, never past the thread's last
    message); returns the watermark. Both participants' sockets hear of a move (read receipts)."""
    locked = Thread.objects.select_for_update().get(pk=thread.pk)
    field = "patient_read_up_to" if user.pk == locked.patient_id else "doctor_read_up_to"
    current = getattr(locked, field)
    newest = Message.objects.filter(thread=locked).aggregate(newest=Max("pk"))["newest"] or 0
    target = max(current, min(up_to, newest))
    if target != current:
        setattr(locked, field, target)
        locked.save(update_fields=[field])
        realtime.push_on_commit(
            user_ids=locked.participant_ids(),
            event=Event.THREAD_READ,
            data={"thread_id": locked.pk, "user_id": user.pk, "up_to": target},
        )
    return target
