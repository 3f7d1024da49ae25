"""Writes of the notifications app: notifications (and their emails), preferences, reminders, waitlist."""

import datetime as dt
import logging
from dataclasses import dataclass
from functools import partial

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from appointments.choices import ACTIVE_STATUSES, Status
from appointments.events import AppointmentChange, AppointmentSnapshot
from appointments.events import AppointmentEventKind as Event
from appointments.models import Appointment
from cybermed import realtime
from cybermed.exceptions import AlreadyExists
from notifications import sms
from notifications.choices import SMS_STATUS_RANK, Kind, SmsStatus
from notifications.formatting import doctor_name, format_local, person_name, zone_name_of, zone_of
from notifications.models import Notification, NotificationPreference, ReminderSent, SmsDelivery, WaitlistEntry
from users.models import User

logger = logging.getLogger(__name__)

REMINDER_WINDOW = dt.timedelta(hours=24)

# --- Notifications --------------------------------------------------------------------------------


@dataclass(frozen=True)
class NotificationSpec:
    user_id: int
    kind: str
    title: str
    message: str
    appointment_id: int | None
    data: dict


def _push(notification: Notification) -> None:
    from notifications.api.serializers import NotificationSerializer  # the one shape of a notification

    realtime.push(
        user_ids=[notification.user_id],
        event="notification.created",
        data={"notification": NotificationSerializer(notification).data},
    )


def _enqueue_email(notification_id: int) -> None:
    from notifications.tasks import send_notification_email

    send_notification_email.enqueue(notification_id=notification_id)


def _enqueue_sms(notification_id: int) -> None:
    from notifications.tasks import send_notification_sms

    send_notification_sms.enqueue(notification_id=notification_id)


@transaction.atomic
def notifications_create(*, specs: list[NotificationSpec], texting: set[int] | None = None) -> list[Notification]:
    """Store the notifications; once the transaction commits, push each to its user's open sockets
    (`notification.created`, docs/realtime.md), queue its email, and queue an SMS for the kinds that are texted
    to users who opted in. `texting`: those users, when the caller already knows them (a batch such as the
    reminders looks them up once, not once per notification)."""
    if not specs:
        return []
    notifications = Notification.objects.bulk_create(
        [
            Notification(
                user_id=spec.user_id,
                kind=spec.kind,
                title=spec.title,
                message=spec.message,
                appointment_id=spec.appointment_id,
                data=spec.data,
            )
            for spec in specs
        ]
    )
    if texting is None:
        texting = _sms_recipients({n.user_id for n in notifications if n.kind in SMS_KINDS})
    for notification in notifications:
        # robust: a broken task queue is logged, it never turns a committed change into an error.
        transaction.on_commit(partial(_push, notification), robust=True)
        transaction.on_commit(partial(_enqueue_email, notification.pk), robust=True)
        if notification.kind in SMS_KINDS and notification.user_id in texting:
            transaction.on_commit(partial(_enqueue_sms, notification.pk), robust=True)
    return notifications


def notification_create(
    *,
    user: User,
    kind: str,
    title: str,
    message: str,
    appointment: Appointment | None = None,
    data: dict | None = None,
    texting: set[int] | None = None,
) -> Notification:
    spec = NotificationSpec(
        user_id=user.pk,
        kind=kind,
        title=title,
        message=message,
        appointment_id=appointment.pk if appointment is not None else None,
        data=data or {},
    )
    return notifications_create(specs=[spec], texting=texting)[0]


def notification_mark_read(*, notification: Notification) -> Notification:
    if not notification.is_read:
        Notification.objects.filter(pk=notification.pk).update(is_read=True)
        notification.is_read = True
    return notification


def notifications_mark_all_read(*, user: User) -> int:
    return Notification.objects.filter(user=user, is_read=False).update(is_read=True)


def notification_preference_get(*, user: User) -> NotificationPreference:
    preference, _ = NotificationPreference.objects.get_or_create(user=user)
    return preference


