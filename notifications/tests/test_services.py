import datetime as dt

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from cybermed.exceptions import CONSTRAINT_CONFLICTS, AlreadyExists, constraint_name
from notifications.models import NotificationPreference
from notifications.services import (
    notification_preference_get,
    notification_preference_update,
    waitlist_entry_create,
)
from notifications.tests.factories import WaitlistEntryFactory
from users.tests.factories import DoctorFactory

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


# 23:30 UTC on 1 January: already 2 January at UTC+14.
LATE_EVENING_UTC = dt.datetime(2030, 1, 1, 23, 30, tzinfo=dt.UTC)
NEW_YEAR = dt.date(2030, 1, 1)


@time_machine.travel(LATE_EVENING_UTC, tick=False)
@pytest.mark.parametrize(
    ("start", "end", "errors"),
    [
        (NEW_YEAR, NEW_YEAR - dt.timedelta(days=1), {"end_date": ["Must be on or after start_date."]}),
        (NEW_YEAR, NEW_YEAR + dt.timedelta(days=63), {"end_date": ["At most 62 days after start_date."]}),
        (
            NEW_YEAR - dt.timedelta(days=1),
            NEW_YEAR,
            {"start_date": ["Must not be in the past (doctor's local date)."]},
        ),
    ],
)
def test_waitlist_entry_create_rejects_bad_window(patient, start, end, errors):
    doctor = DoctorFactory(doctor_profile__timezone="UTC")

    with pytest.raises(ValidationError) as caught:
        waitlist_entry_create(patient=patient, doctor=doctor, start_date=start, end_date=end)

    assert caught.value.message_dict == errors


@time_machine.travel(LATE_EVENING_UTC, tick=False)
def test_waitlist_entry_create_measures_the_past_in_the_doctors_local_date(patient):
    utc_doctor = DoctorFactory(doctor_profile__timezone="UTC")
    kiritimati_doctor = DoctorFactory(doctor_profile__timezone="Pacific/Kiritimati")

    assert waitlist_entry_create(patient=patient, doctor=utc_doctor, start_date=NEW_YEAR, end_date=NEW_YEAR)
    with pytest.raises(ValidationError) as caught:
        waitlist_entry_create(patient=patient, doctor=kiritimati_doctor, start_date=NEW_YEAR, end_date=NEW_YEAR)
    assert list(caught.value.message_dict) == ["start_date"]


@time_machine.travel(LATE_EVENING_UTC, tick=False)
def test_waitlist_entry_create_allows_exactly_62_days(patient, doctor):
    end = NEW_YEAR + dt.timedelta(days=62)

    entry = waitlist_entry_create(patient=patient, doctor=doctor, start_date=NEW_YEAR, end_date=end)

    assert (entry.start_date, entry.end_date) == (NEW_YEAR, end)
