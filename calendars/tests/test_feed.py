import datetime as dt
import hashlib
import logging
import re
import zoneinfo

import pytest
from django.utils.http import http_date

from appointments.choices import Status
from appointments.tests.factories import AppointmentFactory
from calendars.models import CalendarFeed
from calendars.tests.conftest import NOW, feed_path
from calendars.tests.helpers import events, parse
from users.tests.factories import DoctorFactory, PatientFactory

pytestmark = pytest.mark.django_db

LONDON = zoneinfo.ZoneInfo("Europe/London")


def at_london(day: dt.date, hour: int) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour), tzinfo=LONDON).astimezone(dt.UTC)


def appointment(doctor, patient, start: dt.datetime, **fields):
    return AppointmentFactory(
        doctor=doctor, patient=patient, start=start, end=start + dt.timedelta(minutes=30), **fields
    )


# --- The feed API -----------------------------------------------------------------------------------


def test_user_creates_feed_gets_url_once_and_only_a_hash_is_stored(client_for, patient):
    r = client_for(patient).post("/api/calendar/feed/")
    assert r.status_code == 201
    url, webcal = r.json()["url"], r.json()["webcal_url"]
    token = re.fullmatch(r"https?://[^/]+/calendar/([A-Za-z0-9_-]{43})\.ics", url).group(1)
    assert webcal == "webcal://" + url.split("://", 1)[1]
    feed = CalendarFeed.objects.get(user=patient)
    assert feed.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert token not in str(CalendarFeed.objects.values().get())
    status = client_for(patient).get("/api/calendar/feed/").json()
    assert status == {"active": True, "created_at": status["created_at"], "last_fetched_at": None}
    assert token not in str(status)


def test_user_without_feed_sees_inactive(client_for, doctor):
    r = client_for(doctor).get("/api/calendar/feed/")
    assert r.json() == {"active": False, "created_at": None, "last_fetched_at": None}


def test_user_rotates_feed_old_url_404_at_once(client_for, anonymous, patient):
    old = client_for(patient).post("/api/calendar/feed/").json()["url"]
    new = client_for(patient).post("/api/calendar/feed/").json()["url"]
    assert old != new
    assert anonymous.get(old).status_code == 404
    assert anonymous.get(new).status_code == 200
    assert CalendarFeed.objects.filter(user=patient, revoked_at__isnull=True).count() == 1


def test_user_revokes_feed_url_404(client_for, anonymous, patient):
    url = client_for(patient).post("/api/calendar/feed/").json()["url"]
    assert client_for(patient).delete("/api/calendar/feed/").status_code == 204
    assert anonymous.get(url).status_code == 404
    assert client_for(patient).get("/api/calendar/feed/").json()["active"] is False
    assert client_for(patient).delete("/api/calendar/feed/").status_code == 204


def test_fetch_records_last_fetched_at(client_for, anonymous, patient, feed_token):
    anonymous.get(feed_path(feed_token(patient)))
    assert client_for(patient).get("/api/calendar/feed/").json()["last_fetched_at"] == NOW.isoformat().replace(
        "+00:00", "Z"
    )


@pytest.mark.parametrize("method", ["get", "post", "delete"])
def test_anonymous_feed_api_401(anonymous, method):
    assert getattr(anonymous, method)("/api/calendar/feed/").status_code == 401


@pytest.mark.parametrize(
    "token",
    ["x", "A" * 42, "A" * 44, "%00" + "A" * 40, "A" * 40 + "%2F..", "ÿ" * 43, "A" * 5000, "..", ""],
)
def test_anonymous_bad_token_404_not_500(anonymous, token):
    r = anonymous.get(f"/calendar/{token}.ics")
    assert r.status_code == 404


def test_deactivated_user_feed_404(anonymous, patient, feed_token):
    token = feed_token(patient)
    patient.is_active = False
    patient.save(update_fields=["is_active"])
    assert anonymous.get(feed_path(token)).status_code == 404


def test_feed_ignores_authorization_header_and_odd_accept(anonymous, patient, feed_token):
    r = anonymous.get(
        feed_path(feed_token(patient)), HTTP_AUTHORIZATION="Bearer not-a-jwt", HTTP_ACCEPT="application/xml"
    )
    assert r.status_code == 200
    assert r["Content-Type"].startswith("text/calendar")


# --- What the feed holds -----------------------------------------------------------------------------


