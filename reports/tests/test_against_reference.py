"""The SQL figures against the straightforward computation (`reference.py`) on random, seeded clinics.

Each clinic has doctors in zones with different DST dates (Berlin, New York, Sydney, Kolkata, UTC) over a
period holding the spring changes of the northern zones and Sydney's autumn one, weekly rules across the
02:00-03:00 jump (some overlapping or touching), time off, appointments on rule and time off edges, across
bucket edges and the period's ends, overlapping ones (completed over booked), cancellations around 24 hours
before the start (none, one, two entries), and completed visits before and inside the period, so patients
are new or returning per doctor and for the clinic.
"""

import datetime as dt
import random
from zoneinfo import ZoneInfo

import pytest

from appointments.choices import ACTIVE_STATUSES, Status
from appointments.models import Appointment, AvailabilityRule, StatusChange, TimeOff
from reports import queries, selectors
from reports.selectors import Period, Scope
from reports.tests import reference
from users.tests.factories import DoctorFactory, PatientFactory

UTC = dt.UTC
ZONES = ("Europe/Berlin", "America/New_York", "Australia/Sydney", "Asia/Kolkata", "UTC")
# 2030: New York springs forward on 10 March, Berlin on 31 March, Sydney falls back on 7 April.
FIRST, LAST = dt.date(2030, 3, 4), dt.date(2030, 4, 14)


def _clinic(seed: int) -> dict:
    rnd = random.Random(seed)
    doctors = []
    for n, zone in enumerate(ZONES):
        specialty = "Cardiology" if n % 2 else "Dermatology"
        doctors.append(
            DoctorFactory(
                first_name=f"D{n}",
                last_name=rnd.choice(["Adler", "Brandt", "Cohen"]),
                doctor_profile__timezone=zone,
                doctor_profile__specialty__name=specialty,
            )
        )
    patients = [PatientFactory() for _ in range(12)]
    day = dt.timedelta(days=1)
    for doctor in doctors:
        zone = doctor.doctor_profile.zone
        # Sunday 01:00-05:00 crosses the spring-forward hour; the others are random, some overlap or touch.
        rules = [(6, dt.time(1), dt.time(5))]
        for weekday in rnd.sample(range(6), rnd.randint(2, 4)):  # one rule a day, Monday to Saturday
            start = rnd.choice([0, 2, 8, 9, 12, 14, 20])
            rules.append((weekday, dt.time(start), dt.time(min(start + rnd.randint(1, 8), 23), 59)))
        if rnd.random() < 0.5:  # touching rules: an appointment across 12:00 is in neither, yet available
            rules += [(5, dt.time(10), dt.time(12)), (5, dt.time(12), dt.time(14))] if rules[1][0] != 5 else []
        if rnd.random() < 0.3:  # overlapping rules on one weekday
            rules.append((rules[1][0], dt.time(rules[1][1].hour, 30), dt.time(23, 30)))
        for weekday, start_time, end_time in rules:
            AvailabilityRule.objects.create(doctor=doctor, weekday=weekday, start_time=start_time, end_time=end_time)
        time_off = []
        for _ in range(rnd.randint(1, 3)):
            local = dt.datetime.combine(FIRST + rnd.randint(-2, 42) * day, dt.time(rnd.choice([0, 9, 10, 13])))
            off_start = local.replace(tzinfo=zone).astimezone(UTC)
            off_end = off_start + dt.timedelta(hours=rnd.choice([1, 3, 30, 50]))
            TimeOff.objects.create(doctor=doctor, start=off_start, end=off_end)
            time_off.append((off_start, off_end))
        active: list[tuple] = []
        done: list[Appointment] = []
        for _ in range(rnd.randint(25, 45)):
            kind = rnd.random()
            if kind < 0.2 and time_off:  # around a time off's edges
                edge = rnd.choice(rnd.choice(time_off))
                start = edge + dt.timedelta(minutes=rnd.choice([-45, -30, -15, 0, 15]))
            else:  # on or around a rule's edges, on a local date of the period or just outside it
                weekday, start_time, end_time = rnd.choice(rules)
                date = FIRST + rnd.randint(-20, 44) * day
                date += ((weekday - date.weekday()) % 7) * day
                wall = rnd.choice([start_time, end_time, dt.time(start_time.hour, 30), dt.time(0), dt.time(2, 30)])
                start = dt.datetime.combine(date, wall).replace(tzinfo=zone).astimezone(UTC)
                start += dt.timedelta(minutes=rnd.choice([-30, -15, 0, 0, 0, 15, 45]))
            end = start + dt.timedelta(minutes=rnd.choice([15, 30, 30, 60, 90, 240]))
            status = rnd.choice([*Status.values, Status.COMPLETED, Status.COMPLETED])
            patient = rnd.choice(patients)
            if status in ACTIVE_STATUSES and any(
                (other_doctor == doctor or other_patient == patient) and a < end and start < b
                for other_doctor, other_patient, a, b in active
            ):
                status = Status.COMPLETED  # the database refuses overlapping active ones; completed may overlap
            booked = (Status.PENDING, Status.CONFIRMED, Status.COMPLETED, Status.NO_SHOW)
            if status in booked and any(b.doctor == doctor and b.start < end and start < b.end for b in done):
                # Overlapping booked time sends the doctor's booked minutes to exact arithmetic: keep it rare.
                status = Status.COMPLETED if rnd.random() < 0.1 else Status.CANCELLED
            if status in ACTIVE_STATUSES:
                active.append((doctor, patient, start, end))
            appointment = Appointment.objects.create(
                doctor=doctor, patient=patient, start=start, end=end, status=status
            )
            if status in booked:
                done.append(appointment)
            created = start - dt.timedelta(minutes=rnd.choice([30, 61, 1440, 4000, 20000]))
            Appointment.objects.filter(pk=appointment.pk).update(created_at=created)
            if status == Status.CANCELLED:
                for _ in range(rnd.choice([0, 1, 1, 2])):
                    ahead = dt.timedelta(minutes=rnd.choice([60, 1439, 1440, 1441, 4320]))
                    change = StatusChange.objects.create(
                        appointment=appointment, from_status=Status.CONFIRMED, to_status=Status.CANCELLED
                    )
                    StatusChange.objects.filter(pk=change.pk).update(at=start - ahead)
                if rnd.random() < 0.3:  # a later, unrelated entry must not matter
                    StatusChange.objects.create(
                        appointment=appointment, from_status=Status.PENDING, to_status=Status.CONFIRMED
                    )
    return {"doctors": doctors, "specialty": doctors[1].doctor_profile.specialty_id}


