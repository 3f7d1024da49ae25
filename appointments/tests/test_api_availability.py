import datetime as dt

import pytest
import time_machine

from appointments.models import AvailabilityRule, TimeOff
from appointments.tests.factories import AppointmentFactory, AvailabilityRuleFactory, TimeOffFactory
from users.tests.factories import DoctorFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("open_week")]

RULE = {"weekday": 0, "start_time": "09:00", "end_time": "12:00"}


# --- availability rules ---------------------------------------------------------------------------


def test_doctor_create_rule_returns_201_in_hh_mm(client_for, doctor):
    r = client_for(doctor).post("/api/availability/", {"weekday": 0, "start_time": "19:00", "end_time": "21:30"})
    assert r.status_code == 201
    assert r.json() == {"id": r.json()["id"], "weekday": 0, "start_time": "19:00", "end_time": "21:30"}


def test_doctor_list_rules_is_paginated_and_own_only(client_for, doctor, other_doctor):
    r = client_for(doctor).get("/api/availability/")
    assert r.status_code == 200
    assert r.json()["count"] == 7  # the fixture's seven rules, not other_doctor's
    assert {row["weekday"] for row in r.json()["results"]} == set(range(7))


@pytest.mark.parametrize(
    "body",
    [
        {"weekday": 0, "start_time": "10:00", "end_time": "09:00"},
        {"weekday": 0, "start_time": "10:00", "end_time": "10:00"},
        {"weekday": 7, "start_time": "09:00", "end_time": "10:00"},
        {"weekday": -1, "start_time": "09:00", "end_time": "10:00"},
        {"weekday": "monday", "start_time": "09:00", "end_time": "10:00"},
        {"weekday": 0, "start_time": "9am", "end_time": "10:00"},
        {"weekday": 0, "start_time": "25:00", "end_time": "26:00"},
        {"weekday": 0},
        {},
    ],
)
def test_doctor_create_bad_rule_returns_400(client_for, body):
    doctor = DoctorFactory()
    r = client_for(doctor).post("/api/availability/", body)
    assert r.status_code == 400, r.content
    assert not AvailabilityRule.objects.filter(doctor=doctor).exists()


def test_doctor_create_overlapping_rule_returns_400(client_for):
    doctor = DoctorFactory()
    client = client_for(doctor)
    assert client.post("/api/availability/", RULE).status_code == 201
    r = client.post("/api/availability/", {"weekday": 0, "start_time": "11:30", "end_time": "13:00"})
    assert r.status_code == 400
    assert "non_field_errors" in r.json()
    assert (
        client.post("/api/availability/", {"weekday": 0, "start_time": "12:00", "end_time": "13:00"}).status_code == 201
    )


def test_doctor_update_rule_put_and_patch(client_for):
    doctor = DoctorFactory()
    rule = AvailabilityRuleFactory(doctor=doctor)
    client = client_for(doctor)
    r = client.put(f"/api/availability/{rule.pk}/", {"weekday": 2, "start_time": "08:00", "end_time": "10:00"})
    assert (r.status_code, r.json()["weekday"], r.json()["start_time"]) == (200, 2, "08:00")
    r = client.patch(f"/api/availability/{rule.pk}/", {"end_time": "11:00"})
    assert (r.status_code, r.json()["end_time"]) == (200, "11:00")
    r = client.patch(f"/api/availability/{rule.pk}/", {"end_time": "07:00"})
    assert r.status_code == 400


def test_doctor_patch_rule_into_overlap_returns_400(client_for):
    doctor = DoctorFactory()
    AvailabilityRuleFactory(doctor=doctor, weekday=0, start_time=dt.time(9), end_time=dt.time(12))
    other = AvailabilityRuleFactory(doctor=doctor, weekday=1, start_time=dt.time(9), end_time=dt.time(12))
    r = client_for(doctor).patch(f"/api/availability/{other.pk}/", {"weekday": 0})
    assert r.status_code == 400


def test_doctor_delete_rule_returns_204(client_for):
    doctor = DoctorFactory()
    rule = AvailabilityRuleFactory(doctor=doctor)
    assert client_for(doctor).delete(f"/api/availability/{rule.pk}/").status_code == 204
    assert not AvailabilityRule.objects.filter(pk=rule.pk).exists()


def test_other_doctor_rule_returns_404(client_for, other_doctor):
    rule = AvailabilityRuleFactory()
    client = client_for(other_doctor)
    assert client.get(f"/api/availability/{rule.pk}/").status_code == 404
    assert client.patch(f"/api/availability/{rule.pk}/", {"end_time": "18:00"}).status_code == 404
    assert client.delete(f"/api/availability/{rule.pk}/").status_code == 404
    assert AvailabilityRule.objects.filter(pk=rule.pk).exists()


