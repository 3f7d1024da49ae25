"""seed_bench: the benchmark data loader (COPY on PostgreSQL, bulk_create elsewhere)."""

import datetime as dt
from collections import defaultdict

import pytest
from django.core.management import CommandError, call_command
from django.db.models import Count

from appointments.choices import ACTIVE_STATUSES, Status
from appointments.models import Appointment, AvailabilityRule, StatusChange, TimeOff
from bench.management.commands.seed_bench import Command as SeedBench
from users.models import DoctorProfile, PatientProfile, User

pytestmark = pytest.mark.django_db


def seed(**options: object) -> None:
    # An instance, not the name: the bench app is installed by bench.settings only, not by the suite's settings.
    call_command(SeedBench(), doctors=6, patients=40, appointments=300, seed=7, verbosity=0, **options)


def assert_no_active_overlap(key: str) -> None:
    by_owner: dict[int, list[tuple[dt.datetime, dt.datetime]]] = defaultdict(list)
    for owner, start, end in Appointment.objects.filter(status__in=ACTIVE_STATUSES).values_list(key, "start", "end"):
        by_owner[owner].append((start, end))
    for intervals in by_owner.values():
        intervals.sort()
        for (_, end), (next_start, _) in zip(intervals, intervals[1:], strict=False):
            assert end <= next_start


def test_seed_bench_creates_the_requested_rows() -> None:
    seed()

    assert User.objects.filter(role="doctor").count() == DoctorProfile.objects.count() == 6
    assert User.objects.filter(role="patient").count() == PatientProfile.objects.count() == 40
    assert Appointment.objects.count() == 300
    assert AvailabilityRule.objects.filter(weekday__gte=5).count() == 0
    assert AvailabilityRule.objects.values("doctor").distinct().count() == 6
    assert TimeOff.objects.exists()
    assert set(Appointment.objects.values_list("status", flat=True)) == set(Status.values)
    # Every appointment has its creation row, and one more row per later status change.
    assert StatusChange.objects.filter(from_status="").count() == 300
    assert StatusChange.objects.count() > 300


def test_seed_bench_active_appointments_never_overlap_and_sit_on_the_grid() -> None:
    seed()

    assert_no_active_overlap("doctor")
    assert_no_active_overlap("patient")
    assert not Appointment.objects.filter(doctor__in=Appointment.objects.values("patient")).exists()
    profiles = {p.user_id: p for p in DoctorProfile.objects.all()}
    for appt in Appointment.objects.all():
        profile = profiles[appt.doctor_id]
        local_start, local_end = appt.start.astimezone(profile.zone), appt.end.astimezone(profile.zone)
        assert appt.end - appt.start == dt.timedelta(minutes=profile.slot_minutes)
        assert local_start.weekday() < 5
        assert dt.time(9) <= local_start.time()
        assert local_end.time() <= dt.time(17)
        assert local_start.minute % profile.slot_minutes == 0
        assert not TimeOff.objects.filter(doctor_id=appt.doctor_id, start__lt=appt.end, end__gt=appt.start).exists()


def test_seed_bench_users_share_one_usable_password() -> None:
    seed()

    users = list(User.objects.all())
    assert len({u.password for u in users}) == 1
    assert users[0].check_password("bench-Passw0rd!")
    assert all(u.is_active for u in users)


def test_seed_bench_refuses_to_seed_twice_without_clear_and_replaces_with_clear() -> None:
    seed()
    with pytest.raises(CommandError):
        seed()

    seed(clear=True)

    assert User.objects.count() == 46
    assert Appointment.objects.count() == 300


@pytest.mark.parametrize("role", ["doctor", "patient"])
def test_bench_floor_returns_the_same_page_as_the_api(settings, client_for, client, role: str) -> None:
    """The floor (bench/floor.py) is only a fair yardstick if it serves exactly the API's page."""
    settings.ROOT_URLCONF = "bench.urls"
    seed()
    busiest = Appointment.objects.values(role).annotate(n=Count("id")).order_by("-n", role).first()[role]
    user = User.objects.get(pk=busiest)

    api = client_for(user).get("/api/appointments/?page_size=20").json()
    floor = client.get(f"/bench/floor/appointments/?user={user.pk}&role={role}&page_size=20").json()

    assert floor["count"] == api["count"] > 0
    assert len(floor["results"]) == len(api["results"]) > 0
    for ours, theirs in zip(floor["results"], api["results"], strict=True):
        assert ours.keys() == theirs.keys()
        assert ours["id"] == theirs["id"]
        assert ours["doctor"] == theirs["doctor"]
        assert ours["patient"] == theirs["patient"]
        for key in ("start", "end", "created_at", "updated_at"):
            # JsonResponse renders milliseconds, DRF microseconds: the same instant to the millisecond.
            delta = dt.datetime.fromisoformat(ours[key]) - dt.datetime.fromisoformat(theirs[key])
            assert abs(delta) < dt.timedelta(milliseconds=1)
        for key in ("reason_for_visit", "status", "location", "cancellation_reason", "referred_to", "created_by"):
            assert ours[key] == theirs[key]


def test_bench_floor_rejects_a_missing_role(settings, client) -> None:
    settings.ROOT_URLCONF = "bench.urls"

    assert client.get("/bench/floor/appointments/?user=1").status_code == 400


def test_seed_bench_is_a_command_of_the_bench_settings_only() -> None:
    from django.conf import settings

    import bench.settings

    assert "bench" in bench.settings.INSTALLED_APPS
    assert "bench" not in settings.INSTALLED_APPS