def test_patient_feed_holds_own_appointments_only_in_window(anonymous, london_doctor, patient, feed_token):
    mine = appointment(london_doctor, patient, at_london(dt.date(2026, 7, 10), 9), status=Status.CONFIRMED)
    too_old = appointment(london_doctor, patient, NOW - dt.timedelta(days=31))
    too_far = appointment(london_doctor, patient, NOW + dt.timedelta(days=181))
    others = appointment(london_doctor, PatientFactory(), at_london(dt.date(2026, 7, 10), 10))
    other_doctors = appointment(DoctorFactory(), PatientFactory(), at_london(dt.date(2026, 7, 11), 10))
    r = anonymous.get(feed_path(feed_token(patient)))
    assert r.status_code == 200
    assert r["Content-Type"].startswith("text/calendar")
    found = events(r.content)
    uid = f"appointment-{mine.pk}@127.0.0.1"
    assert set(found) == {uid}
    for excluded in (too_old, too_far, others, other_doctors):
        assert f"appointment-{excluded.pk}@" not in r.content.decode()
    event = found[uid]
    assert str(event["SUMMARY"]) == "Appointment with Dr Ada Lovelace (Central Clinic)"
    assert str(event["LOCATION"]) == "1 Health Street"
    assert str(event["STATUS"]) == "CONFIRMED"
    assert int(event["SEQUENCE"]) == 0
    assert event.decoded("DTSTART") == dt.datetime(2026, 7, 10, 9, tzinfo=LONDON)
    assert event["DTSTART"].params["TZID"] == "Europe/London"


def test_doctor_feed_names_patients_and_hides_medical_text(anonymous, london_doctor, feed_token):
    patient = PatientFactory(first_name="Grace", last_name="Hopper")
    appointment(london_doctor, patient, at_london(dt.date(2026, 7, 10), 9), reason_for_visit="Chest pain, HIV test")
    r = anonymous.get(feed_path(feed_token(london_doctor)))
    (event,) = events(r.content).values()
    assert str(event["SUMMARY"]) == "Appointment with Grace Hopper (Central Clinic)"
    assert str(event["STATUS"]) == "TENTATIVE"
    assert b"Chest" not in r.content
    assert b"HIV" not in r.content
    assert "DESCRIPTION" not in event


def test_feed_carries_refresh_hints_and_vtimezone(anonymous, london_doctor, patient, feed_token):
    appointment(london_doctor, patient, at_london(dt.date(2026, 7, 10), 9))
    body = anonymous.get(feed_path(feed_token(patient))).content
    cal = parse(body)
    assert cal.decoded("REFRESH-INTERVAL") == dt.timedelta(hours=1)
    assert cal["REFRESH-INTERVAL"].params["VALUE"] == "DURATION"
    assert b"\r\nX-PUBLISHED-TTL:PT1H\r\n" in body
    assert str(cal["METHOD"]) == "PUBLISH"
    assert [str(tz["TZID"]) for tz in cal.walk("VTIMEZONE")] == ["Europe/London"]


def test_dst_crossing_appointment_keeps_local_time(anonymous, london_doctor, patient, feed_token):
    # Booked in summer (BST, UTC+1) for after the October change (GMT): 09:00 London is 09:00 UTC then.
    after_change = appointment(london_doctor, patient, at_london(dt.date(2026, 11, 2), 9), status=Status.CONFIRMED)
    assert after_change.start == dt.datetime(2026, 11, 2, 9, tzinfo=dt.UTC)
    body = anonymous.get(feed_path(feed_token(patient))).content
    assert b"DTSTART;TZID=Europe/London:20261102T090000" in body
    (event,) = events(body).values()
    local = event.decoded("DTSTART")
    assert (local.hour, local.minute, local.utcoffset()) == (9, 0, dt.timedelta(0))


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        (Status.PENDING, "TENTATIVE"),
        (Status.CONFIRMED, "CONFIRMED"),
        (Status.COMPLETED, "CONFIRMED"),
        (Status.NO_SHOW, "CONFIRMED"),
        (Status.CANCELLED, "CANCELLED"),
        (Status.REFERRED, "CANCELLED"),
    ],
)
def test_feed_maps_every_status(anonymous, london_doctor, patient, feed_token, status, expected):
    appointment(london_doctor, patient, NOW - dt.timedelta(days=1), status=status)
    (event,) = events(anonymous.get(feed_path(feed_token(patient))).content).values()
    assert str(event["STATUS"]) == expected


def test_cancelled_appointment_stays_30_days_after_cancellation(anonymous, london_doctor, patient, feed_token):
    recent = appointment(london_doctor, patient, NOW + dt.timedelta(days=5), status=Status.CANCELLED)
    stale = appointment(london_doctor, patient, NOW + dt.timedelta(days=6), status=Status.CANCELLED)
    type(stale).objects.filter(pk=stale.pk).update(updated_at=NOW - dt.timedelta(days=31))
    found = events(anonymous.get(feed_path(feed_token(patient))).content)
    assert set(found) == {f"appointment-{recent.pk}@127.0.0.1"}


