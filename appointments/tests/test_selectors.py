import pytest

from appointments import selectors
from appointments.tests.factories import AppointmentFactory, next_slot


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
