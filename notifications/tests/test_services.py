import datetime as dt

import pytest
from django.db import IntegrityError, transaction

from cybermed.exceptions import CONSTRAINT_CONFLICTS, AlreadyExists, constraint_name
from notifications.models import NotificationPreference
from notifications.services import (
    notification_preference_get,
    notification_preference_update,
    waitlist_entry_create,
)
from notifications.tests.factories import WaitlistEntryFactory

pytestmark = pytest.mark.django_db


def test_preferences_are_created_on_demand_with_everything_on(patient):
    preference = notification_preference_get(user=patient)

    assert (preference.email_enabled, preference.reminders_enabled) == (True, True)
    assert notification_preference_get(user=patient).pk == preference.pk
    assert NotificationPreference.objects.count() == 1


def test_preference_update_changes_only_given_fields(patient):
    notification_preference_update(user=patient, reminders_enabled=False)
    preference = notification_preference_update(user=patient, email_enabled=False)

    assert (preference.email_enabled, preference.reminders_enabled) == (False, False)


def test_patient_joining_same_waitlist_twice_raises_already_exists(patient, doctor):
    day = dt.date(2030, 1, 1)
    waitlist_entry_create(patient=patient, doctor=doctor, start_date=day, end_date=day)

    with pytest.raises(AlreadyExists):
        waitlist_entry_create(patient=patient, doctor=doctor, start_date=day, end_date=day)


def test_duplicate_waitlist_row_from_a_race_is_registered_as_already_exists(patient, doctor):
    day = dt.date(2030, 1, 1)
    WaitlistEntryFactory(patient=patient, doctor=doctor, start_date=day, end_date=day)

    with pytest.raises(IntegrityError) as caught, transaction.atomic():
        WaitlistEntryFactory(patient=patient, doctor=doctor, start_date=day, end_date=day)
    assert constraint_name(caught.value) == "waitlist_patient_doctor_range_uniq"
    assert CONSTRAINT_CONFLICTS["waitlist_patient_doctor_range_uniq"] is AlreadyExists


def test_database_rejects_waitlist_ending_before_it_starts(patient, doctor):
    with pytest.raises(IntegrityError), transaction.atomic():
        WaitlistEntryFactory(
            patient=patient, doctor=doctor, start_date=dt.date(2030, 1, 2), end_date=dt.date(2030, 1, 1)
        )