@pytest.mark.parametrize("who", ["anonymous", "patient", "staff"])
def test_non_doctor_availability_access_is_refused(client_for, who, patient, staff):
    user = {"anonymous": None, "patient": patient, "staff": staff}[who]
    expected = 401 if user is None else 403
    client = client_for(user)
    assert client.get("/api/availability/").status_code == expected
    assert client.post("/api/availability/", RULE).status_code == expected
    assert client.get("/api/time-off/").status_code == expected


# --- time off -------------------------------------------------------------------------------------


def test_doctor_create_time_off_returns_201(client_for, doctor):
    body = {"start": "2030-01-07T09:00:00+01:00", "end": "2030-01-07T12:00:00+01:00", "reason": "Conference"}
    r = client_for(doctor).post("/api/time-off/", body)
    assert r.status_code == 201
    assert TimeOff.objects.get(pk=r.json()["id"]).start == dt.datetime(2030, 1, 7, 8, tzinfo=dt.UTC)


@pytest.mark.parametrize(
    "body",
    [
        {"start": "2030-01-07T09:00:00", "end": "2030-01-07T12:00:00+00:00"},
        {"start": "2030-01-07T09:00:00Z", "end": "2030-01-07T12:00:00"},
        {"start": "2030-01-07T12:00:00Z", "end": "2030-01-07T09:00:00Z"},
        {"start": "2030-01-07T12:00:00Z", "end": "2030-01-07T12:00:00Z"},
        {"start": "garbage", "end": "2030-01-07T12:00:00Z"},
        {"start": "2030-01-07", "end": "2030-01-08"},
        {"start": 5, "end": None},
        {},
    ],
)
def test_doctor_create_bad_time_off_returns_400(client_for, doctor, body):
    r = client_for(doctor).post("/api/time-off/", body)
    assert r.status_code == 400, r.content
    assert not TimeOff.objects.exists()


def test_doctor_patch_and_delete_time_off(client_for, doctor):
    time_off = TimeOffFactory(doctor=doctor)
    client = client_for(doctor)
    r = client.patch(f"/api/time-off/{time_off.pk}/", {"reason": "Holiday"})
    assert (r.status_code, r.json()["reason"]) == (200, "Holiday")
    r = client.patch(f"/api/time-off/{time_off.pk}/", {"end": (time_off.start - dt.timedelta(hours=1)).isoformat()})
    assert r.status_code == 400
    assert client.put(f"/api/time-off/{time_off.pk}/", {}).status_code == 405
    assert client.delete(f"/api/time-off/{time_off.pk}/").status_code == 204


def test_other_doctor_time_off_returns_404(client_for, other_doctor):
    time_off = TimeOffFactory()
    client = client_for(other_doctor)
    assert client.get(f"/api/time-off/{time_off.pk}/").status_code == 404
    assert client.delete(f"/api/time-off/{time_off.pk}/").status_code == 404
    assert client.get("/api/time-off/").json()["count"] == 0


# --- slots ----------------------------------------------------------------------------------------


def slots_url(doctor_id: int, start: object, end: object) -> str:
    return f"/api/doctors/{doctor_id}/slots/?start={start}&end={end}"


def test_patient_list_slots_excludes_booked_time_off_and_past(client_for, patient, doctor, slot):
    day = slot.date()
    AppointmentFactory(doctor=doctor, start=slot)  # pending still holds its time
    AppointmentFactory(doctor=doctor, start=slot + dt.timedelta(hours=1), status="cancelled")
    TimeOffFactory(
        doctor=doctor, start=slot + dt.timedelta(hours=2, minutes=10), end=slot + dt.timedelta(hours=2, minutes=20)
    )
    r = client_for(patient).get(slots_url(doctor.pk, day, day))
    assert r.status_code == 200
    starts = [row["start"] for row in r.json()]
    assert len(starts) == 20 - 2
    taken = {slot.isoformat().replace("+00:00", "Z"), (slot + dt.timedelta(hours=2)).isoformat().replace("+00:00", "Z")}
    assert not taken & set(starts)
    assert (slot + dt.timedelta(hours=1)).isoformat().replace("+00:00", "Z") in starts
    assert starts == sorted(starts)


def test_slots_hide_the_past_of_today(client_for, patient, doctor):
    with time_machine.travel(dt.datetime(2030, 1, 7, 12, 5, tzinfo=dt.UTC), tick=False):
        r = client_for(patient).get(slots_url(doctor.pk, "2030-01-07", "2030-01-07"))
    assert r.json()[0]["start"] == "2030-01-07T12:30:00Z"


