import pytest

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
    seeded = demo.seed()
    first = counts()
    again = demo.seed()

    assert again == seeded
    assert counts() == first
    assert first == (1 + len(demo.DOCTORS) + len(demo.PATIENTS), len(demo.SPECIALTIES), 4, 4)
    assert {role for role, _, _ in seeded.logins} == {"staff", Role.DOCTOR, Role.PATIENT}
    for _, email, password in seeded.logins:
        assert api_client.post("/api/auth/login/", {"email": email, "password": password}).status_code == 200


def test_seed_returns_the_demo_doctors_and_patients_in_order():
    seeded = demo.seed()

    assert [u.email for u in seeded.doctors] == [row[0] for row in demo.DOCTORS]
    assert [u.email for u in seeded.patients] == [row[0] for row in demo.PATIENTS]
    assert demo.demo_doctors() == seeded.doctors
    assert demo.demo_patients() == seeded.patients


def test_seed_makes_verified_doctors_in_several_time_zones_and_a_superuser():
    demo.seed()

    staff = User.objects.get(email=demo.STAFF_EMAIL)
    assert (staff.is_staff, staff.is_superuser, staff.role) == (True, True, "")
    profiles = DoctorProfile.objects.all()
    assert all(p.is_verified for p in profiles)
    assert {"Africa/Lagos", "Europe/London", "America/New_York"} <= {p.timezone for p in profiles}
