"""The only place signal receivers live. Each defers its work until the sender's transaction commits, so a
change that rolls back notifies nobody; `robust` keeps a notification failure from failing a committed change."""

from functools import partial

from django.db import transaction
from django.dispatch import receiver

from appointments.signals import appointment_changed
from consultations.signals import consultation_saved
from notifications import services


@receiver(appointment_changed, dispatch_uid="notifications.appointment_changed")
def on_appointment_changed(
    sender: object,
    *,
    appointment,
    event: str,
    actor=None,
    previous_status: str | None = None,
    previous_start=None,
    previous_end=None,
    referral=None,
    **kwargs: object,
) -> None:
    event_snapshot = services.AppointmentEvent(
        event=event,
        appointment=services.AppointmentSnapshot.of(appointment),
        actor_id=getattr(actor, "pk", None),
        previous_status=previous_status,
        previous_start=previous_start,
        previous_end=previous_end,
        referral=services.AppointmentSnapshot.of(referral) if referral is not None else None,
    )
    transaction.on_commit(partial(services.appointment_event_notify, event=event_snapshot), robust=True)


@receiver(consultation_saved, dispatch_uid="notifications.consultation_saved")
def on_consultation_saved(sender: object, *, consultation, created: bool, actor=None, **kwargs: object) -> None:
    notify = partial(
        services.consultation_notify,
        consultation_id=consultation.pk,
        appointment_id=consultation.appointment_id,
        created=bool(created),
        actor_id=getattr(actor, "pk", None),
    )
    transaction.on_commit(notify, robust=True)
