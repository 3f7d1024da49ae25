"""Each list rendered from `.values()` rows (cybermed/api/lists.py) is byte for byte what its serializer renders.

The lists skip model instances and DRF fields for speed (issue 19); the serializers stay the contract. Each
test fills every optional and nested field both ways (set and empty), asks the API for a page, renders the
same rows, in the same order, through the serializer, and compares the two JSON documents as bytes.
"""

import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.core.files.base import ContentFile
from django.utils import timezone
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.test import APIRequestFactory

from appointments import selectors as appointment_selectors
from appointments.api.serializers import AppointmentSerializer, SlotSerializer, slot_rows
from appointments.choices import Status
from appointments.models import Appointment
from appointments.tests.factories import AppointmentFactory
from messaging import selectors as messaging_selectors
from messaging.api.serializers import ThreadSerializer
from messaging.choices import MessageStatus
from messaging.tests.factories import MessageFactory, ThreadFactory
from notifications import selectors as notification_selectors
from notifications.api.serializers import NotificationSerializer
from notifications.models import Notification
from payments.choices import PaymentStatus
from payments.models import Payment
from users import selectors as user_selectors
from users.api.serializers import DoctorSerializer
from users.models import User
from users.tests.factories import DoctorFactory, PatientFactory

pytestmark = pytest.mark.django_db


def serializer_json(serializer_class: type, rows: list, path: str) -> bytes:
    request = Request(APIRequestFactory().get(path))
    return JSONRenderer().render(serializer_class(rows, many=True, context={"request": request}).data)


def list_json(client, path: str) -> tuple[bytes, int, list[int]]:
    response = client.get(path)
    assert response.status_code == 200, response.content
    results = response.data["results"]
    return JSONRenderer().render(results), response.data["count"], [row["id"] for row in results]


def in_order(queryset, ids: list[int]) -> list:
    """The instances of `ids`, in that order (the page the list chose, for the serializer to render)."""
    by_id = queryset.in_bulk(ids)
    return [by_id[pk] for pk in ids]


def test_appointment_list_renders_what_the_serializer_renders(client_for, staff):
    now = timezone.now().replace(microsecond=123456)
    plain = DoctorFactory(doctor_profile__specialty=None, first_name="Ann", last_name="Nospecialty")
    specialist = DoctorFactory(first_name="Émile", last_name='O\'Brien "Quoted"')
    patient = PatientFactory(first_name="Zoë", last_name="Ünïcode")

    def appointment(doctor: User, days: int, **fields: object) -> Appointment:
        start = now + dt.timedelta(days=days)
        return AppointmentFactory(
            doctor=doctor, patient=patient, start=start, end=start + dt.timedelta(minutes=30), **fields
        )

    original = appointment(specialist, 1, status=Status.REFERRED, location="Room 4", reason_for_visit="Knee\npain")
    appointment(plain, 2, status=Status.CONFIRMED, referred_from=original, created_by=None)
    appointment(specialist, 3, status=Status.CANCELLED, cancellation_reason="Travel")
    paid = appointment(plain, 4)
    Payment.objects.create(
        appointment=paid,
        amount=Decimal("40.50"),
        currency="EUR",
        status=PaymentStatus.AWAITING_PAYMENT,
        hold_expires_at=now + dt.timedelta(minutes=15),
    )
    for user, query in [
        (patient, ""),
        (specialist, ""),
        (staff, ""),
        (staff, "status=confirmed,referred&ordering=-start"),
    ]:
        path = f"/api/appointments/?page_size=20&{query}"
        body, count, ids = list_json(client_for(user), path)
        visible = appointment_selectors.appointment_list_visible(user=user)
        if query:
            visible = visible.filter(status__in=[Status.CONFIRMED, Status.REFERRED]).order_by("-start", "id")
        else:
            visible = visible.order_by("start", "id")
        assert ids == [a.pk for a in visible]
        assert count == len(ids) > 0
        assert body == serializer_json(AppointmentSerializer, in_order(visible, ids), path)
    body, _, _ = list_json(client_for(patient), "/api/appointments/?page_size=20")
    rendered = body.decode()
    for piece in ('"specialty":null', '"referred_to":', '"created_by":null', '"amount":"40.50"', '"not_required"'):
        assert piece in rendered  # every optional branch was compared above


