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
    # The same summary from an appointment list's `.values()` row: the columns it needs (lookups from
    # Appointment) and the reader of those columns.
    columns: tuple[str, ...] = ()
    read_columns: Callable[[dict[str, Any]], dict[str, Any] | None] = lambda row: None


_payment_reader: PaymentReader | None = None


def register_payment_reader(reader: PaymentReader) -> None:
    global _payment_reader
    _payment_reader = reader


def payment_related() -> list[str]:
    return [_payment_reader.related] if _payment_reader else []


def payment_columns() -> tuple[str, ...]:
    return _payment_reader.columns if _payment_reader else ()


def payment_of_row(row: dict[str, Any]) -> dict[str, Any]:
    """`payment_of` for a `.values()` row that holds `payment_columns()`."""
    summary = _payment_reader.read_columns(row) if _payment_reader else None
    return summary or NOT_REQUIRED


def payment_of(appointment: "Appointment") -> dict[str, Any]:
    """`{status, amount, currency, hold_expires_at}` of the appointment's payment, `not_required` when none."""
    summary = _payment_reader.read(appointment) if _payment_reader else None
    return summary or NOT_REQUIRED
