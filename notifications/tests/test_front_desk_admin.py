"""The admin as a front desk: pages, permissions, and every change through the services."""

import datetime as dt
import re

import pytest
import time_machine
from django.contrib.auth.models import Permission
from django.test import Client
from django.urls import reverse

from appointments.choices import Status
from appointments.models import Appointment, AvailabilityRule, StatusChange
from appointments.tests.factories import AppointmentFactory
from notifications.models import Notification
from notifications.tests.factories import NotificationFactory
from users.tests.factories import DoctorFactory, PatientFactory, StaffFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("open_week")]

# Tuesday 1 December 2026, 23:30 UTC: already Wednesday 2 December in Tokyo (UTC+9).
NOW = dt.datetime(2026, 12, 1, 23, 30, tzinfo=dt.UTC)
TOKYO_TODAY = dt.date(2026, 12, 2)
FRONT_DESK_PERMISSIONS = ["view_appointment", "change_appointment", "add_appointment", "view_user"]


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def tokyo_doctor():
    doctor = DoctorFactory(first_name="Aiko", last_name="Sato", doctor_profile__timezone="Asia/Tokyo")
    AvailabilityRule.objects.bulk_create(
        AvailabilityRule(doctor=doctor, weekday=day, start_time=dt.time(9), end_time=dt.time(17)) for day in range(7)
    )
    return doctor


@pytest.fixture
def jane():
    return PatientFactory(first_name="Jane", last_name="Doe", email="jane@example.com")


def tokyo(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=dt.timezone(dt.timedelta(hours=9)))


@pytest.fixture
def desk():
    """A receptionist: staff with the front desk's model permissions, not a superuser."""
    user = StaffFactory(first_name="Rita", last_name="Desk")
    user.user_permissions.set(Permission.objects.filter(codename__in=FRONT_DESK_PERMISSIONS))
    return user


ACTORS = ["superuser", "desk", "bare_staff", "doctor", "patient", "anonymous"]


def login(request, who: str) -> Client:
    client = Client()
    user = {
        "superuser": lambda: StaffFactory(is_superuser=True),
        "desk": lambda: request.getfixturevalue("desk"),
        "bare_staff": StaffFactory,
        "doctor": DoctorFactory,
        "patient": PatientFactory,
        "anonymous": lambda: None,
    }[who]()
    if user is not None:
        client.force_login(user)
    return client


@pytest.fixture
def upcoming(tokyo_doctor, jane):
    return AppointmentFactory(
        doctor=tokyo_doctor, patient=jane, start=tokyo(TOKYO_TODAY + dt.timedelta(days=1), 10, 30), status="pending"
    )


def pages(appointment: Appointment) -> list[str]:
    return [
        reverse("admin:appointments_appointment_changelist"),
        reverse("admin:appointments_appointment_change", args=[appointment.pk]),
        reverse("admin:appointments_appointment_add"),
        reverse("admin:appointments_appointment_schedule") + f"?doctor={appointment.doctor_id}",
        reverse("admin:appointments_appointment_confirm", args=[appointment.pk]),
        reverse("admin:appointments_appointment_cancel", args=[appointment.pk]),
        reverse("admin:appointments_appointment_reschedule", args=[appointment.pk]),
        reverse("admin:appointments_appointment_no_show", args=[appointment.pk]),
        reverse("admin:users_user_change", args=[appointment.patient_id]),
        reverse("admin:notifications_notification_changelist"),
    ]


@pytest.mark.parametrize("who", ACTORS)
def test_front_desk_pages_permission_matrix(request, upcoming, who):
    client = login(request, who)
    for url in pages(upcoming):
        r = client.get(url)
        if who in ("superuser", "desk"):
            expected = 403 if (who == "desk" and "notification" in url) else 200
        elif who == "bare_staff":
            expected = 403
        else:
            expected = 302
        assert r.status_code == expected, url
        if r.status_code == 302:
            assert "/admin/login/" in r["Location"]
        if r.status_code == 403:  # the admin's own page, never JSON
            assert r["Content-Type"].startswith("text/html")
            assert b"Permission denied" in r.content
            assert b"CyberMed" in r.content


@pytest.mark.parametrize("who", ["bare_staff", "doctor", "patient", "anonymous"])
def test_front_desk_changes_refused_without_permission(request, upcoming, who):
    client = login(request, who)
    url = reverse("admin:appointments_appointment_confirm", args=[upcoming.pk])
    assert client.post(url).status_code in (302, 403)
    upcoming.refresh_from_db()
    assert upcoming.status == Status.PENDING
    assert not StatusChange.objects.exists()


