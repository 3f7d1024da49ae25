"""A clinic week with figures computed by hand (see test_selectors.py for the arithmetic).

Doctor A works in Europe/Berlin: Monday 09:00-12:00 and Sunday 01:00-05:00 local. The week of
Monday 2030-03-25 ends on Sunday 2030-03-31, the day clocks jump from 02:00 to 03:00, so that Sunday
rule covers 3 hours, not 4. Time off on Monday 10:00-11:00 local. Doctor B works in UTC, Tuesday
09:00-17:00, and receives A's referral.
"""

import datetime as dt
from dataclasses import dataclass

import pytest
import time_machine
from django.db import connection

from appointments.choices import Status
from appointments.models import Appointment, AvailabilityRule, StatusChange, TimeOff
from appointments.tests.factories import AppointmentFactory
from users.models import User
from users.tests.factories import DoctorFactory, PatientFactory

UTC = dt.UTC


def settings_queries() -> int:
    """Statements a report adds on PostgreSQL to set its planner settings and put them back (queries.session)."""
    return 2 if connection.vendor == "postgresql" else 0


FROZEN = dt.datetime(2030, 3, 25, 7, 30, tzinfo=UTC)  # Monday 08:30 in Berlin


def utc(month: int, day: int, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime(2030, month, day, hour, minute, tzinfo=UTC)


def make(
    doctor: User,
    patient: User,
    start: dt.datetime,
    status: str,
    *,
    created: dt.datetime,
    cancelled_at: dt.datetime | None = None,
    updated: dt.datetime | None = None,
    **extra: object,
) -> Appointment:
    appt = AppointmentFactory(
        doctor=doctor, patient=patient, start=start, end=start + dt.timedelta(minutes=30), status=status, **extra
    )
    fields = {"created_at": created}
    if updated is not None:
        fields["updated_at"] = updated
    Appointment.objects.filter(pk=appt.pk).update(**fields)
    if cancelled_at is not None:
        change = StatusChange.objects.create(
            appointment=appt, from_status=Status.CONFIRMED, to_status=Status.CANCELLED, by=patient
        )
        StatusChange.objects.filter(pk=change.pk).update(at=cancelled_at)
    return appt


@dataclass
class Clinic:
    a: User
    b: User
    patients: dict[str, User]
    appointments: dict[str, Appointment]


@pytest.fixture
def frozen():
    with time_machine.travel(FROZEN, tick=False):
        yield FROZEN


@pytest.fixture
def clinic(db) -> Clinic:
    a = DoctorFactory(first_name="Anna", last_name="Adler", doctor_profile__timezone="Europe/Berlin")
    b = DoctorFactory(first_name="Ben", last_name="Brandt", doctor_profile__specialty__name="Cardiology")
    AvailabilityRule.objects.create(doctor=a, weekday=0, start_time=dt.time(9), end_time=dt.time(12))
    AvailabilityRule.objects.create(doctor=a, weekday=6, start_time=dt.time(1), end_time=dt.time(5))
    AvailabilityRule.objects.create(doctor=b, weekday=1, start_time=dt.time(9), end_time=dt.time(17))
    TimeOff.objects.create(doctor=a, start=utc(3, 25, 9), end=utc(3, 25, 10), reason="Training")
    p = {name: PatientFactory(first_name=name) for name in ("P1", "P2", "P3", "P4", "P5", "P6", "P7")}
    ap = {}
    # P1's earlier visit with A: it makes P1 a returning patient (of A, and of the clinic).
    ap["earlier"] = make(a, p["P1"], utc(3, 18, 8), Status.COMPLETED, created=utc(3, 10, 8))
    ap["a1"] = make(a, p["P1"], utc(3, 25, 8), Status.COMPLETED, created=utc(3, 20, 8))  # lead 120 h
    ap["a7"] = make(a, p["P2"], utc(3, 25, 8, 30), Status.PENDING, created=utc(3, 24, 8, 30))  # 24 h
    ap["a8"] = make(a, p["P7"], utc(3, 25, 9), Status.COMPLETED, created=utc(3, 25, 8))  # 1 h, in time off
    ap["a2"] = make(a, p["P2"], utc(3, 25, 10), Status.NO_SHOW, created=utc(3, 24, 10))  # 24 h
    ap["a3"] = make(a, p["P3"], utc(3, 31, 0), Status.COMPLETED, created=utc(3, 30, 0))  # 24 h
    # Cancelled 13 h before its start: late.
    ap["a4"] = make(
        a, p["P4"], utc(3, 31, 1), Status.CANCELLED, created=utc(3, 29, 1), cancelled_at=utc(3, 30, 12)
    )  # 48 h
    # Cancelled 4 days ahead; its updated_at (1 h before the start) must not make it late.
    ap["a5"] = make(
        a,
        p["P5"],
        utc(3, 31, 2),
        Status.CANCELLED,
        created=utc(3, 26, 2),
        cancelled_at=utc(3, 27, 2),
        updated=utc(3, 31, 1),
    )  # 120 h
    ap["a6"] = make(a, p["P6"], utc(3, 31, 2, 30), Status.REFERRED, created=utc(3, 28, 2, 30))  # 72 h
    ap["b1"] = make(b, p["P6"], utc(3, 26, 10), Status.PENDING, created=utc(3, 25, 10), referred_from=ap["a6"])  # 24 h
    ap["b2"] = make(b, p["P1"], utc(3, 26, 11), Status.COMPLETED, created=utc(3, 20, 11))  # 144 h
    # 00:30 on Monday 1 April in Berlin, still 31 March in UTC.
    ap["a9"] = make(a, p["P3"], utc(3, 31, 22, 30), Status.CONFIRMED, created=utc(3, 20, 22, 30))
    return Clinic(a=a, b=b, patients=p, appointments=ap)
