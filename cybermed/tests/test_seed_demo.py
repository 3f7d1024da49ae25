import pytest
from django.core.management import call_command

from appointments.choices import Status
from appointments.models import Appointment, AvailabilityRule
from users import demo as users_demo
from users.models import DoctorProfile, User

pytestmark = pytest.mark.django_db


def test_seed_demo_seeds_every_app_and_prints_the_logins(capsys):
    call_command("seed_demo")

    lines = capsys.readouterr().out.splitlines()
    logins = users_demo.seed().logins
    assert lines == [
        "Demo data ready. Logins (all share one password):",
        *(f"  {role:<8} {email:<32} {password}" for role, email, password in logins),
    ]
    assert f"  staff    {users_demo.STAFF_EMAIL:<32} {users_demo.DEMO_PASSWORD}" in lines
    for profile in DoctorProfile.objects.all():
        statuses = set(Appointment.objects.filter(doctor=profile.user).values_list("status", flat=True))
        assert statuses == set(Status.values), profile.timezone


def test_seed_demo_twice_is_idempotent(capsys):
    call_command("seed_demo")
    counts = (User.objects.count(), AvailabilityRule.objects.count(), Appointment.objects.count())

    call_command("seed_demo")

    assert (User.objects.count(), AvailabilityRule.objects.count(), Appointment.objects.count()) == counts
