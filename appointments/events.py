"""The typed contract of `appointment_changed`: what happened (AppointmentEventKind) and one frozen payload.

The payload is a snapshot taken when the service sends the signal, inside its transaction: receivers run
after commit, when the appointment row may already have moved on, so they must never read it back.
"""

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from appointments.models import Appointment
    from users.models import User


class AppointmentEventKind(StrEnum):
    CREATED = "created"
    CONFIRMED = "confirmed"
    CANCELLED = "cancelled"
    RESCHEDULED = "rescheduled"
    REFERRED = "referred"
    COMPLETED = "completed"
    NO_SHOW = "no_show"

    @property
    def may_free_time(self) -> bool:
        """Whether the appointment may no longer hold the time it held before a change of this kind."""
        return self in (AppointmentEventKind.CANCELLED, AppointmentEventKind.RESCHEDULED, AppointmentEventKind.REFERRED)


@dataclass(frozen=True)
class AppointmentSnapshot:
    id: int
    doctor_id: int
    patient_id: int
    start: dt.datetime
    end: dt.datetime
    location: str

    @classmethod
    def of(cls, appointment: "Appointment") -> "AppointmentSnapshot":
        return cls(
            id=appointment.pk,
            doctor_id=appointment.doctor_id,
            patient_id=appointment.patient_id,
            start=appointment.start,
            end=appointment.end,
            location=appointment.location,
        )


@dataclass(frozen=True)
class AppointmentChange:
    """One change of one appointment, sent once as `appointment_changed.send(sender=Appointment, change=...)`.

    - `appointment`: the appointment after the change;
    - `actor_id`: who made it (None for system changes);
    - `previous_status`: the status before it (None for CREATED);
    - `previous_start` / `previous_end`: the time it held before (the freed time for the kinds that
      `may_free_time`; None for CREATED);
    - `referral`: the new appointment a REFERRED change created (None otherwise). A referral is one REFERRED
      change of the original appointment, not also a CREATED one for the new appointment.
    """

    kind: AppointmentEventKind
    appointment: AppointmentSnapshot
    actor_id: int | None = None
    previous_status: str | None = None
    previous_start: dt.datetime | None = None
    previous_end: dt.datetime | None = None
    referral: AppointmentSnapshot | None = None

    @classmethod
    def of(
        cls,
        kind: AppointmentEventKind,
        appointment: "Appointment",
        *,
        actor: "User | None",
        previous_status: str | None = None,
        previous_start: dt.datetime | None = None,
        previous_end: dt.datetime | None = None,
        referral: "Appointment | None" = None,
    ) -> "AppointmentChange":
        return cls(
            kind=AppointmentEventKind(kind),
            appointment=AppointmentSnapshot.of(appointment),
            actor_id=actor.pk if actor is not None else None,
            previous_status=previous_status,
            previous_start=previous_start,
            previous_end=previous_end,
            referral=AppointmentSnapshot.of(referral) if referral is not None else None,
        )