def test_list_shows_doctor_zone_names_and_status(client, desk, upcoming):
    client.force_login(desk)
    html = client.get(reverse("admin:appointments_appointment_changelist")).content.decode()
    assert "Thu 3 Dec 2026, 10:30–11:00 (Asia/Tokyo)" in html
    assert "Jane Doe" in html
    assert "jane@example.com" in html
    assert "Aiko Sato" in html
    assert "Pending" in html
    assert "CyberMed" in html
    assert "Book an appointment" in html


def test_detail_shows_local_time_and_the_actions(client, desk, upcoming):
    client.force_login(desk)
    html = client.get(reverse("admin:appointments_appointment_change", args=[upcoming.pk])).content.decode()
    assert "Thu 3 Dec 2026, 10:30–11:00 (Asia/Tokyo)" in html
    # Created now (23:30 UTC on the 1st): the same wall clock and zone, not a bare UTC time.
    assert html.count("Wed 2 Dec 2026, 08:30 (Asia/Tokyo)") == 2  # created at, updated at
    for name in ("confirm", "cancel", "reschedule"):
        assert reverse(f"admin:appointments_appointment_{name}", args=[upcoming.pk]) in html


def test_desk_books_a_patient_into_a_free_slot(client, desk, tokyo_doctor, jane, django_capture_on_commit_callbacks):
    client.force_login(desk)
    url = reverse("admin:appointments_appointment_add")
    r = client.get(url, {"doctor": tokyo_doctor.pk, "date": "2026-12-03"})
    html = r.content.decode()
    assert r.status_code == 200
    assert "Asia/Tokyo" in html
    assert "Wednesday 2 December 2026" in html
    start = tokyo(dt.date(2026, 12, 3), 10, 30)
    assert f'value="{start.astimezone(dt.UTC).isoformat()}"' in html
    assert "10:30–11:00" in html
    body = {
        "patient": jane.pk,
        "doctor": tokyo_doctor.pk,
        "date": "2026-12-03",
        "start": start.astimezone(dt.UTC).isoformat(),
        "reason_for_visit": "Back pain",
        "_book": "Book",
    }
    with django_capture_on_commit_callbacks(execute=True):
        r = client.post(url, body, follow=True)
    appointment = Appointment.objects.get()
    assert (appointment.status, appointment.created_by, appointment.start) == (Status.CONFIRMED, desk, start)
    assert "Booked." in r.content.decode()
    assert set(Notification.objects.values_list("user", flat=True)) == {jane.pk, tokyo_doctor.pk}


def test_desk_booking_a_taken_slot_gets_a_message_not_an_error_page(client, desk, tokyo_doctor, jane):
    client.force_login(desk)
    start = tokyo(dt.date(2026, 12, 3), 10, 30)
    AppointmentFactory(doctor=tokyo_doctor, start=start, status=Status.CONFIRMED)
    body = {"patient": jane.pk, "doctor": tokyo_doctor.pk, "date": "2026-12-03", "_book": "Book"}
    r = client.post(reverse("admin:appointments_appointment_add"), {**body, "start": start.isoformat()})
    assert r.status_code == 200
    assert r["Content-Type"].startswith("text/html")
    assert "Select a valid choice" in r.content.decode()  # the slot is no longer offered
    assert Appointment.objects.filter(patient=jane).count() == 0


def test_desk_booking_conflict_from_the_service_is_a_message(client, desk, tokyo_doctor, jane, monkeypatch):
    from appointments import services
    from cybermed.exceptions import BookingLimit

    def refuse(**kwargs):
        raise BookingLimit("The patient holds too many appointments.")

    monkeypatch.setattr(services, "appointment_book", refuse)
    client.force_login(desk)
    start = tokyo(dt.date(2026, 12, 3), 10, 30).astimezone(dt.UTC).isoformat()
    body = {"patient": jane.pk, "doctor": tokyo_doctor.pk, "date": "2026-12-03", "start": start, "_book": "Book"}
    r = client.post(reverse("admin:appointments_appointment_add"), body)
    assert r.status_code == 200
    assert "The patient holds too many appointments." in r.content.decode()


