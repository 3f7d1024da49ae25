"""The only place signal receivers live. Each defers its work until the sender's transaction commits, so a
change that rolls back notifies nobody; `robust` keeps a notification failure from failing a committed change."""

from functools import partial

from django.db import transaction
from django.dispatch import receiver

from appointments.events import AppointmentChange
from appointments.signals import appointment_changed
from consultations.signals import consultation_saved
from notifications import services


@receiver(appointment_changed, dispatch_uid="notifications.appointment_changed")
def on_appointment_changed(sender: object, *, change: AppointmentChange, **kwargs: object) -> None:
    transaction.on_commit(partial(services.appointment_event_notify, change=change), robust=True)


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
