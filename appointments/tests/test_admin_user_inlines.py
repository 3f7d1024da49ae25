import pytest
from django.contrib import admin

from appointments.admin import AvailabilityRuleInline, TimeOffInline
from users.admin import DoctorProfileInline
from users.models import User
from users.tests.factories import DoctorFactory, PatientFactory


@pytest.mark.django_db
def test_doctor_page_in_user_admin_shows_availability_and_time_off(admin_client, rf):
    doctor = DoctorFactory()

    inlines = admin.site._registry[User].get_inlines(rf.get("/"), doctor)
    page = admin_client.get(f"/admin/users/user/{doctor.pk}/change/")

    assert inlines[:3] == [DoctorProfileInline, AvailabilityRuleInline, TimeOffInline]
    assert AvailabilityRuleInline not in admin.site._registry[User].get_inlines(rf.get("/"), PatientFactory())
    assert page.status_code == 200
    assert b"availability_rules" in page.content
    assert b"time_off" in page.content