def test_history_rows_show_the_doctors_wall_clock(client, desk, upcoming):
    StatusChange.objects.create(appointment=upcoming, from_status="", to_status="pending", by=desk)
    desk.user_permissions.add(Permission.objects.get(codename="view_statuschange"))
    client.force_login(desk)
    html = client.get(reverse("admin:appointments_appointment_change", args=[upcoming.pk])).content.decode()
    assert html.count("Wed 2 Dec 2026, 08:30 (Asia/Tokyo)") == 3  # created, updated and the history row
    assert "Rita Desk" in html  # who acted, by name


def test_desk_confirms_reschedules_and_cancels_with_reason(client, desk, upcoming, django_capture_on_commit_callbacks):
    client.force_login(desk)
    with django_capture_on_commit_callbacks(execute=True):
        r = client.post(reverse("admin:appointments_appointment_confirm", args=[upcoming.pk]), follow=True)
    assert "Confirmed." in r.content.decode()
    new_start = tokyo(dt.date(2026, 12, 4), 14)
    url = reverse("admin:appointments_appointment_reschedule", args=[upcoming.pk])
    html = client.get(url, {"date": "2026-12-04"}).content.decode()
    assert "14:00–14:30" in html
    assert "Asia/Tokyo" in html
    with django_capture_on_commit_callbacks(execute=True):
        r = client.post(
            url, {"date": "2026-12-04", "start": new_start.astimezone(dt.UTC).isoformat(), "_move": "1"}, follow=True
        )
    assert "Rescheduled." in r.content.decode()
    cancel = reverse("admin:appointments_appointment_cancel", args=[upcoming.pk])
    r = client.post(cancel, {"reason": ""})
    assert r.status_code == 200
    assert "This field is required" in r.content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        r = client.post(cancel, {"reason": "Doctor called in sick"}, follow=True)
    assert "Cancelled." in r.content.decode()
    upcoming.refresh_from_db()
    assert (upcoming.status, upcoming.start, upcoming.cancellation_reason) == (
        Status.CANCELLED,
        new_start,
        "Doctor called in sick",
    )
    history = list(StatusChange.objects.filter(appointment=upcoming).values_list("to_status", "by"))
    assert history == [("confirmed", desk.pk), ("confirmed", desk.pk), ("cancelled", desk.pk)]
    kinds = Notification.objects.values_list("kind", "user")
    for kind in ("appointment_confirmed", "appointment_rescheduled", "appointment_cancelled"):
        assert {user for k, user in kinds if k == kind} == {upcoming.patient_id, upcoming.doctor_id}


def test_desk_conflicting_move_is_an_admin_message(client, desk, upcoming):
    client.force_login(desk)
    upcoming.status = Status.COMPLETED
    upcoming.save()
    r = client.post(reverse("admin:appointments_appointment_confirm", args=[upcoming.pk]), follow=True)
    assert r.status_code == 200
    assert "cannot go from completed to confirmed" in r.content.decode()
    r = client.post(reverse("admin:appointments_appointment_no_show", args=[upcoming.pk]), follow=True)
    assert "cannot go from completed to no_show" in r.content.decode()


def test_desk_marks_yesterdays_no_show_from_the_list(client, desk, tokyo_doctor, jane):
    client.force_login(desk)
    missed = AppointmentFactory(
        doctor=tokyo_doctor, patient=jane, start=tokyo(dt.date(2026, 12, 1), 10), status="confirmed"
    )
    future = AppointmentFactory(doctor=tokyo_doctor, start=tokyo(dt.date(2026, 12, 5), 10), status="confirmed")
    r = client.post(
        reverse("admin:appointments_appointment_changelist"),
        {"action": "no_show_selected", "_selected_action": [missed.pk, future.pk]},
        follow=True,
    )
    html = r.content.decode()
    assert "Marked as no-show 1 appointment(s)." in html
    assert f"#{future.pk}: This can only be done once the appointment has started." in html
    missed.refresh_from_db()
    future.refresh_from_db()
    assert (missed.status, future.status) == (Status.NO_SHOW, Status.CONFIRMED)


def test_desk_confirms_from_the_list(client, desk, upcoming):
    client.force_login(desk)
    client.post(
        reverse("admin:appointments_appointment_changelist"),
        {"action": "confirm_selected", "_selected_action": [upcoming.pk]},
    )
    upcoming.refresh_from_db()
    assert upcoming.status == Status.CONFIRMED


