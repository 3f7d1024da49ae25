from typing import Any

from appointments.models import Appointment
from cybermed.currencies import format_amount
from payments.models import Payment


def payment_summary(appointment: Appointment) -> dict[str, Any] | None:
    """The `payment` of the appointment representation; None (→ `not_required`) when no fee was due.

    Reads the reverse one-to-one that appointments.selectors.appointment_base() select_related()s, so a list
    costs no extra query per row."""
    try:
        payment: Payment = appointment.payment
    except Payment.DoesNotExist:
        return None
    return {
        "status": payment.status,
        "amount": format_amount(payment.amount, payment.currency),
        "currency": payment.currency,
        "hold_expires_at": payment.hold_expires_at.isoformat().replace("+00:00", "Z"),
    }


def payment_for_patient(*, appointment_id: int, patient_id: int) -> Payment | None:
    return (
        Payment.objects.select_related("appointment")
        .filter(appointment_id=appointment_id, appointment__patient_id=patient_id)
        .first()
    )
