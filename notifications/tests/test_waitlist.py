"""Waitlist endpoints and the `slot_opened` notification when a waited-for slot is freed."""

import datetime as dt

import pytest
from django.utils import timezone

from appointments.choices import Status
from appointments.events import AppointmentEventKind as Event
from appointments.tests.factories import AppointmentFactory, next_slot
from notifications.choices import Kind
from notifications.models import Notification, WaitlistEntry
from notifications.tests.factories import WaitlistEntryFactory
from users.tests.factories import DoctorFactory, PatientFactory

pytestmark = pytest.mark.django_db

URL = "/api/waitlist/"


def today() -> dt.date:
    return timezone.now().astimezone(dt.UTC).date()


def body(doctor, start_offset: int = 1, length: int = 7) -> dict:
    start = today() + dt.timedelta(days=start_offset)
    return {"doctor": doctor.pk, "start_date": str(start), "end_date": str(start + dt.timedelta(days=length))}


def dated(change: dict) -> dict:
    """Timedeltas as dates from today, taken when the test runs: parameters are built at collection, maybe yesterday."""
    return {key: str(today() + v) if isinstance(v, dt.timedelta) else v for key, v in change.items()}


# --- API --------------------------------------------------------------------------------------------


def test_patient_joins_waitlist(client_for, patient, doctor):
    r = client_for(patient).post(URL, body(doctor), format="json")

    assert r.status_code == 201
    data = r.json()
    assert set(data) == {"id", "doctor", "start_date", "end_date", "created_at"}
    assert data["doctor"] == doctor.pk
    entry = WaitlistEntry.objects.get()
    assert (entry.patient_id, entry.pk) == (patient.pk, data["id"])


def test_patient_lists_only_own_entries(client_for, patient, other_patient, doctor):
    mine = WaitlistEntryFactory(patient=patient, doctor=doctor, start_date=today())
    WaitlistEntryFactory(patient=other_patient, doctor=doctor, start_date=today())

    r = client_for(patient).get(URL)

    assert r.status_code == 200
    assert r.json()["count"] == 1
    assert r.json()["results"][0]["id"] == mine.pk


def test_patient_lists_entries_in_bounded_queries(client_for, patient, django_assert_max_num_queries):
    for doctor in DoctorFactory.create_batch(25):
        WaitlistEntryFactory(patient=patient, doctor=doctor, start_date=today())
    client = client_for(patient)

    with django_assert_max_num_queries(3):
        r = client.get(URL, {"page_size": 25})
    assert len(r.json()["results"]) == 25


def test_patient_leaves_waitlist(client_for, patient, doctor):
    entry = WaitlistEntryFactory(patient=patient, doctor=doctor, start_date=today())

    r = client_for(patient).delete(f"{URL}{entry.pk}/")

    assert r.status_code == 204
    assert not WaitlistEntry.objects.exists()


def test_patient_deleting_another_patients_entry_gets_404(client_for, patient, other_patient, doctor):
    entry = WaitlistEntryFactory(patient=other_patient, doctor=doctor, start_date=today())

    assert client_for(patient).delete(f"{URL}{entry.pk}/").status_code == 404
    assert WaitlistEntry.objects.filter(pk=entry.pk).exists()


@pytest.mark.parametrize("pk", ["999999", "abc"])
def test_patient_deleting_missing_entry_gets_404(pk, client_for, patient):
    assert client_for(patient).delete(f"{URL}{pk}/").status_code == 404


@pytest.mark.parametrize("user_name", ["doctor", "staff"])
def test_non_patient_using_waitlist_gets_403(user_name, request, client_for, patient, doctor):
    user = request.getfixturevalue(user_name)
    entry = WaitlistEntryFactory(patient=patient, doctor=doctor, start_date=today())
    client = client_for(user)

    assert client.get(URL).status_code == 403
    assert client.post(URL, body(doctor), format="json").status_code == 403
    assert client.delete(f"{URL}{entry.pk}/").status_code == 403
    assert WaitlistEntry.objects.count() == 1


def test_anonymous_using_waitlist_gets_401(client_for, patient, doctor):
    entry = WaitlistEntryFactory(patient=patient, doctor=doctor, start_date=today())
    client = client_for(None)

    assert client.get(URL).status_code == 401
    assert client.post(URL, body(doctor), format="json").status_code == 401
    assert client.delete(f"{URL}{entry.pk}/").status_code == 401


def test_patient_joining_same_waitlist_twice_gets_409(client_for, patient, doctor):
    client = client_for(patient)
    assert client.post(URL, body(doctor), format="json").status_code == 201

    r = client.post(URL, body(doctor), format="json")

    assert (r.status_code, r.json()["code"]) == (409, "already_exists")
    assert WaitlistEntry.objects.count() == 1


