import datetime as dt

import pytest
from django.core.exceptions import ValidationError

from appointments.choices import Status
from appointments.tests.factories import AppointmentFactory
from consultations import services
from consultations.choices import AccessAction, AccessChannel
from consultations.models import ConsultationAccessLog
from consultations.selectors import consultation_list_for, consultation_revisions, consultation_visible_to
from cybermed.exceptions import AlreadyExists, InvalidTransition
from users.tests.factories import DoctorFactory


def test_consultation_create_copies_participants_and_records_history(doctor, patient, appointment):
    consultation = services.consultation_create(
        appointment=appointment, actor=doctor, client_ip="192.0.2.1", treatment_plan="Rest."
    )
    assert (consultation.doctor, consultation.patient) == (doctor, patient)
    record = consultation.history.get()
    assert (record.history_type, record.history_user) == ("+", doctor)
    log = ConsultationAccessLog.objects.get()
    assert (log.action, log.actor, log.client_ip, log.channel) == (
        AccessAction.CREATE,
        doctor,
        "192.0.2.1",
        AccessChannel.API,
    )


def test_consultation_create_by_another_doctor_is_refused(other_doctor, appointment):
    with pytest.raises(ValidationError) as excinfo:
        services.consultation_create(appointment=appointment, actor=other_doctor, client_ip=None)
    assert "appointment" in excinfo.value.message_dict


@pytest.mark.parametrize("appointment_status", [Status.PENDING, Status.CANCELLED, Status.NO_SHOW, Status.REFERRED])
def test_consultation_create_for_inactive_status_raises_invalid_transition(doctor, appointment_status):
    appt = AppointmentFactory(doctor=doctor, status=appointment_status)
    with pytest.raises(InvalidTransition):
        services.consultation_create(appointment=appt, actor=doctor, client_ip=None)


def test_consultation_create_twice_raises_already_exists(doctor, appointment):
    services.consultation_create(appointment=appointment, actor=doctor, client_ip=None)
    with pytest.raises(AlreadyExists):
        services.consultation_create(appointment=appointment, actor=doctor, client_ip=None)


def test_consultation_create_rejects_invalid_prescriptions_even_without_serializer(doctor, appointment):
    with pytest.raises(ValidationError) as excinfo:
        services.consultation_create(
            appointment=appointment, actor=doctor, client_ip=None, prescriptions=[{"drug": "x", "colour": "red"}]
        )
    assert "prescriptions" in excinfo.value.message_dict


def test_consultation_create_rejects_unknown_content_field(doctor, appointment):
    with pytest.raises(TypeError):
        services.consultation_create(appointment=appointment, actor=doctor, client_ip=None, patient_id=1)


def test_consultation_update_records_who_changed_what(doctor, staff, consultation):
    services.consultation_update(consultation=consultation, actor=staff, client_ip=None, investigations="MRI")
    [revision] = consultation_revisions(consultation=consultation)
    assert revision["changed_by"] == staff.pk
    assert revision["changed_fields"] == ["investigations"]
    assert revision["old_values"] == {"investigations": "Full blood count."}


def test_consultation_update_review_date_before_visit_is_refused(doctor, consultation):
    before = consultation.appointment.start.date() - dt.timedelta(days=1)
    with pytest.raises(ValidationError) as excinfo:
        services.consultation_update(consultation=consultation, actor=doctor, client_ip=None, review_date=before)
    assert "review_date" in excinfo.value.message_dict


def test_appointment_local_date_without_profile_is_utc(patient):
    doctor = DoctorFactory(doctor_profile=None)
    start = dt.datetime(2030, 1, 1, 23, 30, tzinfo=dt.UTC)
    appt = AppointmentFactory(doctor=doctor, patient=patient, start=start)
    assert services.appointment_local_date(appointment=appt) == dt.date(2030, 1, 1)


def test_appointment_local_date_west_of_utc_is_previous_day(patient):
    doctor = DoctorFactory(doctor_profile__timezone="America/New_York")
    start = dt.datetime(2030, 1, 2, 2, 0, tzinfo=dt.UTC)
    appt = AppointmentFactory(doctor=doctor, patient=patient, start=start)
    assert services.appointment_local_date(appointment=appt) == dt.date(2030, 1, 1)


def test_selectors_scope_by_role(doctor, patient, other_doctor, staff, consultation):
    assert list(consultation_list_for(user=doctor)) == [consultation]
    assert list(consultation_list_for(user=patient)) == [consultation]
    assert list(consultation_list_for(user=other_doctor)) == []
    assert list(consultation_list_for(user=staff)) == []
    assert list(consultation_visible_to(user=staff)) == [consultation]