def test_slots_are_shown_in_doctor_offset_across_dst(client_for, patient):
    doctor = DoctorFactory(doctor_profile__timezone="America/New_York")
    AvailabilityRuleFactory(doctor=doctor, weekday=6, start_time=dt.time(9), end_time=dt.time(10))
    with time_machine.travel(dt.datetime(2026, 2, 1, tzinfo=dt.UTC), tick=False):
        r = client_for(patient).get(slots_url(doctor.pk, "2026-03-01", "2026-03-15"))
    assert [row["start"] for row in r.json()] == [
        "2026-03-01T09:00:00-05:00",
        "2026-03-01T09:30:00-05:00",
        "2026-03-08T09:00:00-04:00",
        "2026-03-08T09:30:00-04:00",
        "2026-03-15T09:00:00-04:00",
        "2026-03-15T09:30:00-04:00",
    ]


def test_every_listed_slot_can_be_booked(client_for, patient, doctor, slot):
    doctor.doctor_profile.slot_minutes = 45
    doctor.doctor_profile.save()
    r = client_for(patient).get(slots_url(doctor.pk, slot.date(), slot.date()))
    listed = r.json()
    assert listed
    for row in listed[::5]:
        booked = client_for(patient).post(
            "/api/appointments/", {"doctor": doctor.pk, "start": row["start"], "reason_for_visit": "x"}
        )
        assert booked.status_code == 201, booked.content
        assert booked.json()["end"].replace("Z", "+00:00") == dt.datetime.fromisoformat(row["end"]).isoformat()


@pytest.mark.parametrize(
    "query",
    [
        "",
        "?start=2030-01-01",
        "?end=2030-01-01",
        "?start=2030-01-10&end=2030-01-01",
        "?start=2030-01-01&end=2030-03-05",
        "?start=garbage&end=2030-01-02",
        "?start=2030-02-30&end=2030-03-01",
    ],
)
def test_slots_bad_range_returns_400(client_for, patient, doctor, query):
    r = client_for(patient).get(f"/api/doctors/{doctor.pk}/slots/{query}")
    assert r.status_code == 400


def test_slots_62_days_is_allowed(client_for, patient, doctor):
    assert client_for(patient).get(slots_url(doctor.pk, "2030-01-01", "2030-03-03")).status_code == 200


def test_patient_slots_range_62_days_apart_allowed_63_rejected(client_for, patient, doctor):
    """ "Over 62 days" means end - start > 62 days, like the waitlist's "at most 62 days apart"."""
    client = client_for(patient)
    with time_machine.travel(dt.datetime(2029, 12, 1, tzinfo=dt.UTC), tick=False):
        allowed = client.get(slots_url(doctor.pk, "2030-01-01", "2030-03-04"))
        rejected = client.get(slots_url(doctor.pk, "2030-01-01", "2030-03-05"))
    assert allowed.status_code == 200
    assert dt.datetime.fromisoformat(allowed.json()[-1]["start"]).date() == dt.date(2030, 3, 4)
    assert rejected.status_code == 400
    assert "end" in rejected.json()


def test_slots_unknown_or_hidden_doctor_returns_404(client_for, patient, slot):
    unverified = DoctorFactory(doctor_profile__is_verified=False)
    client = client_for(patient)
    assert client.get(slots_url(unverified.pk, slot.date(), slot.date())).status_code == 404
    assert client.get(slots_url(999999, slot.date(), slot.date())).status_code == 404
    assert client.get(slots_url(patient.pk, slot.date(), slot.date())).status_code == 404


def test_anonymous_slots_returns_401(client_for, doctor, slot):
    assert client_for(None).get(slots_url(doctor.pk, slot.date(), slot.date())).status_code == 401


def test_slots_query_count_is_constant(client_for, patient, doctor, django_assert_max_num_queries):
    for day in range(1, 60):
        start = dt.datetime.combine(dt.date(2030, 1, 1) + dt.timedelta(days=day), dt.time(9), tzinfo=dt.UTC)
        AppointmentFactory(doctor=doctor, start=start)
        TimeOffFactory(doctor=doctor, start=start + dt.timedelta(hours=3), end=start + dt.timedelta(hours=4))
    client = client_for(patient)
    with time_machine.travel(dt.datetime(2029, 12, 1, tzinfo=dt.UTC), tick=False), django_assert_max_num_queries(6):
        r = client.get(slots_url(doctor.pk, "2030-01-01", "2030-03-03"))
    assert len(r.json()) == 62 * 20 - 59 * 3


def test_rule_and_time_off_lists_query_count_is_constant(client_for, doctor, django_assert_max_num_queries):
    for day in range(50):
        start = dt.datetime(2030, 1, 1, 9, tzinfo=dt.UTC) + dt.timedelta(days=day)
        TimeOffFactory(doctor=doctor, start=start, end=start + dt.timedelta(hours=1))
    client = client_for(doctor)
    with django_assert_max_num_queries(3):
        assert client.get("/api/availability/?page_size=100").json()["count"] == 7
    with django_assert_max_num_queries(3):
        assert len(client.get("/api/time-off/?page_size=100").json()["results"]) == 50