def test_feed_queries_capped_whatever_the_size(anonymous, django_assert_max_num_queries, feed_token):
    doctor = DoctorFactory()
    patients = PatientFactory.create_batch(5)
    for i in range(60):
        appointment(doctor, patients[i % 5], NOW + dt.timedelta(days=1 + i // 10, hours=i % 10))
    path = feed_path(feed_token(doctor))
    with django_assert_max_num_queries(5):
        r = anonymous.get(path)
    assert len(events(r.content)) == 60


def test_feed_after_one_change_renders_and_loads_only_that_event(anonymous, monkeypatch, feed_token):
    from calendars import ics, selectors

    doctor, patient = DoctorFactory(), PatientFactory()
    appointments = [appointment(doctor, patient, NOW + dt.timedelta(days=1 + i)) for i in range(8)]
    path = feed_path(feed_token(doctor))
    first = anonymous.get(path)
    rendered, loaded = [], []
    event_of, calendar_events = ics.event_of, selectors.calendar_events
    monkeypatch.setattr(ics, "event_of", lambda a, **kw: rendered.append(a.pk) or event_of(a, **kw))
    monkeypatch.setattr(selectors, "calendar_events", lambda **kw: loaded.extend(kw["ids"]) or calendar_events(**kw))
    moved = appointments[3]
    type(moved).objects.filter(pk=moved.pk).update(location="Room 7", updated_at=NOW + dt.timedelta(seconds=5))
    second = anonymous.get(path)
    assert (rendered, loaded) == ([moved.pk], [moved.pk])
    assert second.content.count(b"BEGIN:VEVENT") == 8
    assert b"Room 7" in second.content
    assert b"Room 7" not in first.content

    # Every other event's bytes are the ones served before.
    def others(content: bytes) -> list[bytes]:
        blocks = re.findall(rb"BEGIN:VEVENT.*?END:VEVENT", content, re.S)
        return [block for block in blocks if f"appointment-{moved.pk}@".encode() not in block]

    assert len(others(second.content)) == 7
    assert others(second.content) == others(first.content)


# --- Conditional requests ---------------------------------------------------------------------------


def test_feed_etag_304_then_change_200(anonymous, london_doctor, patient, feed_token):
    appt = appointment(london_doctor, patient, NOW + dt.timedelta(days=3))
    path = feed_path(feed_token(patient))
    first = anonymous.get(path)
    etag = first["ETag"]
    again = anonymous.get(path, HTTP_IF_NONE_MATCH=etag)
    assert (again.status_code, again.content) == (304, b"")
    assert again["ETag"] == etag
    type(appt).objects.filter(pk=appt.pk).update(status=Status.CONFIRMED, updated_at=NOW + dt.timedelta(seconds=5))
    changed = anonymous.get(path, HTTP_IF_NONE_MATCH=etag)
    assert changed.status_code == 200
    assert changed["ETag"] != etag


def test_feed_if_modified_since_304(anonymous, london_doctor, patient, feed_token):
    appointment(london_doctor, patient, NOW + dt.timedelta(days=3))
    path = feed_path(feed_token(patient))
    last_modified = anonymous.get(path)["Last-Modified"]
    assert anonymous.get(path, HTTP_IF_MODIFIED_SINCE=last_modified).status_code == 304
    earlier = http_date((NOW - dt.timedelta(hours=1)).timestamp())
    assert anonymous.get(path, HTTP_IF_MODIFIED_SINCE=earlier).status_code == 200


def test_new_appointment_changes_etag(anonymous, london_doctor, patient, feed_token):
    path = feed_path(feed_token(patient))
    etag = anonymous.get(path)["ETag"]
    appointment(london_doctor, patient, NOW + dt.timedelta(days=3))
    assert anonymous.get(path, HTTP_IF_NONE_MATCH=etag).status_code == 200


# --- Throttling and logs ----------------------------------------------------------------------------


def test_feed_throttled_per_client_address(settings, anonymous, patient, other_patient, feed_token):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {**settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], "calendar_feed": "2/min"},
    }
    mine, theirs = feed_path(feed_token(patient)), feed_path(feed_token(other_patient))
    codes = [anonymous.get(p, REMOTE_ADDR="198.51.100.7").status_code for p in (mine, theirs, "/calendar/x.ics")]
    assert codes == [200, 200, 429]
    assert anonymous.get(mine, REMOTE_ADDR="198.51.100.8").status_code == 200


def test_feed_token_never_logged(caplog, anonymous, patient, feed_token):
    token = feed_token(patient)
    unknown = "B" * 43
    with caplog.at_level(logging.INFO):
        assert anonymous.get(feed_path(token)).status_code == 200
        assert anonymous.get(feed_path(unknown)).status_code == 404
        assert anonymous.post(feed_path(token)).status_code == 405  # Django's own warning line names the path
    assert token not in caplog.text
    assert unknown not in caplog.text
    access = [r for r in caplog.records if r.name == "cybermed.access"]
    assert [r.getMessage().split()[:3] for r in access] == [
        ["GET", "/calendar/<redacted>.ics", "200"],
        ["GET", "/calendar/<redacted>.ics", "404"],
        ["POST", "/calendar/<redacted>.ics", "405"],
    ]
    assert any(r.name == "django.request" and "/calendar/<redacted>.ics" in r.getMessage() for r in caplog.records)