def test_directory_renders_what_the_serializer_renders(client_for, patient):
    with_picture = DoctorFactory(first_name="Pic", last_name="Aardvark")
    with_picture.profile_picture.save("face.png", ContentFile(b"\x89PNG fake"), save=True)
    DoctorFactory(first_name="No", last_name="Bspecialty", doctor_profile__specialty=None)
    DoctorFactory(first_name="Full", last_name="Cfields", doctor_profile__bio="Line one\nline two")
    for query in ["", "search=a&ordering=-experience_years"]:
        path = f"/api/doctors/?page_size=20&{query}"
        body, count, ids = list_json(client_for(patient), path)
        visible = user_selectors.doctor_list_visible()
        if not query:
            assert ids == [d.pk for d in visible.order_by("last_name", "first_name", "pk")]
        assert count == len(ids) > 0
        assert body == serializer_json(DoctorSerializer, in_order(visible, ids), path)
    assert b'"profile_picture":"http://testserver/' in body
    assert b'"specialty":null' in body


def test_notification_list_renders_what_the_serializer_renders(client_for, patient, doctor):
    appointment = AppointmentFactory(patient=patient, doctor=doctor)
    Notification.objects.create(user=patient, kind="appointment_booked", title="Booked", message="See you")
    Notification.objects.create(
        user=patient,
        kind="appointment_confirmed",
        title="Confirmed \u2713",
        message="Dr X confirmed",
        appointment=appointment,
        data={"nested": {"list": [1, 2.5, None, True]}, "text": "a\u00e9"},
        is_read=True,
    )
    for query in ["", "is_read=true"]:
        path = f"/api/notifications/?page_size=20&{query}"
        body, count, ids = list_json(client_for(patient), path)
        visible = notification_selectors.notification_list(user=patient)
        if query:
            visible = visible.filter(is_read=True)
        assert ids == [n.pk for n in visible]
        assert count == len(ids) > 0
        assert body == serializer_json(NotificationSerializer, in_order(visible, ids), path)
    assert b'"appointment":null' in list_json(client_for(patient), "/api/notifications/")[0]


def test_thread_list_renders_what_the_serializer_renders(client_for, patient):
    named = ThreadFactory(patient=patient, doctor=DoctorFactory(first_name="Ada", last_name="Lovelace"))
    unnamed = ThreadFactory(patient=patient, doctor=DoctorFactory(first_name="", last_name="", email="dr@example.com"))
    ThreadFactory(patient=patient)  # no message yet: last_message null
    for thread, status in [(named, MessageStatus.SENT), (unnamed, MessageStatus.RETRACTED)]:
        retracted_at = timezone.now() if status == MessageStatus.RETRACTED else None
        message = MessageFactory(
            thread=thread, sender=thread.doctor, body="Take two \u2014 daily", status=status, retracted_at=retracted_at
        )
        thread.last_message = message
        thread.updated_at = message.created_at
        thread.save()
    MessageFactory(thread=named, sender=patient)  # the patient's own: not unread
    for user in [patient, named.doctor]:
        path = "/api/threads/?page_size=20"
        body, count, ids = list_json(client_for(user), path)
        visible = messaging_selectors.thread_list(user=user)
        assert ids == [t.pk for t in visible]
        assert count == len(ids) > 0
        # What the detail responses serialize (opening a thread): thread_get's instance, its `unread` the caller's.
        threads = [messaging_selectors.thread_get(user=user, pk=pk) for pk in ids]
        assert body == serializer_json(ThreadSerializer, threads, path)
    body = list_json(client_for(patient), "/api/threads/")[0]
    for piece in (b'"last_message":null', b'"body":""', b'"doctor_name":"Dr dr@example.com"', b'"unread":1'):
        assert piece in body


def test_slots_render_what_the_serializer_renders():
    utc = dt.UTC
    slots = [
        (dt.datetime(2030, 3, 31, 0, 30, tzinfo=utc), dt.datetime(2030, 3, 31, 1, 0, tzinfo=utc)),  # DST night
        (dt.datetime(2030, 3, 31, 1, 0, tzinfo=utc), dt.datetime(2030, 3, 31, 1, 30, 0, 5, tzinfo=utc)),
        (dt.datetime(2030, 7, 1, 8, 0, tzinfo=utc), dt.datetime(2030, 7, 1, 8, 20, tzinfo=utc)),
    ]
    for zone in (ZoneInfo("Europe/London"), ZoneInfo("Asia/Kolkata"), ZoneInfo("UTC")):
        local = [{"start": a.astimezone(zone), "end": b.astimezone(zone)} for a, b in slots]
        expected = JSONRenderer().render(SlotSerializer(local, many=True).data)
        assert JSONRenderer().render(slot_rows(slots, zone=zone)) == expected
    assert b"+01:00" in JSONRenderer().render(slot_rows(slots, zone=ZoneInfo("Europe/London")))
    assert b'Z"' in JSONRenderer().render(slot_rows(slots, zone=ZoneInfo("UTC")))
