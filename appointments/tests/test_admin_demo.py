import datetime as dt

import pytest
from django.urls import reverse

from appointments.choices import Status
from appointments.demo import seed_scheduling
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


def test_seed_scheduling_covers_every_status_and_is_idempotent():
    doctors = [DoctorFactory() for _ in range(3)]
    patients = [PatientFactory() for _ in range(4)]
    seed_scheduling(doctors=doctors, patients=patients)
    counts = (AvailabilityRule.objects.count(), Appointment.objects.count(), StatusChange.objects.count())
    assert counts[0] == 3 * 10
    assert set(Appointment.objects.values_list("status", flat=True)) == set(Status.values)
    now = dt.datetime.now(dt.UTC)
    for appointment in Appointment.objects.filter(status__in=[Status.COMPLETED, Status.NO_SHOW]):
        assert appointment.start < now
    for appointment in Appointment.objects.filter(status__in=[Status.PENDING, Status.CONFIRMED]):
        assert appointment.start > now
    seed_scheduling(doctors=doctors, patients=patients)
    assert (AvailabilityRule.objects.count(), Appointment.objects.count(), StatusChange.objects.count()) == counts