@transaction.atomic
def notification_preference_update(
    *,
    user: User,
    email_enabled: bool | None = None,
    reminders_enabled: bool | None = None,
    sms_enabled: bool | None = None,
) -> NotificationPreference:
    preference = notification_preference_get(user=user)
    preference = NotificationPreference.objects.select_for_update().get(pk=preference.pk)
    if email_enabled is not None:
        preference.email_enabled = email_enabled
    if reminders_enabled is not None:
        preference.reminders_enabled = reminders_enabled
    if sms_enabled is not None:
        preference.sms_enabled = sms_enabled
    preference.save()
    return preference


# --- SMS ------------------------------------------------------------------------------------------

# What goes by text as well as by email: that a visit is confirmed, and that it is coming up.
SMS_KINDS = frozenset({Kind.APPOINTMENT_CONFIRMED, Kind.REMINDER})


def _sms_recipients(user_ids: set[int]) -> set[int]:
    """Those of `user_ids` who opted in to SMS and have a number (one query; the task checks again)."""
    if not user_ids:
        return set()
    return set(
        NotificationPreference.objects.filter(user_id__in=user_ids, sms_enabled=True, user__is_active=True)
        .exclude(user__phone_number="")
        .values_list("user_id", flat=True)
    )


def sms_text(notification: Notification) -> str | None:
    """The text of a notification's SMS: the time and nothing medical, or None for kinds not texted.

    No doctor's name, specialty, reason or location: an SMS shows on a lock screen and sits in a phone's
    history, and "Dr X, oncology" is medical information. The app has the details.
    """
    data = notification.data or {}
    try:
        when = format_local(dt.datetime.fromisoformat(data["start"]), data.get("timezone") or "UTC")
    except (KeyError, TypeError, ValueError):
        return None
    if notification.kind == Kind.APPOINTMENT_CONFIRMED:
        return f"CyberMed: your appointment on {when} is confirmed. Details in the CyberMed app."
    if notification.kind == Kind.REMINDER:
        return f"CyberMed reminder: you have an appointment on {when}. Details in the CyberMed app."
    return None


def notification_sms_send(*, notification_id: int) -> SmsDelivery | None:
    """Text one notification to its user if they opted in and have a number; record the delivery.

    The delivery row is inserted before sending and is unique per notification, so a retried task (or
    two workers) sends at most once. The provider is called outside any transaction: a slow gateway
    holds no lock. Returns the delivery, or None when nothing was sent.
    """
    notification = Notification.objects.select_related("user").filter(pk=notification_id).first()
    if notification is None:
        return None
    user = notification.user
    if not user.is_active or not user.phone_number:
        return None
    if not NotificationPreference.objects.filter(user=user, sms_enabled=True).exists():
        return None
    text = sms_text(notification)
    if text is None:
        return None
    try:
        with transaction.atomic():
            delivery = SmsDelivery.objects.create(
                notification=notification, to=str(user.phone_number), body=text, backend=settings.SMS_BACKEND
            )
    except IntegrityError:
        return None
    callback = settings.SITE_URL + reverse("sms-twilio-status")
    try:
        result = sms.send_sms(delivery.to, text, status_callback=callback)
    except ImproperlyConfigured as exc:
        logger.error("SMS backend not configured: %s", exc)
        result = sms.SmsResult(status=SmsStatus.FAILED, error="SMS backend not configured")
    delivery.status, delivery.provider_id, delivery.error = result.status, result.provider_id, result.error[:500]
    delivery.save(update_fields=["status", "provider_id", "error", "updated_at"])
    return delivery


@transaction.atomic
def sms_delivery_report(*, provider_id: str, status: str, error: str = "") -> bool:
    """Record a provider's delivery report; False if no message has that id. A report never moves a
    message back (reports arrive out of order), and a repeated one changes nothing."""
    delivery = SmsDelivery.objects.select_for_update().filter(provider_id=provider_id).first()
    if delivery is None:
        return False
    if SMS_STATUS_RANK[SmsStatus(status)] > SMS_STATUS_RANK[SmsStatus(delivery.status)]:
        delivery.status = status
        delivery.error = error[:500] or delivery.error
        delivery.save(update_fields=["status", "error", "updated_at"])
    return True


# --- Appointment events ---------------------------------------------------------------------------


def _appointment_data(appt: AppointmentSnapshot, zone_name: str, **extra: object) -> dict:
    return {
        "appointment": appt.id,
        "doctor": appt.doctor_id,
        "patient": appt.patient_id,
        "start": appt.start.isoformat(),
        "end": appt.end.isoformat(),
        "timezone": zone_name,
        **extra,
    }


