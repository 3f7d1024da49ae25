"""Extension points for the apps above appointments, which appointments itself must never import.

The appointment representation carries `payment`; the payments app owns it. It registers here (in its
AppConfig.ready) a reader and the reverse relation to fetch with the appointment, so that lists stay one
query however many rows they have. Without payments installed every appointment reads `not_required`.
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from appointments.models import Appointment

NOT_REQUIRED: dict[str, Any] = {"status": "not_required", "amount": None, "currency": None, "hold_expires_at": None}


@dataclass(frozen=True)
class PaymentReader:
    read: Callable[["Appointment"], dict[str, Any] | None]
    related: str  # the reverse one-to-one name on Appointment, for select_related


_payment_reader: PaymentReader | None = None


def register_payment_reader(reader: PaymentReader) -> None:
    global _payment_reader
    _payment_reader = reader


def payment_related() -> list[str]:
    return [_payment_reader.related] if _payment_reader else []


def payment_of(appointment: "Appointment") -> dict[str, Any]:
    """`{status, amount, currency, hold_expires_at}` of the appointment's payment, `not_required` when none."""
    summary = _payment_reader.read(appointment) if _payment_reader else None
    return summary or NOT_REQUIRED
