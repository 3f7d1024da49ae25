import datetime as dt
from decimal import Decimal
from typing import Any

from appointments.models import Appointment
from cybermed.currencies import format_amount
from payments.models import Payment

# The appointment list's `.values()` columns of the summary (lookups from Appointment).
SUMMARY_COLUMNS = ("payment__status", "payment__amount", "payment__currency", "payment__hold_expires_at")


def _summary(status: str, amount: Decimal, currency: str, hold_expires_at: dt.datetime) -> dict[str, Any]:
    return {
        "status": status,
        "amount": format_amount(amount, currency),
        "currency": currency,
        "hold_expires_at": hold_expires_at.isoformat().replace("+00:00", "Z"),
    }


def payment_summary_of_row(row: dict[str, Any]) -> dict[str, Any] | None:
    """`payment_summary` from an appointment list row holding SUMMARY_COLUMNS (no payment: all None)."""
    if row["payment__status"] is None:
        return None
    return _summary(*(row[column] for column in SUMMARY_COLUMNS))


def payment_summary(appointment: Appointment) -> dict[str, Any] | None:
    """The `payment` of the appointment representation; None (→ `not_required`) when no fee was due.

    Reads the reverse one-to-one that appointments.selectors.appointment_base() select_related()s, so a list
    costs no extra query per row."""
    try:
        payment: Payment = appointment.payment
    except Payment.DoesNotExist:
        return None
    return _summary(payment.status, payment.amount, payment.currency, payment.hold_expires_at)


def payment_for_patient(*, appointment_id: int, patient_id: int) -> Payment | None:
    return (
        Payment.objects.select_related("appointment")
        .filter(appointment_id=appointment_id, appointment__patient_id=patient_id)
        .first()
    )