def _other_parties(appt: AppointmentSnapshot, actor_id: int | None) -> list[int]:
    """The participant who did not act; both when staff or the system acted."""
    if actor_id == appt.patient_id:
        return [appt.doctor_id]
    if actor_id == appt.doctor_id:
        return [appt.patient_id]
    return [appt.patient_id, appt.doctor_id]


def _doctor_unless_acting(appt: AppointmentSnapshot, actor_id: int | None) -> list[int]:
    """The doctor, when someone else (the front desk) made a move that is normally the doctor's."""
    return [] if actor_id == appt.doctor_id else [appt.doctor_id]


def _appointment_specs(change: AppointmentChange, users: dict[int, User]) -> list[NotificationSpec]:
    appt = change.appointment
    doctor, patient = users[appt.doctor_id], users[appt.patient_id]
    zone_name = zone_name_of(doctor)
    when = format_local(appt.start, zone_name)
    data = _appointment_data(appt, zone_name, event=change.kind.value)

    def counterpart(user_id: int) -> str:
        return person_name(patient if user_id == appt.doctor_id else doctor)

    def spec(user_id: int, kind: str, title: str, message: str, **extra: object) -> NotificationSpec:
        return NotificationSpec(user_id, kind, title, message, appt.id, {**data, **extra})

    match change.kind:
        case Event.CREATED:
            return [
                spec(
                    uid,
                    Kind.APPOINTMENT_CREATED,
                    "New appointment",
                    f"An appointment with {counterpart(uid)} was booked for {when}.",
                )
                for uid in _other_parties(appt, change.actor_id)
            ]
        case Event.CONFIRMED:
            where = f" Location: {appt.location}." if appt.location else ""
            return [
                spec(
                    appt.patient_id,
                    Kind.APPOINTMENT_CONFIRMED,
                    "Appointment confirmed",
                    f"Your appointment with {doctor_name(doctor)} on {when} is confirmed.{where}",
                    location=appt.location,
                ),
                *[
                    spec(
                        uid,
                        Kind.APPOINTMENT_CONFIRMED,
                        "Appointment confirmed",
                        f"Your appointment with {person_name(patient)} on {when} was confirmed by the clinic.{where}",
                        location=appt.location,
                    )
                    for uid in _doctor_unless_acting(appt, change.actor_id)
                ],
            ]
        case Event.CANCELLED:
            return [
                spec(
                    uid,
                    Kind.APPOINTMENT_CANCELLED,
                    "Appointment cancelled",
                    f"Your appointment with {counterpart(uid)} on {when} was cancelled.",
                )
                for uid in _other_parties(appt, change.actor_id)
            ]
        case Event.RESCHEDULED:
            before = format_local(change.previous_start, zone_name) if change.previous_start else "its earlier time"
            extra = {
                "previous_start": change.previous_start.isoformat() if change.previous_start else None,
                "previous_end": change.previous_end.isoformat() if change.previous_end else None,
            }
            return [
                spec(
                    uid,
                    Kind.APPOINTMENT_RESCHEDULED,
                    "Appointment rescheduled",
                    f"Your appointment with {counterpart(uid)} was moved from {before} to {when}.",
                    **extra,
                )
                for uid in _other_parties(appt, change.actor_id)
            ]
        case Event.REFERRED:
            return _referral_specs(change, users)
        case Event.COMPLETED:
            return [
                spec(
                    appt.patient_id,
                    Kind.APPOINTMENT_COMPLETED,
                    "Appointment completed",
                    f"Your appointment with {doctor_name(doctor)} on {when} is complete.",
                )
            ]
        case Event.NO_SHOW:
            return [
                spec(
                    appt.patient_id,
                    Kind.APPOINTMENT_NO_SHOW,
                    "Missed appointment",
                    f"Your appointment with {doctor_name(doctor)} on {when} was marked as missed.",
                ),
                *[
                    spec(
                        uid,
                        Kind.APPOINTMENT_NO_SHOW,
                        "Missed appointment",
                        f"Your appointment with {person_name(patient)} on {when} was marked as missed by the clinic.",
                    )
                    for uid in _doctor_unless_acting(appt, change.actor_id)
                ],
            ]
    logger.warning("no notification for appointment event %r", change.kind)
    return []