def test_patient_may_wait_exactly_62_days(client_for, patient, doctor):
    assert client_for(patient).post(URL, body(doctor, length=62), format="json").status_code == 201


def test_patient_may_wait_from_today(client_for, patient, doctor):
    assert client_for(patient).post(URL, body(doctor, start_offset=0, length=0), format="json").status_code == 201


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"end_date": dt.timedelta(days=0)}, "end_date"),  # before start_date (tomorrow)
        ({"end_date": dt.timedelta(days=64)}, "end_date"),  # 63 days apart
        ({"start_date": dt.timedelta(days=-3)}, "start_date"),  # in the past
        ({"start_date": "2026-02-30"}, "start_date"),
        ({"start_date": "tomorrow"}, "start_date"),
        ({"end_date": 20260101}, "end_date"),
        ({"start_date": None}, "start_date"),
        ({"doctor": "abc"}, "doctor"),
        ({"doctor": 999_999}, "doctor"),
        ({"doctor": 2**70}, "doctor"),
        ({"doctor": [1]}, "doctor"),
        ({"doctor": None}, "doctor"),
    ],
)
def test_patient_sending_bad_waitlist_input_gets_400(change, field, client_for, patient, doctor):
    r = client_for(patient).post(URL, {**body(doctor), **dated(change)}, format="json")

    assert r.status_code == 400
    assert field in r.json()
    assert not WaitlistEntry.objects.exists()


@pytest.mark.parametrize(
    ("change", "errors"),
    [
        ({"end_date": dt.timedelta(days=0)}, {"end_date": ["Must be on or after start_date."]}),
        ({"end_date": dt.timedelta(days=64)}, {"end_date": ["At most 62 days after start_date."]}),
        (
            {"start_date": dt.timedelta(days=-3)},
            {"start_date": ["Must not be in the past (doctor's local date)."]},
        ),
    ],
)
def test_patient_sending_bad_waitlist_window_gets_400_with_field_message(change, errors, client_for, patient, doctor):
    r = client_for(patient).post(URL, {**body(doctor), **dated(change)}, format="json")

    assert (r.status_code, r.json()) == (400, errors)
    assert not WaitlistEntry.objects.exists()


@pytest.mark.parametrize("missing", ["doctor", "start_date", "end_date"])
def test_patient_omitting_waitlist_field_gets_400(missing, client_for, patient, doctor):
    data = body(doctor)
    del data[missing]

    r = client_for(patient).post(URL, data, format="json")

    assert r.status_code == 400
    assert missing in r.json()


def test_patient_waiting_for_unverified_doctor_gets_400(client_for, patient):
    hidden = DoctorFactory(doctor_profile__is_verified=False)

    r = client_for(patient).post(URL, body(hidden), format="json")

    assert r.status_code == 400
    assert "doctor" in r.json()


def test_patient_waiting_for_a_patient_gets_400(client_for, patient, other_patient):
    r = client_for(patient).post(URL, body(other_patient), format="json")

    assert r.status_code == 400
    assert "doctor" in r.json()


def test_patient_may_wait_for_unverified_doctor_when_verification_is_off(settings, client_for, patient):
    settings.DOCTOR_VERIFICATION_REQUIRED = False
    unverified = DoctorFactory(doctor_profile__is_verified=False)

    assert client_for(patient).post(URL, body(unverified), format="json").status_code == 201


def test_patient_sending_non_object_gets_400(client_for, patient):
    assert client_for(patient).post(URL, ["doctor"], format="json").status_code == 400


# --- slot_opened ------------------------------------------------------------------------------------


def wait(patient, doctor, first: dt.date, last: dt.date) -> WaitlistEntry:
    return WaitlistEntryFactory(patient=patient, doctor=doctor, start_date=first, end_date=last)


def slot_opened() -> list[Notification]:
    return list(Notification.objects.filter(kind=Kind.SLOT_OPENED).order_by("user_id"))


def free(send_event, appointment, event: Event, actor, captured, **kwargs) -> None:
    with captured(execute=True):
        send_event(
            appointment, event, actor=actor, previous_status=kwargs.pop("previous_status", Status.CONFIRMED), **kwargs
        )


