"""Reads of the messaging app, always scoped to a participant: someone else's thread is simply not found."""

import functools
from collections.abc import Callable

from django.db.models import Count, F, IntegerField, OuterRef, Q, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce

from appointments.models import Appointment
from messaging.choices import MessageStatus
from messaging.models import Message, Thread
from users.models import User

# A thread's two sides: each one's read watermark, and the other side (whose messages it reads).
SIDES = {"patient": ("patient_read_up_to", "doctor"), "doctor": ("doctor_read_up_to", "patient")}


def _unread_by(side: str, ref: Callable[[str], F]) -> Q:
    """Messages `side` has not read: sent by the other participant past `side`'s watermark, retracted ones left
    out. `ref` names a column of the thread (`OuterRef` from a subquery, `F("thread__…")` through the join).

    "From the other participant" rather than "not from me": only participants post (services.message_post), so
    the two agree, and this form names nobody: the list's statement is the same for every caller."""
    watermark, other = SIDES[side]
    return Q(status=MessageStatus.SENT, sender=ref(f"{other}_id"), id__gt=ref(watermark))


def _unread_count(side: str) -> Coalesce:
    count = (
        Message.objects.filter(_unread_by(side, OuterRef), thread=OuterRef("pk"))
        .order_by()
        .values("thread")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return Coalesce(Subquery(count, output_field=IntegerField()), Value(0))


def _participating(user: User) -> Q:
    return Q(patient=user) | Q(doctor=user)


def thread_rows() -> QuerySet[Thread]:
    """Every thread as its list row shows it, most recent activity first: both participants, the last message,
    and what each side has not read (`unread_as_patient`, `unread_as_doctor`; `unread_for` picks the caller's).

    Both counts, because the caller's side is a matter of each thread's data, not of the caller's role: a user
    whose role was changed keeps the threads of their former side. So the query names nobody and is built once
    per process, like its `.values()` (ThreadRows.values_base): building them for each request cost a page 0.6 ms
    of its 3.6 (issue 19). A clone each call. PostgreSQL runs each count as a range scan of the thread's newest
    messages (`message_thread_newest`)."""
    return _thread_rows_built_once().all()


@functools.cache
def _thread_rows_built_once() -> QuerySet[Thread]:
    return (
        Thread.objects.select_related("last_message", "patient", "doctor")
        .annotate(unread_as_patient=_unread_count("patient"), unread_as_doctor=_unread_count("doctor"))
        .order_by("-updated_at", "-id")
    )


def thread_list(*, user: User, base: QuerySet | None = None) -> QuerySet[Thread]:
    """The user's threads: `thread_rows()`, or `base` (its `.values()`, built once) when given."""
    rows = thread_rows() if base is None else base.all()  # a clone: a shared query is never evaluated
    return rows.filter(_participating(user))


def unread_for(*, user_id: int, patient_id: int, unread_as_patient: int, unread_as_doctor: int) -> int:
    """The caller's unread count of one of their threads (of `thread_rows()`): their side's."""
    return unread_as_patient if user_id == patient_id else unread_as_doctor


def threads_of(*, user: User) -> QuerySet[Thread]:
    """The user's threads, bare rows: what acting on one thread needs (posting, reading, marking read)."""
    return Thread.objects.filter(_participating(user))


def thread_get(*, user: User, pk: int) -> Thread | None:
    """One of the user's threads as its list row shows it, its `unread` the caller's."""
    thread = thread_list(user=user).filter(pk=pk).first()
    if thread is not None:
        thread.unread = unread_for(
            user_id=user.pk,
            patient_id=thread.patient_id,
            unread_as_patient=thread.unread_as_patient,
            unread_as_doctor=thread.unread_as_doctor,
        )
    return thread


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
    """Messages the user has not read, across all their threads (e.g. for a dashboard)."""
    if not (user.is_patient or user.is_doctor):
        return 0  # staff take part in no thread
    return Message.objects.filter(
        Q(_unread_by("patient", lambda column: F(f"thread__{column}")), thread__patient=user)
        | Q(_unread_by("doctor", lambda column: F(f"thread__{column}")), thread__doctor=user)
    ).count()