def _referral_specs(change: AppointmentChange, users: dict[int, User]) -> list[NotificationSpec]:
    original = change.appointment
    new = change.referral or original
    referring, target, patient = users[original.doctor_id], users[new.doctor_id], users[original.patient_id]
    zone_name = zone_name_of(target)
    when = format_local(new.start, zone_name)
    data = _appointment_data(new, zone_name, event=change.kind.value, referred_from=original.id)
    specs = [
        NotificationSpec(
            original.patient_id,
            Kind.APPOINTMENT_REFERRED,
            "You have been referred",
            f"{doctor_name(referring)} referred you to {doctor_name(target)}. "
            f"Your new appointment is on {when}, waiting for confirmation.",
            new.id,
            data,
        )
    ]
    if change.referral is not None:
        specs.append(
            NotificationSpec(
                new.doctor_id,
                Kind.APPOINTMENT_REFERRED,
                "New referral",
                f"{doctor_name(referring)} referred {person_name(patient)} to you for {when}.",
                new.id,
                data,
            )
        )
    return specs


def _freed_slot_specs(change: AppointmentChange, doctor: User) -> list[NotificationSpec]:
    """`slot_opened` for everyone waiting for this doctor on the freed slot's local date."""
    appt = change.appointment
    if not change.kind.may_free_time:
        return []
    if change.previous_status is not None and change.previous_status not in ACTIVE_STATUSES:
        return []
    start = change.previous_start or appt.start
    end = change.previous_end or appt.end
    if change.kind == Event.RESCHEDULED and start == appt.start:
        return []
    if start <= timezone.now():
        return []
    zone_name = zone_name_of(doctor)
    local_date = start.astimezone(zone_of(zone_name)).date()
    waiting = (
        WaitlistEntry.objects.filter(doctor_id=appt.doctor_id, start_date__lte=local_date, end_date__gte=local_date)
        .exclude(patient_id=appt.patient_id)
        .values_list("patient_id", flat=True)
        .distinct()
        .order_by("patient_id")
    )
    when = format_local(start, zone_name)
    data = {"doctor": appt.doctor_id, "start": start.isoformat(), "end": end.isoformat(), "timezone": zone_name}
    return [
        NotificationSpec(
            patient_id,
            Kind.SLOT_OPENED,
            "A slot opened up",
            f"{doctor_name(doctor)} has a free slot on {when}. Book it soon: it goes to whoever books first.",
            None,  # the freed appointment belongs to someone else
            data,
        )
        for patient_id in waiting
    ]


def appointment_event_notify(*, change: AppointmentChange) -> list[Notification]:
    """Notify the people an appointment change concerns. Runs after the change has committed."""
    appt = change.appointment
    user_ids = {appt.doctor_id, appt.patient_id}
    if change.referral is not None:
        user_ids.add(change.referral.doctor_id)
    users = User.objects.select_related("doctor_profile").in_bulk(user_ids)
    specs = [s for s in _appointment_specs(change, users) if s.user_id != change.actor_id]
    specs += _freed_slot_specs(change, users[appt.doctor_id])
    return notifications_create(specs=specs)


def consultation_notify(
    *, consultation_id: int, appointment_id: int, created: bool, actor_id: int | None
) -> list[Notification]:
    """Tell the patient their record changed; never what is in it."""
    appt = Appointment.objects.select_related("doctor__doctor_profile", "patient").get(pk=appointment_id)
    if appt.patient_id == actor_id:
        return []
    zone_name = zone_name_of(appt.doctor)
    when = format_local(appt.start, zone_name)
    verb = "added" if created else "updated"
    spec = NotificationSpec(
        appt.patient_id,
        Kind.CONSULTATION_CREATED if created else Kind.CONSULTATION_UPDATED,
        f"Consultation record {verb}",
        f"{doctor_name(appt.doctor)} {verb} the consultation record of your appointment on {when}. "
        "Sign in to CyberMed to read it.",
        appt.pk,
        {**_appointment_data(AppointmentSnapshot.of(appt), zone_name), "consultation": consultation_id},
    )
    return notifications_create(specs=[spec])


