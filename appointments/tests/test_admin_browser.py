"""Real-browser tests of the front desk (Playwright driving Debian's chromium), with screenshots.

Screenshots (the root conftest's `screenshot` fixture) go to the test's tmp_path and, when SCREENSHOT_DIR
is set, there too, so that a person can look at them.
"""

import datetime as dt

import pytest
from django.utils import timezone

from appointments.choices import Status
from appointments.models import Appointment, AvailabilityRule
from appointments.tests.factories import AppointmentFactory
from users.tests.factories import DoctorFactory, PatientFactory, StaffFactory

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("open_week"),
]
ZONE = dt.timezone(dt.timedelta(hours=9))  # Asia/Tokyo has no DST
PASSWORD = "front-desk-pass-1"


@pytest.fixture
def page(browser, live_server):
    page = browser.new_page(viewport={"width": 1366, "height": 900})
    page.set_default_timeout(15_000)
    return page


@pytest.fixture
def scene():
    doctor = DoctorFactory(first_name="Aiko", last_name="Sato", doctor_profile__timezone="Asia/Tokyo")
    AvailabilityRule.objects.bulk_create(
        AvailabilityRule(doctor=doctor, weekday=day, start_time=dt.time(9), end_time=dt.time(13)) for day in range(7)
    )
    jane = PatientFactory(first_name="Jane", last_name="Doe", email="jane@example.com")
    desk = StaffFactory(first_name="Rita", last_name="Desk", is_superuser=True)
    desk.set_password(PASSWORD)
    desk.save()
    tomorrow = timezone.now().astimezone(ZONE).date() + dt.timedelta(days=1)
    return {"doctor": doctor, "jane": jane, "desk": desk, "day": tomorrow}


def at(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=ZONE)


def sign_in(page, live_server, user) -> None:
    page.goto(f"{live_server.url}/admin/login/")
    page.fill("#id_username", user.email)
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_selector("#site-name")


def test_browser_schedule_week_shows_zone(page, live_server, scene, screenshot):
    doctor, day = scene["doctor"], scene["day"]
    AppointmentFactory(doctor=doctor, patient=scene["jane"], start=at(day, 10, 30), status=Status.CONFIRMED)
    AppointmentFactory(doctor=doctor, start=at(day, 11), status=Status.CANCELLED)
    sign_in(page, live_server, scene["desk"])
    page.goto(f"{live_server.url}/admin/appointments/appointment/schedule/?doctor={doctor.pk}&span=week&date={day}")
    zone_note = page.locator(f"#doctor-{doctor.pk} .cm-zone")
    assert "Asia/Tokyo" in zone_note.inner_text()
    today = timezone.now().astimezone(ZONE).date()
    assert f"{today:%B} {today.year}" in zone_note.inner_text()
    item = page.locator("a.cm-appt", has_text="Jane Doe")
    assert "10:30–11:00" in item.inner_text()
    assert page.locator("a.cm-free").count() > 0
    assert "CyberMed" in page.locator("#site-name").inner_text()
    screenshot(page, "schedule-week")
    item.click()
    page.wait_for_selector(".field-when")
    assert "10:30–11:00 (Asia/Tokyo)" in page.locator(".field-when").inner_text()
    screenshot(page, "appointment-detail")


def test_browser_book_patient_into_free_slot(page, live_server, scene, screenshot):
    doctor, day, jane = scene["doctor"], scene["day"], scene["jane"]
    sign_in(page, live_server, scene["desk"])
    page.goto(f"{live_server.url}/admin/appointments/appointment/add/")
    page.click(".field-patient .select2-selection")
    page.fill(".select2-search__field", "jane")
    page.click(".select2-results__option:has-text('jane@example.com')")
    page.select_option("#id_doctor", str(doctor.pk))
    page.fill("#id_date", day.isoformat())
    page.click("input[name=_slots]")
    page.wait_for_selector("#zone-note")
    assert "Asia/Tokyo" in page.locator("#zone-note").inner_text()
    page.click("label:has-text('10:30–11:00')")
    page.fill("#id_reason_for_visit", "Back pain")
    screenshot(page, "book-free-slots")
    page.click("input[name=_book]")
    page.wait_for_selector(".messagelist")
    assert "Booked." in page.locator(".messagelist").inner_text()
    screenshot(page, "book-done")
    appointment = Appointment.objects.get(patient=jane)
    assert (appointment.status, appointment.start, appointment.created_by) == (
        Status.CONFIRMED,
        at(day, 10, 30),
        scene["desk"],
    )
