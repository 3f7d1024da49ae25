"""Clinic staff in the API: booking for a patient and the front-desk moves, all decided by the one table."""

import datetime as dt

import pytest
from django.test import override_settings

from appointments import services
from appointments.choices import Status
from appointments.events import AppointmentEventKind as Event
from appointments.models import Appointment, AppointmentNote, StatusChange
from appointments.tests.conftest import open_all_week
from appointments.tests.factories import AppointmentFactory, next_slot
from notifications.models import Notification
from users.choices import Role
from users.tests.factories import DoctorFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("open_week")]


def iso(value: dt.datetime) -> str:
    return value.isoformat()


def book_as_staff(client, doctor, patient, start, **extra):
    body = {"doctor": doctor.pk, "patient": patient.pk, "start": iso(start), "reason_for_visit": "Walk-in", **extra}
    return client.post("/api/appointments/", body, format="json")


# --- booking --------------------------------------------------------------------------------------


def test_staff_book_for_patient_returns_201_confirmed_created_by_staff(
    client_for, staff, patient, doctor, slot, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        r = book_as_staff(client_for(staff), doctor, patient, slot)
    assert r.status_code == 201
    body = r.json()
    assert (body["status"], body["created_by"], body["patient"]["id"], body["doctor"]["id"]) == (
        "confirmed",
        staff.pk,
        patient.pk,
        doctor.pk,
    )
    assert list(StatusChange.objects.values_list("from_status", "to_status", "by")) == [("", "confirmed", staff.pk)]
    notified = set(Notification.objects.filter(kind="appointment_created").values_list("user", flat=True))
    assert notified == {patient.pk, doctor.pk}


def test_staff_book_with_end_spans_several_slots(client_for, staff, patient, doctor, slot):
    r = book_as_staff(client_for(staff), doctor, patient, slot, end=iso(slot + dt.timedelta(hours=1)))
    assert r.status_code == 201
    assert Appointment.objects.get().end == slot + dt.timedelta(hours=1)


@override_settings(MAX_ACTIVE_APPOINTMENTS_PER_PATIENT=1)
def test_staff_book_is_not_limited_by_the_patient_booking_limit(client_for, staff, patient, doctor, slot):
    AppointmentFactory(patient=patient, doctor=doctor, start=slot + dt.timedelta(days=1), status=Status.PENDING)
    assert book_as_staff(client_for(staff), doctor, patient, slot).status_code == 201


def test_staff_book_taken_slot_returns_409(client_for, staff, patient, other_patient, doctor, slot):
    AppointmentFactory(patient=other_patient, doctor=doctor, start=slot, status=Status.CONFIRMED)
    r = book_as_staff(client_for(staff), doctor, patient, slot)
    assert (r.status_code, r.json()["code"]) == (409, "slot_unavailable")


@pytest.mark.parametrize(
    "body",
    [
        lambda d, p, s: {"patient": p.pk, "start": iso(s)},  # no doctor
        lambda d, p, s: {"doctor": d.pk, "start": iso(s)},  # no patient
        lambda d, p, s: {"doctor": d.pk, "patient": d.pk, "start": iso(s)},  # the doctor as patient
        lambda d, p, s: {"doctor": p.pk, "patient": p.pk, "start": iso(s)},  # a patient as doctor
        lambda d, p, s: {"doctor": d.pk, "patient": p.pk, "start": s.replace(tzinfo=None).isoformat()},  # naive
        lambda d, p, s: {"doctor": d.pk, "patient": p.pk, "start": iso(s), "end": iso(s)},  # empty
        lambda d, p, s: {"doctor": d.pk + 0.5, "patient": p.pk, "start": iso(s)},  # a fractional id
        lambda d, p, s: {"doctor": d.pk, "patient": [p.pk], "start": iso(s)},
    ],
)
def test_staff_book_bad_input_returns_400(client_for, staff, patient, doctor, slot, body):
    r = client_for(staff).post("/api/appointments/", body(doctor, patient, slot), format="json")
    assert r.status_code == 400
    assert not Appointment.objects.exists()


def test_anonymous_book_returns_401(client_for, patient, doctor, slot):
    assert book_as_staff(client_for(None), doctor, patient, slot).status_code == 401


def test_service_refuses_booking_by_a_non_staff_outsider(patient, other_patient, doctor, slot):
    with pytest.raises(services.PermissionDenied):
        services.appointment_book(doctor=doctor, patient=patient, start=slot, by=other_patient)


# --- the permission matrix of every action ---------------------------------------------------------

ACTORS = ["anonymous", "patient", "other_patient", "doctor", "other_doctor", "staff"]
OK = {"reschedule": 200, "refer": 201, "notes": 200, "add_note": 201, "patch": 200, "delete": 204}

# Who may do each action to an appointment of `patient` with `doctor`; the rest get these codes.
ALLOWED = {
    "confirm": {"doctor", "staff"},
    "cancel": {"patient", "doctor", "staff"},
    "delete": {"patient", "doctor", "staff"},
    "reschedule": {"patient", "doctor", "staff"},
    "no-show": {"doctor", "staff"},
    "complete": {"doctor"},
    "refer": {"doctor"},
    "notes": {"patient", "doctor"},
    "add_note": {"patient", "doctor"},
    "patch": {"doctor"},
}
# Actions no patient may take at all are refused before the appointment is looked up (403); an action
# patients may take on someone else's appointment is a 404 (they cannot see it). Doctors never see
# another doctor's appointment (404).
PATIENTS_NEVER = {"confirm", "no-show", "complete", "refer"}
# The location is the doctor's to change: the patient may PATCH (their reason), but not this field.
SPECIAL = {("patch", "patient"): 400}


def expected_status(action: str, actor: str) -> int:
    if actor == "anonymous":
        return 401
    if (action, actor) in SPECIAL:
        return SPECIAL[(action, actor)]
    if actor in ALLOWED[action]:
        return OK.get(action, 200)
    if actor == "other_doctor":
        return 404
    if actor == "other_patient":
        return 403 if action in PATIENTS_NEVER else 404
    return 403


def started(action: str) -> bool:
    return action in ("no-show", "complete")


@pytest.mark.parametrize("actor", ACTORS)
@pytest.mark.parametrize("action", list(ALLOWED))
def test_action_permission_matrix(request, client_for, patient, doctor, other_doctor, slot, action, actor):
    user = None if actor == "anonymous" else request.getfixturevalue(actor)
    if started(action):
        start = next_slot(days=-1)
        appointment = AppointmentFactory(patient=patient, doctor=doctor, start=start, status=Status.CONFIRMED)
    else:
        appointment = AppointmentFactory(patient=patient, doctor=doctor, start=slot, status=Status.PENDING)
    target = DoctorFactory(doctor_profile__specialty=doctor.doctor_profile.specialty)
    open_all_week(target)
    url = f"/api/appointments/{appointment.pk}/"
    client = client_for(user)
    match action:
        case "patch":
            r = client.patch(url, {"location": "Room 2"}, format="json")
        case "delete":
            r = client.delete(url)
        case "notes":
            r = client.get(url + "notes/")
        case "add_note":
            r = client.post(url + "notes/", {"text": "Bring the X-ray"}, format="json")
        case "reschedule":
            r = client.post(url + "reschedule/", {"start": iso(slot + dt.timedelta(hours=1))}, format="json")
        case "cancel":
            r = client.post(url + "cancel/", {"reason": "Clinic closed"}, format="json")
        case "refer":
            r = client.post(url + "refer/", {"doctor": target.pk}, format="json")
        case _:
            r = client.post(url + f"{action}/", {}, format="json")
    assert r.status_code == expected_status(action, actor), r.content
    if r.status_code >= 400:
        appointment.refresh_from_db()
        assert appointment.status in (Status.PENDING, Status.CONFIRMED)
        assert not AppointmentNote.objects.exists()


def test_staff_consultation_endpoints_stay_forbidden(client_for, staff, patient, doctor):
    appointment = AppointmentFactory(patient=patient, doctor=doctor, start=next_slot(days=-1), status=Status.COMPLETED)
    client = client_for(staff)
    assert client.post("/api/consultations/", {"appointment": appointment.pk}, format="json").status_code == 403
    assert client.get("/api/consultations/").status_code == 403


# --- what staff moves record and announce ----------------------------------------------------------


def run(action, client, appointment, slot):
    url = f"/api/appointments/{appointment.pk}/"
    match action:
        case "confirm":
            return client.post(url + "confirm/", {}, format="json")
        case "cancel":
            return client.post(url + "cancel/", {"reason": "Doctor ill"}, format="json")
        case "reschedule":
            return client.post(url + "reschedule/", {"start": iso(slot + dt.timedelta(hours=2))}, format="json")
        case "no-show":
            return client.post(url + "no-show/", {}, format="json")


@pytest.mark.parametrize(
    ("action", "status_before", "status_after", "kind"),
    [
        ("confirm", Status.PENDING, Status.CONFIRMED, "appointment_confirmed"),
        ("cancel", Status.CONFIRMED, Status.CANCELLED, "appointment_cancelled"),
        ("reschedule", Status.CONFIRMED, Status.CONFIRMED, "appointment_rescheduled"),
        ("reschedule", Status.PENDING, Status.PENDING, "appointment_rescheduled"),
        ("no-show", Status.CONFIRMED, Status.NO_SHOW, "appointment_no_show"),
    ],
)
def test_staff_move_records_staff_and_notifies_patient_and_doctor(
    client_for, staff, patient, doctor, slot, action, status_before, status_after, kind,
    django_capture_on_commit_callbacks,
):  # fmt: skip
    start = next_slot(days=-1) if action == "no-show" else slot
    appointment = AppointmentFactory(patient=patient, doctor=doctor, start=start, status=status_before)
    with django_capture_on_commit_callbacks(execute=True):
        r = run(action, client_for(staff), appointment, slot)
    assert r.status_code == 200, r.content
    assert r.json()["status"] == status_after
    change = StatusChange.objects.get(appointment=appointment)
    assert (change.by_id, change.from_status, change.to_status) == (staff.pk, status_before, status_after)
    if action == "cancel":
        assert (change.reason, r.json()["cancellation_reason"]) == ("Doctor ill", "Doctor ill")
    notified = set(Notification.objects.filter(kind=kind, appointment=appointment).values_list("user", flat=True))
    assert notified == {patient.pk, doctor.pk}


def test_doctor_confirm_still_notifies_only_the_patient(
    client_for, patient, doctor, slot, django_capture_on_commit_callbacks
):
    appointment = AppointmentFactory(patient=patient, doctor=doctor, start=slot)
    with django_capture_on_commit_callbacks(execute=True):
        assert client_for(doctor).post(f"/api/appointments/{appointment.pk}/confirm/").status_code == 200
    assert list(Notification.objects.values_list("user", flat=True)) == [patient.pk]


def test_staff_confirm_before_start_only_and_no_show_after_start_only(client_for, staff, patient, doctor, slot):
    past = AppointmentFactory(patient=patient, doctor=doctor, start=next_slot(days=-1), status=Status.PENDING)
    r = client_for(staff).post(f"/api/appointments/{past.pk}/confirm/")
    assert (r.status_code, r.json()["code"]) == (409, "invalid_transition")
    future = AppointmentFactory(patient=patient, doctor=doctor, start=slot, status=Status.CONFIRMED)
    r = client_for(staff).post(f"/api/appointments/{future.pk}/no-show/")
    assert (r.status_code, r.json()["code"]) == (409, "invalid_transition")


def test_staff_reschedule_to_unavailable_time_returns_409(client_for, staff, patient, other_patient, doctor, slot):
    appointment = AppointmentFactory(patient=patient, doctor=doctor, start=slot, status=Status.CONFIRMED)
    AppointmentFactory(patient=other_patient, doctor=doctor, start=slot + dt.timedelta(hours=1))
    r = client_for(staff).post(
        f"/api/appointments/{appointment.pk}/reschedule/", {"start": iso(slot + dt.timedelta(hours=1))}, format="json"
    )
    assert (r.status_code, r.json()["code"]) == (409, "slot_unavailable")
    r = client_for(staff).post(f"/api/appointments/{appointment.pk}/reschedule/", {"start": "soon"}, format="json")
    assert r.status_code == 400


# --- the table is the one matrix ----------------------------------------------------------------------


def test_api_permissions_are_the_tables_roles():
    assert services.roles_allowed(Event.CONFIRMED) == {Role.DOCTOR, services.STAFF}
    assert services.roles_allowed(Event.COMPLETED) == {Role.DOCTOR}
    assert services.roles_allowed(Event.REFERRED) == {Role.DOCTOR}
    assert services.roles_allowed(Event.NO_SHOW) == {Role.DOCTOR, services.STAFF}
    assert services.roles_allowed(Event.CREATED) == {Role.PATIENT, Role.DOCTOR, services.STAFF}


def test_a_staff_doctor_acts_as_staff_on_another_doctors_appointment(client_for, patient, doctor, slot):
    colleague = DoctorFactory(is_staff=True)
    appointment = AppointmentFactory(patient=patient, doctor=doctor, start=slot)
    assert client_for(colleague).post(f"/api/appointments/{appointment.pk}/confirm/").status_code == 200
    assert client_for(colleague).post(f"/api/appointments/{appointment.pk}/complete/").status_code == 403
