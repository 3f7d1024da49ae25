"""Reads of the messaging app, always scoped to a participant: someone else's thread is simply not found."""

from django.db.models import Count, F, IntegerField, OuterRef, Q, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce

from appointments.models import Appointment
from messaging.choices import MessageStatus
from messaging.models import Message, Thread
from users.models import User


def thread_list(*, user: User) -> QuerySet[Thread]:
    """The user's threads, most recent activity first, each with `unread` (messages from the other
    participant past the user's watermark, retracted ones left out) and its last message."""
    watermark = "patient_read_up_to" if user.is_patient else "doctor_read_up_to"
    unread = (
        Message.objects.filter(thread=OuterRef("pk"), status=MessageStatus.SENT, id__gt=OuterRef(watermark))
        .exclude(sender=user)
        .order_by()
        .values("thread")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return (
        threads_of(user=user)
        .select_related("last_message", "patient", "doctor")
        .annotate(unread=Coalesce(Subquery(unread, output_field=IntegerField()), Value(0)))
        .order_by("-updated_at", "-id")
    )


def threads_of(*, user: User) -> QuerySet[Thread]:
    """The user's threads, bare rows: what acting on one thread needs (posting, reading, marking read)."""
    return Thread.objects.filter(Q(patient=user) | Q(doctor=user))


def thread_get(*, user: User, pk: int) -> Thread | None:
    return thread_list(user=user).filter(pk=pk).first()


def message_list(*, thread: Thread) -> QuerySet[Message]:
    return Message.objects.filter(thread=thread)


def message_get(*, user: User, pk: int) -> Message | None:
    """A message of one of the user's threads."""
    return (
        Message.objects.filter(pk=pk)
        .filter(Q(thread__patient=user) | Q(thread__doctor=user))
        .select_related("thread")
        .first()
    )


def share_an_appointment(*, patient_id: int, doctor_id: int) -> bool:
    return Appointment.objects.filter(patient_id=patient_id, doctor_id=doctor_id).exists()


def thread_counterparts(*, user_id: int) -> dict[int, int]:
    """{thread id: the other participant's id} for every thread of the user (the socket's typing check)."""
    rows = Thread.objects.filter(Q(patient_id=user_id) | Q(doctor_id=user_id)).values_list(
        "pk", "patient_id", "doctor_id"
    )
    return {pk: doctor if patient == user_id else patient for pk, patient, doctor in rows}


def unread_total(*, user: User) -> int:
    """Messages from others the user has not read, across all their threads (e.g. for a dashboard)."""
    if not (user.is_patient or user.is_doctor):
        return 0
    mine, watermark = ("patient", "patient_read_up_to") if user.is_patient else ("doctor", "doctor_read_up_to")
    return (
        Message.objects.filter(**{f"thread__{mine}": user}, status=MessageStatus.SENT, id__gt=F(f"thread__{watermark}"))
        .exclude(sender=user)
        .count()
    )
