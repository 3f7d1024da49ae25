import datetime as dt
import itertools

import pytest
import time_machine
from django.urls import reverse

from appointments import availability, selectors, services
from appointments.choices import Status
from appointments.demo import DEMO_PREFIX, seed_scheduling
from appointments.models import Appointment, AvailabilityRule, StatusChange
from appointments.tests.factories import AppointmentFactory, AvailabilityRuleFactory, TimeOffFactory
from users.tests.factories import DoctorFactory, PatientFactory, StaffFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client_logged_in(client):
    client.force_login(StaffFactory(is_superuser=True))
    return client


def test_admin_changelists_render(admin_client_logged_in):
    appointment = AppointmentFactory()
    AvailabilityRuleFactory()
    TimeOffFactory()
    for name in ("appointment", "availabilityrule", "timeoff"):
        r = admin_client_logged_in.get(reverse(f"admin:appointments_{name}_changelist"))
        assert r.status_code == 200
    r = admin_client_logged_in.get(
        reverse("admin:appointments_appointment_changelist"), {"q": appointment.patient.email, "status": "pending"}
    )
    assert appointment.patient.email in r.content.decode()
    r = admin_client_logged_in.get(reverse("admin:appointments_appointment_change", args=[appointment.pk]))
    assert r.status_code == 200


def test_admin_cancel_action_goes_through_the_service(admin_client_logged_in):
    active = AppointmentFactory(status=Status.CONFIRMED)
    done = AppointmentFactory(status=Status.COMPLETED)
    r = admin_client_logged_in.post(
        reverse("admin:appointments_appointment_changelist"),
        {
            "action": "cancel_selected",
            "_selected_action": [active.pk, done.pk],
            "apply": "1",
            "reason": "Cancelled by staff",
        },
        follow=True,
    )
    assert r.status_code == 200
    active.refresh_from_db()
    done.refresh_from_db()
    assert (active.status, done.status) == (Status.CANCELLED, Status.COMPLETED)
    change = StatusChange.objects.get(appointment=active)
    assert (change.from_status, change.to_status, change.reason) == ("confirmed", "cancelled", "Cancelled by staff")


DEMO_ZONES = ("Africa/Lagos", "Europe/London", "America/New_York", "Asia/Tokyo")
# Every weekday, both sides of midnight UTC (a different local date in Tokyo and New York), the European and
# US daylight-saving changes, a year end and a leap day.
SEED_CLOCKS = (
    "2026-11-30T10:00:00+00:00",  # Monday
    "2026-12-01T23:55:00+00:00",  # Tuesday, just before midnight UTC (Wednesday morning in Tokyo)
    "2026-12-02T00:05:00+00:00",  # Wednesday, just after midnight UTC (still Tuesday in New York)
    "2026-12-03T16:59:00+00:00",  # Thursday, as London's last slot starts
    "2026-12-04T21:00:00+00:00",  # Friday evening (Saturday in Tokyo)
    "2026-12-05T12:00:00+00:00",  # Saturday
    "2026-12-06T04:00:00+00:00",  # Sunday (Saturday night in New York)
    "2027-03-14T06:30:00+00:00",  # US spring forward
    "2027-03-28T00:30:00+00:00",  # European spring forward
    "2027-10-31T00:30:00+00:00",  # European fall back
    "2027-11-07T05:30:00+00:00",  # US fall back
    "2026-12-31T23:50:00+00:00",  # year end
    "2028-02-29T12:00:00+00:00",  # leap day
)


def _demo_doctors() -> list:
    # One doctor per demo time zone, plus a fifth who wishes for the following week.
    return [DoctorFactory(doctor_profile__timezone=zone) for zone in (*DEMO_ZONES, "Africa/Lagos")]


def _assert_overlap_free(appointments) -> None:
    for key in ("doctor_id", "patient_id"):
        by_person: dict[int, list] = {}
        for appointment in appointments:
            by_person.setdefault(getattr(appointment, key), []).append(appointment)
        for own in by_person.values():
            own.sort(key=lambda a: a.start)
            assert all(a.end <= b.start for a, b in itertools.pairwise(own)), own


def _assert_demo_is_sound(doctors, now: dt.datetime) -> None:
    _assert_overlap_free(list(Appointment.objects.all()))
    appointments = list(
        Appointment.objects.filter(reason_for_visit__startswith=DEMO_PREFIX).select_related("doctor__doctor_profile")
    )
    for doctor in doctors:
        assert {a.status for a in appointments if a.doctor_id == doctor.pk} == set(Status.values), doctor
    for appointment in appointments:
        profile = appointment.doctor.doctor_profile
        if appointment.status in (Status.COMPLETED, Status.NO_SHOW):
            assert appointment.end <= now
            day = appointment.start.astimezone(profile.zone).date()
            rules = selectors.weekly_rules(doctor_id=profile.user_id)
            grid = availability.grid_slots(rules, profile.zone, profile.slot_minutes, day, day)
            assert (appointment.start, appointment.end) in grid
        else:
            # On a slot the API offers and would accept now (ignoring the appointment itself).
            assert appointment.start > now
            end = services.check_slot(
                profile=profile,
                patient_id=appointment.patient_id,
                start=appointment.start,
                exclude_appointment_id=appointment.pk,
                now=now,
            )
            assert end == appointment.end


def _counts() -> tuple[int, int, int]:
    return AvailabilityRule.objects.count(), Appointment.objects.count(), StatusChange.objects.count()


@pytest.mark.parametrize("when", SEED_CLOCKS)
def test_seed_scheduling_covers_every_status_and_is_idempotent(when):
    now = dt.datetime.fromisoformat(when)
    with time_machine.travel(now, tick=False):
        doctors = _demo_doctors()
        patients = [PatientFactory() for _ in range(4)]
        seed_scheduling(doctors=doctors, patients=patients)
        counts = _counts()
        assert counts[:2] == (len(doctors) * 10, len(doctors) * len(Status.values))
        _assert_demo_is_sound(doctors, now)
        seed_scheduling(doctors=doctors, patients=patients)
        assert _counts() == counts


def test_seed_scheduling_moves_past_collisions_to_other_free_slots():
    now = dt.datetime(2026, 12, 1, 10, tzinfo=dt.UTC)
    with time_machine.travel(now, tick=False):
        doctor = DoctorFactory(doctor_profile__timezone="Europe/London")
        patients = [PatientFactory() for _ in range(2)]
        # The doctor is away for the next week and already saw other patients every weekday last week, and the
        # first patient is busy every morning at the doctor's wished hour.
        TimeOffFactory(doctor=doctor, start=now, end=now + dt.timedelta(days=7))
        for days in range(-7, 14):
            morning = dt.datetime.combine(now.date() + dt.timedelta(days=days), dt.time(9), tzinfo=dt.UTC)
            AppointmentFactory(patient=patients[0], start=morning, end=morning + dt.timedelta(minutes=30))
            if days < 0:
                AppointmentFactory(
                    doctor=doctor, start=morning, end=morning + dt.timedelta(hours=8), status="completed"
                )
        seed_scheduling(doctors=[doctor], patients=patients)
        demo = Appointment.objects.filter(doctor=doctor, reason_for_visit__startswith=DEMO_PREFIX)
        assert demo.count() == len(Status.values)
        assert all(a.start >= now + dt.timedelta(days=7) for a in demo if a.start > now)
        _assert_demo_is_sound([doctor], now)
