import pytest

from notifications.choices import Kind
from notifications.tests.factories import NotificationFactory, NotificationPreferenceFactory, WaitlistEntryFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client, staff):
    staff.is_superuser = True
    staff.save()
    client.force_login(staff)
    return client


def test_staff_searches_notifications_by_user_email(admin_client, patient, other_patient):
    NotificationFactory(user=patient, kind=Kind.REMINDER, title="Mine-title", message="m")
    NotificationFactory(user=other_patient, kind=Kind.REMINDER, title="Theirs-title", message="m")

    r = admin_client.get("/admin/notifications/notification/", {"q": patient.email})

    assert r.status_code == 200
    assert b"Mine-title" in r.content
    assert b"Theirs-title" not in r.content


def test_staff_filters_notifications_by_kind_and_read(admin_client, patient):
    NotificationFactory(user=patient, kind=Kind.REMINDER, title="Reminder-title", message="m")
    NotificationFactory(user=patient, kind=Kind.SLOT_OPENED, title="Slot-title", message="m", is_read=True)

    r = admin_client.get("/admin/notifications/notification/", {"kind__exact": Kind.SLOT_OPENED, "is_read__exact": 1})

    assert r.status_code == 200
    assert b"Slot-title" in r.content
    assert b"Reminder-title" not in r.content


def test_staff_opens_waitlist_and_preferences_admin(admin_client, patient, doctor):
    entry = WaitlistEntryFactory(patient=patient, doctor=doctor, start_date="2030-01-01", end_date="2030-01-02")
    NotificationPreferenceFactory(user=patient)

    assert admin_client.get("/admin/notifications/waitlistentry/").status_code == 200
    assert admin_client.get(f"/admin/notifications/waitlistentry/{entry.pk}/change/").status_code == 200
    assert admin_client.get("/admin/notifications/notificationpreference/").status_code == 200
    assert admin_client.get("/admin/notifications/remindersent/").status_code == 200