def test_desk_list_cancel_asks_for_a_reason_then_cancels(client, desk, upcoming):
    client.force_login(desk)
    url = reverse("admin:appointments_appointment_changelist")
    r = client.post(url, {"action": "cancel_selected", "_selected_action": [upcoming.pk]})
    assert r.status_code == 200
    assert "Reason" in r.content.decode()
    upcoming.refresh_from_db()
    assert upcoming.status == Status.PENDING
    r = client.post(url, {"action": "cancel_selected", "_selected_action": [upcoming.pk], "apply": "1", "reason": ""})
    assert r.status_code == 200
    r = client.post(
        url, {"action": "cancel_selected", "_selected_action": [upcoming.pk], "apply": "1", "reason": "Closed"}
    )
    assert r.status_code == 302
    upcoming.refresh_from_db()
    assert (upcoming.status, upcoming.cancellation_reason) == (Status.CANCELLED, "Closed")


def test_schedule_week_in_the_doctors_zone_with_todays_date_there(client, desk, upcoming, tokyo_doctor):
    client.force_login(desk)
    r = client.get(reverse("admin:appointments_appointment_schedule"), {"doctor": tokyo_doctor.pk, "span": "week"})
    html = r.content.decode()
    assert "Asia/Tokyo" in html
    assert "UTC+0900" in html
    assert "Wednesday 2 December 2026" in html  # the UTC date is still Tuesday 1 December
    assert "Wed 2 Dec (today)" in html
    assert re.search(r"10:30–11:00 <strong[^>]*>Pending</strong><br>Jane Doe", html)
    assert "09:00–09:30 free</a>" in html
    assert reverse("admin:appointments_appointment_change", args=[upcoming.pk]) in html


def test_schedule_by_specialty_and_day(client, desk, tokyo_doctor, upcoming):
    other = DoctorFactory(doctor_profile__specialty=tokyo_doctor.doctor_profile.specialty, last_name="Other")
    client.force_login(desk)
    r = client.get(
        reverse("admin:appointments_appointment_schedule"),
        {"specialty": tokyo_doctor.doctor_profile.specialty_id, "span": "day", "date": "2026-12-03"},
    )
    html = r.content.decode()
    assert f'id="doctor-{tokyo_doctor.pk}"' in html
    assert f'id="doctor-{other.pk}"' in html
    assert "Thu 3 Dec" in html
    assert "Fri 4 Dec" not in html


def test_schedule_of_a_busy_week_takes_few_queries(client, desk, tokyo_doctor, django_assert_max_num_queries):
    monday = dt.date(2026, 11, 30)
    for day in range(7):
        for hour in range(9, 17):
            AppointmentFactory(
                doctor=tokyo_doctor,
                start=tokyo(monday + dt.timedelta(days=day), hour),
                status=[Status.CONFIRMED, Status.PENDING, Status.CANCELLED, Status.COMPLETED][hour % 4],
            )
    client.force_login(desk)
    url = reverse("admin:appointments_appointment_schedule")
    with django_assert_max_num_queries(10):
        r = client.get(url, {"doctor": tokyo_doctor.pk, "span": "week", "date": "2026-12-02"})
    assert r.content.decode().count("cm-item cm-appt") == 56


def test_patient_and_doctor_pages_list_their_appointments(client, desk, upcoming):
    client.force_login(desk)
    link = reverse("admin:appointments_appointment_change", args=[upcoming.pk])
    for user_id in (upcoming.patient_id, upcoming.doctor_id):
        html = client.get(reverse("admin:users_user_change", args=[user_id])).content.decode()
        assert link in html
        assert "Thu 3 Dec 2026, 10:30–11:00 (Asia/Tokyo)" in html


def test_patient_autocomplete_offers_patients_only(client, desk, jane, tokyo_doctor):
    client.force_login(desk)
    r = client.get(
        reverse("admin:autocomplete"),
        {"app_label": "appointments", "model_name": "appointment", "field_name": "patient", "term": ""},
    )
    ids = {int(row["id"]) for row in r.json()["results"]}
    assert jane.pk in ids
    assert tokyo_doctor.pk not in ids
    assert desk.pk not in ids


def test_notifications_and_history_are_read_only(client, upcoming):
    client.force_login(StaffFactory(is_superuser=True))
    notification = NotificationFactory(user=upcoming.patient)
    url = reverse("admin:notifications_notification_change", args=[notification.pk])
    html = client.get(url).content.decode()
    assert 'name="_save"' not in html
    assert client.post(url, {"title": "forged"}).status_code == 403
    assert client.get(reverse("admin:notifications_notification_add")).status_code == 403
    assert client.get(reverse("admin:appointments_statuschange_add")).status_code == 403
    assert client.get(reverse("admin:notifications_remindersent_add")).status_code == 403
    notification.refresh_from_db()
    assert notification.title != "forged"
