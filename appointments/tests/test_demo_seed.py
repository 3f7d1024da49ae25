import pytest

from appointments import demo
from appointments.choices import Status
from appointments.models import Appointment
from users import demo as users_demo

pytestmark = pytest.mark.django_db


def test_seed_defaults_to_the_demo_accounts_in_their_order():
    seeded = users_demo.seed()

    demo.seed()

    for doctor in seeded.doctors:
        statuses = set(Appointment.objects.filter(doctor=doctor).values_list("status", flat=True))
        assert statuses == set(Status.values), doctor.email
    patients = set(Appointment.objects.values_list("patient_id", flat=True))
    assert patients <= {p.pk for p in seeded.patients}


def test_seed_without_demo_accounts_creates_nothing():
    demo.seed()

    assert not Appointment.objects.exists()
