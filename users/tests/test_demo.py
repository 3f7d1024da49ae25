import pytest
from django.core.management import call_command

from appointments.choices import Status
from appointments.models import Appointment
from users import demo
from users.choices import Role
from users.models import DoctorProfile, PatientProfile, Specialty, User

pytestmark = pytest.mark.django_db


def counts() -> tuple[int, ...]:
    return (
        User.objects.count(),
        Specialty.objects.count(),
        DoctorProfile.objects.count(),
        PatientProfile.objects.count(),
    )


def test_seed_twice_creates_no_duplicates_and_logins_work(api_client):
    logins = demo.seed()
    first = counts()
    again = demo.seed()

    assert again == logins
    assert counts() == first
    assert first == (1 + len(demo.DOCTORS) + len(demo.PATIENTS), len(demo.SPECIALTIES), 4, 4)
    assert {role for role, _, _ in logins} == {"staff", Role.DOCTOR, Role.PATIENT}
    for _, email, password in logins:
        assert api_client.post("/api/auth/login/", {"email": email, "password": password}).status_code == 200


def test_seed_makes_verified_doctors_in_several_time_zones_and_a_superuser():
    demo.seed()

    staff = User.objects.get(email=demo.STAFF_EMAIL)
    assert (staff.is_staff, staff.is_superuser, staff.role) == (True, True, "")
    profiles = DoctorProfile.objects.all()
    assert all(p.is_verified for p in profiles)
    assert {"Africa/Lagos", "Europe/London", "America/New_York"} <= {p.timezone for p in profiles}
    for profile in profiles:
        statuses = set(Appointment.objects.filter(doctor=profile.user).values_list("status", flat=True))
        assert statuses == set(Status.values), profile.timezone


def test_seed_demo_command_prints_logins(capsys):
    call_command("seed_demo")

    out = capsys.readouterr().out
    assert demo.STAFF_EMAIL in out
    assert demo.DEMO_PASSWORD in out