def test_cancellation_notifies_waiting_patients_in_range_only(
    patient, doctor, other_doctor, send_event, django_capture_on_commit_callbacks
):
    appt = AppointmentFactory(patient=patient, doctor=doctor, status=Status.CONFIRMED, start=next_slot(days=5))
    day = appt.start.date()
    waiting, also_waiting, outside, elsewhere = PatientFactory.create_batch(4)
    wait(waiting, doctor, day - dt.timedelta(days=2), day)
    wait(also_waiting, doctor, day, day + dt.timedelta(days=3))
    wait(also_waiting, doctor, day - dt.timedelta(days=1), day + dt.timedelta(days=1))  # two entries, one message
    wait(outside, doctor, day + dt.timedelta(days=1), day + dt.timedelta(days=9))
    wait(elsewhere, other_doctor, day, day)
    wait(patient, doctor, day, day)  # the one who freed it
    appt.status = Status.CANCELLED
    appt.save()

    free(send_event, appt, Event.CANCELLED, patient, django_capture_on_commit_callbacks)

    notes = slot_opened()
    assert [n.user_id for n in notes] == sorted([waiting.pk, also_waiting.pk])
    for n in notes:
        assert n.data == {
            "doctor": doctor.pk,
            "start": appt.start.isoformat(),
            "end": appt.end.isoformat(),
            "timezone": "UTC",
        }
        assert n.appointment_id is None
    # the doctor still gets the cancellation itself, the patient who cancelled gets nothing
    assert set(Notification.objects.exclude(kind=Kind.SLOT_OPENED).values_list("user_id", "kind")) == {
        (doctor.pk, Kind.APPOINTMENT_CANCELLED)
    }


def test_waitlist_range_uses_doctors_local_date(patient, send_event, django_capture_on_commit_callbacks):
    # 20:00 UTC is the next day in Auckland (UTC+12 or +13).
    doctor = DoctorFactory(doctor_profile__timezone="Pacific/Auckland")
    appt = AppointmentFactory(patient=patient, doctor=doctor, status=Status.CONFIRMED, start=next_slot(days=5, hour=20))
    utc_day = appt.start.date()
    local_waiter, utc_waiter = PatientFactory.create_batch(2)
    wait(local_waiter, doctor, utc_day + dt.timedelta(days=1), utc_day + dt.timedelta(days=1))
    wait(utc_waiter, doctor, utc_day, utc_day)

    free(send_event, appt, Event.CANCELLED, patient, django_capture_on_commit_callbacks)

    notes = slot_opened()
    assert [n.user_id for n in notes] == [local_waiter.pk]
    assert "(Pacific/Auckland)" in notes[0].message


def test_rescheduling_away_notifies_waiters_of_the_old_slot(
    patient, doctor, send_event, django_capture_on_commit_callbacks
):
    old_start = next_slot(days=5)
    appt = AppointmentFactory(
        patient=patient, doctor=doctor, status=Status.PENDING, start=old_start + dt.timedelta(days=1)
    )
    waiter = PatientFactory()
    wait(waiter, doctor, old_start.date(), old_start.date())

    free(
        send_event,
        appt,
        Event.RESCHEDULED,
        patient,
        django_capture_on_commit_callbacks,
        previous_status=Status.CONFIRMED,
        previous_start=old_start,
        previous_end=old_start + dt.timedelta(minutes=30),
    )

    (note,) = slot_opened()
    assert note.user_id == waiter.pk
    assert note.data["start"] == old_start.isoformat()


def test_referral_notifies_waiters_of_the_original_doctor(
    patient, doctor, other_doctor, send_event, django_capture_on_commit_callbacks
):
    appt = AppointmentFactory(patient=patient, doctor=doctor, status=Status.REFERRED, start=next_slot(days=5))
    referral = AppointmentFactory(patient=patient, doctor=other_doctor, start=appt.start, referred_from=appt)
    waiter, other_waiter = PatientFactory.create_batch(2)
    wait(waiter, doctor, appt.start.date(), appt.start.date())
    wait(other_waiter, other_doctor, appt.start.date(), appt.start.date())

    free(send_event, appt, Event.REFERRED, doctor, django_capture_on_commit_callbacks, referral=referral)

    assert [n.user_id for n in slot_opened()] == [waiter.pk]
    assert slot_opened()[0].data["doctor"] == doctor.pk


@pytest.mark.parametrize(
    ("event", "previous_status", "days"),
    [
        (Event.COMPLETED, Status.CONFIRMED, 5),  # not a freed slot
        (Event.CANCELLED, Status.COMPLETED, 5),  # was not holding the time
        (Event.CANCELLED, Status.CONFIRMED, -2),  # already past
        (Event.CONFIRMED, Status.PENDING, 5),
    ],
)
def test_no_slot_opened_when_nothing_bookable_was_freed(
    event, previous_status, days, patient, doctor, send_event, django_capture_on_commit_callbacks
):
    appt = AppointmentFactory(patient=patient, doctor=doctor, status=Status.CANCELLED, start=next_slot(days=days))
    wait(PatientFactory(), doctor, appt.start.date(), appt.start.date())

    free(send_event, appt, event, doctor, django_capture_on_commit_callbacks, previous_status=previous_status)

    assert slot_opened() == []