@pytest.mark.parametrize("seed", [1, 2, 3, 4])
def test_sql_figures_match_the_straightforward_computation(db, seed, monkeypatch):
    clinic = _clinic(seed)
    booked_rows = []
    real_booked = queries.booked

    def booked(*args: object) -> list[tuple]:
        rows = real_booked(*args)
        booked_rows.extend(rows)
        return rows

    monkeypatch.setattr(queries, "booked", booked)
    doctors = clinic["doctors"]
    # Havana springs forward at midnight (10 March 2030): that local date starts at 01:00.
    zones = ("UTC", "Europe/Berlin", "Australia/Sydney", "America/Havana")
    periods = [Period(FIRST, LAST, ZoneInfo(zone)) for zone in zones]
    periods.append(Period(dt.date(2030, 3, 31), dt.date(2030, 3, 31), ZoneInfo("Europe/Berlin")))  # 23 hours
    scopes = [Scope(), Scope(specialty_id=clinic["specialty"])] + [Scope(doctor_id=d.pk) for d in doctors]
    compared = 0
    for period in periods:
        for scope in scopes:
            assert selectors.summary(scope=scope, period=period) == reference.summary(scope=scope, period=period), (
                scope,
                period,
            )
            compared += 1
        for scope in (Scope(), Scope(specialty_id=clinic["specialty"])):
            got = selectors.per_doctor(scope=scope, period=period)
            assert got == reference.per_doctor(scope=scope, period=period), (scope, period)
            compared += len(got)
    for bucket in ("day", "week", "month"):
        for scope in (Scope(), Scope(specialty_id=clinic["specialty"]), Scope(doctor_id=doctors[0].pk)):
            for period in periods[:4]:
                got = selectors.timeseries(scope=scope, period=period, bucket=bucket)
                assert got == reference.timeseries(scope=scope, period=period, bucket=bucket), (scope, period, bucket)
                compared += len(got)
    # In each doctor's own zone, daily: the doctor's timeseries (the API's default zone for one doctor).
    for doctor in doctors:
        period = Period(FIRST, LAST, doctor.doctor_profile.zone)
        scope = Scope(doctor_id=doctor.pk)
        got = selectors.timeseries(scope=scope, period=period, bucket="day")
        assert got == reference.timeseries(scope=scope, period=period, bucket="day"), doctor.doctor_profile.timezone
        compared += len(got)
    # The comparison is not empty: the clinic has every kind of figure somewhere.
    total = reference.summary(scope=Scope(), period=periods[0])
    assert total["late_cancellations"]
    assert total["new_patients"]
    assert total["returning_patients"]
    assert 0 < total["booked_minutes"] < total["available_minutes"]
    assert compared > 300
    # Both ways of counting booked time were taken: sums of appointments inside, and exact arithmetic.
    assert {inside for _, inside, *_ in booked_rows} == {0, 1}