def notifications_prune(*, older_than: dt.datetime) -> int:
    """Delete read notifications created before `older_than`; unread ones stay until read. Returns the count."""
    deleted, _ = Notification.objects.filter(is_read=True, created_at__lt=older_than).delete()
    return deleted


# --- Reminders ------------------------------------------------------------------------------------


def _reminder_send(*, appointment: Appointment, user: User, texting: set[int] | None = None) -> bool:
    """Record and send one reminder; False if it was already sent (perhaps by a concurrent run)."""
    doctor = appointment.doctor
    zone_name = zone_name_of(doctor)
    other = appointment.patient if user.pk == appointment.doctor_id else doctor
    where = f" Location: {appointment.location}." if appointment.location else ""
    data = _appointment_data(AppointmentSnapshot.of(appointment), zone_name, location=appointment.location)
    try:
        with transaction.atomic():
            ReminderSent.objects.create(user=user, appointment=appointment, start=appointment.start)
            notification_create(
                user=user,
                kind=Kind.REMINDER,
                title="Appointment reminder",
                message=f"Reminder: your appointment with {person_name(other)} is on "
                f"{format_local(appointment.start, zone_name)}.{where}",
                appointment=appointment,
                data=data,
                texting=texting,
            )
    except IntegrityError:
        return False
    return True


def reminders_send(*, now: dt.datetime | None = None) -> int:
    """Remind both participants of every confirmed appointment starting in the next 24 hours, once each.

    Safe to run often and concurrently: the unique ReminderSent row is inserted in the same transaction as the
    notification, so a second run (or a parallel one) skips it."""
    now = now or timezone.now()
    appointments = list(
        Appointment.objects.filter(status=Status.CONFIRMED, start__gt=now, start__lte=now + REMINDER_WINDOW)
        .select_related("doctor__doctor_profile", "patient")
        .order_by("start", "pk")
    )
    if not appointments:
        return 0
    user_ids = {a.doctor_id for a in appointments} | {a.patient_id for a in appointments}
    opted_out = set(
        NotificationPreference.objects.filter(user_id__in=user_ids, reminders_enabled=False).values_list(
            "user_id", flat=True
        )
    )
    already = set(
        ReminderSent.objects.filter(appointment__in=appointments).values_list("user_id", "appointment_id", "start")
    )
    texting = _sms_recipients(user_ids)
    sent = 0
    for appointment in appointments:
        for user in (appointment.patient, appointment.doctor):
            if user.pk in opted_out or not user.is_active:
                continue
            if (user.pk, appointment.pk, appointment.start) in already:
                continue
            sent += _reminder_send(appointment=appointment, user=user, texting=texting)
    return sent


# --- Waitlist -------------------------------------------------------------------------------------


WAITLIST_MAX_DAYS = 62


def _waitlist_window_check(*, doctor: User, start_date: dt.date, end_date: dt.date) -> None:
    if end_date < start_date:
        raise ValidationError({"end_date": ["Must be on or after start_date."]})
    if (end_date - start_date) > dt.timedelta(days=WAITLIST_MAX_DAYS):
        raise ValidationError({"end_date": [f"At most {WAITLIST_MAX_DAYS} days after start_date."]})
    # The doctor's calendar decides what "today" is: their slots are laid out in their zone.
    today = timezone.now().astimezone(zone_of(zone_name_of(doctor))).date()
    if start_date < today:
        raise ValidationError({"start_date": ["Must not be in the past (doctor's local date)."]})


@transaction.atomic
def waitlist_entry_create(*, patient: User, doctor: User, start_date: dt.date, end_date: dt.date) -> WaitlistEntry:
    """Put `patient` on `doctor`'s waitlist for the doctor's local dates `start_date`..`end_date` (inclusive)."""
    _waitlist_window_check(doctor=doctor, start_date=start_date, end_date=end_date)
    if WaitlistEntry.objects.filter(patient=patient, doctor=doctor, start_date=start_date, end_date=end_date).exists():
        raise AlreadyExists("You are already on this doctor's waitlist for these dates.")
    return WaitlistEntry.objects.create(patient=patient, doctor=doctor, start_date=start_date, end_date=end_date)


def waitlist_entry_delete(*, entry: WaitlistEntry) -> None:
    entry.delete()
