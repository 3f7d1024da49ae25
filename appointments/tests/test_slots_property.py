"""Property: every slot the API lists can be booked, and no other start can, across zones, DST and slot sizes.

For each doctor set-up, the slots endpoint is read for a range around a DST change; then every five-minute
instant of that range is offered to the booking check (`check_slot`, the function POST /api/appointments/
uses): it must accept exactly the listed starts, each with `end = start + slot_minutes`. A sample of listed
slots is then booked over HTTP, and each booking removes exactly that slot from the listing.
"""

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

import pytest
import time_machine

from appointments import services
from appointments.choices import Status
from appointments.models import AvailabilityRule
from appointments.tests.factories import AppointmentFactory, TimeOffFactory
from cybermed.exceptions import SlotUnavailable
from users.tests.factories import DoctorFactory, PatientFactory

pytestmark = pytest.mark.django_db

STEP = dt.timedelta(minutes=5)


@dataclass(frozen=True)
class Setup:
    zone: str
    slot_minutes: int
    first: dt.date
    last: dt.date
    # (weekday, "HH:MM", "HH:MM")
    rules: tuple[tuple[int, str, str], ...]


SETUPS = [
    # New York springs forward on Sunday 2030-03-10 at 02:00 (the rule spans the gap).
    Setup(
        "America/New_York",
        20,
        dt.date(2030, 3, 8),
        dt.date(2030, 3, 11),
        ((6, "00:00", "05:00"), (4, "09:10", "12:00"), (0, "08:00", "09:00")),
    ),  # noqa: E501
    # London falls back on Sunday 2030-10-27 at 02:00 (01:00-02:00 happens twice).
    Setup(
        "Europe/London",
        45,
        dt.date(2030, 10, 25),
        dt.date(2030, 10, 28),
        ((6, "00:15", "04:00"), (5, "13:00", "17:30"), (0, "09:00", "10:30")),
    ),  # noqa: E501
    # Lord Howe moves by 30 minutes (springs forward at 02:00 on 2030-10-06).
    Setup(
        "Australia/Lord_Howe",
        45,
        dt.date(2030, 10, 5),
        dt.date(2030, 10, 7),
        ((6, "01:00", "04:30"), (5, "22:00", "23:55"), (0, "09:00", "12:00")),
    ),  # noqa: E501
    # A +05:45 zone with no DST, and adjacent rules on one day.
    Setup(
        "Asia/Kathmandu",
        20,
        dt.date(2030, 3, 9),
        dt.date(2030, 3, 11),
        ((6, "09:00", "10:00"), (6, "10:00", "11:10"), (0, "23:00", "23:59")),
    ),  # noqa: E501
]


def _as_utc(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).astimezone(dt.UTC)


@pytest.mark.parametrize("setup", SETUPS, ids=[s.zone for s in SETUPS])
def test_patient_listed_slots_are_exactly_the_bookable_starts(client_for, setup: Setup):
    doctor = DoctorFactory(doctor_profile__timezone=setup.zone, doctor_profile__slot_minutes=setup.slot_minutes)
    AvailabilityRule.objects.bulk_create(
        AvailabilityRule(
            doctor=doctor, weekday=day, start_time=dt.time.fromisoformat(a), end_time=dt.time.fromisoformat(b)
        )
        for day, a, b in setup.rules
    )
    zone = ZoneInfo(setup.zone)
    range_start = dt.datetime.combine(setup.first, dt.time(), tzinfo=zone).astimezone(dt.UTC)
    range_end = dt.datetime.combine(setup.last + dt.timedelta(days=1), dt.time(), tzinfo=zone).astimezone(dt.UTC)
    patient, other = PatientFactory(), PatientFactory()
    client = client_for(patient)
    url = f"/api/doctors/{doctor.pk}/slots/?start={setup.first}&end={setup.last}"
    length = dt.timedelta(minutes=setup.slot_minutes)

    with time_machine.travel(range_start - dt.timedelta(days=1), tick=False):
        before = [(_as_utc(row["start"]), _as_utc(row["end"])) for row in client.get(url).json()]
        assert len(before) > 6
        # Something busy inside the range: time off over one listed slot, someone else's booking over another.
        TimeOffFactory(doctor=doctor, start=before[1][0] + STEP, end=before[1][0] + 2 * STEP)
        AppointmentFactory(doctor=doctor, patient=other, start=before[3][0], end=before[3][1], status=Status.CONFIRMED)
        AppointmentFactory(doctor=doctor, patient=other, start=before[5][0], end=before[5][1], status=Status.CANCELLED)
        listed = {_as_utc(row["start"]): _as_utc(row["end"]) for row in client.get(url).json()}
        assert set(listed) == {start for start, _ in before} - {before[1][0], before[3][0]}

        for start, end in listed.items():
            assert end - start == length
            assert start.astimezone(zone).date() >= setup.first
            assert start.astimezone(zone).date() <= setup.last

        profile = doctor.doctor_profile
        instant = range_start
        while instant < range_end:
            try:
                end = services.check_slot(profile=profile, patient_id=patient.pk, start=instant)
            except SlotUnavailable:
                assert instant not in listed, f"listed but refused: {instant.astimezone(zone)}"
            else:
                assert instant in listed, f"bookable but not listed: {instant.astimezone(zone)}"
                assert end == listed[instant]
            instant += STEP

        for start in sorted(listed)[::4]:
            body = {"doctor": doctor.pk, "start": start.astimezone(zone).isoformat(), "reason_for_visit": "x"}
            booked = client_for(PatientFactory()).post("/api/appointments/", body)
            assert booked.status_code == 201, booked.content
            assert _as_utc(booked.json()["end"]) == start + length
            remaining = {_as_utc(row["start"]) for row in client.get(url).json()}
            assert start not in remaining
