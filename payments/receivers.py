"""Payments' reactions to appointment changes (appointments cannot call up into payments).

The hold is created inside the booking's transaction (a booking of a paid doctor and its hold exist together
or not at all); refunds are PayPal calls, so they run after the cancellation commits, as a task.
"""

from functools import partial

from django.db import transaction
from django.dispatch import receiver

from appointments import services as appointment_services
from appointments.choices import Status
from appointments.events import AppointmentChange
from appointments.events import AppointmentEventKind as Event
from appointments.models import Appointment
from appointments.signals import appointment_changed
from payments import services, tasks


@receiver(appointment_changed, dispatch_uid="payments.appointment_changed")
def on_appointment_changed(sender: object, *, change: AppointmentChange, **kwargs: object) -> None:
    snapshot = change.appointment
    if change.kind == Event.CREATED and change.actor_id == snapshot.patient_id:
        appointment = Appointment.objects.get(pk=snapshot.id)
        if appointment.status == Status.PENDING:
            services.payment_hold_create(appointment=appointment)
    elif change.kind == Event.CANCELLED and change.actor_id is not None:
        # Judged now, at the moment of the cancellation, not when the task runs.
        notice = appointment_services.notice_given(
            appointment=Appointment(doctor_id=snapshot.doctor_id, start=snapshot.start)
        )
        refund = partial(tasks.refund_cancelled.enqueue, snapshot.id, change.actor_id, notice)
        transaction.on_commit(refund, robust=True)
