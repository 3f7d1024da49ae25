import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from appointments import selectors
from appointments.choices import Status
from appointments.tests.factories import AppointmentFactory, TimeOffFactory, next_slot
from users.tests.factories import DoctorFactory, PatientFactory


@pytest.mark.django_db
@pytest.mark.parametrize("role", ["doctor", "patient"])
def test_participant_list_filters_on_one_indexed_column(role, doctor, patient, other_patient):
    """An OR over doctor and patient defeats the (doctor, start)/(patient, start) indexes at scale."""
    mine = AppointmentFactory(doctor=doctor, patient=patient)
    theirs = AppointmentFactory(doctor=doctor, patient=other_patient, start=next_slot(hour=11))
    user = doctor if role == "doctor" else patient
    qs = selectors.appointment_list_visible(user=user)
    where = str(qs.query).split(" WHERE ", 1)[1]
    assert " OR " not in where
    assert f'"{role}_id" = {user.pk}' in where
    expected = {mine.pk} if role == "patient" else {mine.pk, theirs.pk}
    assert set(qs.values_list("pk", flat=True)) == expected


@pytest.mark.django_db
def test_staff_list_sees_every_appointment(staff):
    AppointmentFactory.create_batch(3)
    assert selectors.appointment_list_visible(user=staff).count() == 3


@pytest.mark.django_db
def test_participant_list_count_needs_no_join_and_referral_id_is_annotated(doctor, patient, other_doctor):
    original = AppointmentFactory(doctor=doctor, patient=patient, status="referred")
    referral = AppointmentFactory(doctor=other_doctor, patient=patient, referred_from=original)
    qs = selectors.appointment_list_visible(user=patient)
    with CaptureQueriesContext(connection) as captured:
        assert qs.count() == 2
    assert "JOIN" not in captured.captured_queries[0]["sql"]
    by_pk = {a.pk: a.referred_to_pk for a in qs}
    assert by_pk == {original.pk: referral.pk, referral.pk: None}


@pytest.mark.django_db
def test_patient_list_for_scopes_by_role(staff):
    doctor, other_doctor = DoctorFactory(), DoctorFactory()
    mine, theirs = PatientFactory(), PatientFactory()
    AppointmentFactory(doctor=doctor, patient=mine)
    AppointmentFactory(doctor=other_doctor, patient=theirs)

    assert list(selectors.patient_list_for(user=doctor)) == [mine]
    assert set(selectors.patient_list_for(user=staff)) == {mine, theirs}
    assert list(selectors.patient_list_for(user=mine)) == []


@pytest.mark.usefixtures("open_week")
def test_doctor_schedule_free_slots_are_the_booking_engines(doctor, patient):
    AppointmentFactory(doctor=doctor, patient=patient, start=next_slot(days=2, hour=10), status=Status.CONFIRMED)
    AppointmentFactory(doctor=doctor, start=next_slot(days=2, hour=11), status=Status.CANCELLED)
    TimeOffFactory(doctor=doctor, start=next_slot(days=3, hour=9))
    first = next_slot(days=1).date()
    last = first + dt.timedelta(days=6)
    appointments, free = selectors.doctor_schedule(profile=doctor.doctor_profile, first=first, last=last)
    assert free == selectors.doctor_free_slots(profile=doctor.doctor_profile, first=first, last=last)
    assert len(appointments) == 2
