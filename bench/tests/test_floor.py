"""The floors are honest: for the same user each returns the API's page (rows, count, page links), and the
pages `full_pages()` prepares are full; `delete_bench_rows()` removes exactly what the bench added."""

import datetime as dt
from decimal import Decimal
from urllib.parse import parse_qs, urlsplit

import pytest
from django.test import Client, override_settings
from django.utils import timezone
from rest_framework.test import APIClient

from appointments.models import Appointment, StatusChange
from bench.fixtures import BENCH_TAG, access_token, delete_bench_rows, full_pages
from bench.management.commands.seed_bench import Command as SeedBench
from messaging.choices import MessageStatus
from messaging.models import Message, Thread
from notifications.models import Notification
from payments.models import Payment
from users.models import DoctorProfile, User

pytestmark = pytest.mark.django_db
PAGE = 5


@pytest.fixture
def pages():  # noqa: ANN201 - a FullPages
    from django.core.management import call_command

    call_command(SeedBench(), doctors=12, patients=40, appointments=300, seed=7, verbosity=0)
    return full_pages(page=PAGE)


def api(path: str, user_id: int) -> dict:
    client = APIClient()
    response = client.get(path, HTTP_AUTHORIZATION=f"Bearer {access_token(user_id)}")
    assert response.status_code == 200, response.content
    return response.json()


@override_settings(ROOT_URLCONF="bench.urls")
def floor(path: str) -> dict:
    response = Client().get(path)
    assert response.status_code == 200, response.content
    return response.json()


def page_of(link: str | None) -> list[str] | None:
    """The link's query without the floor's own `user`/`role` (None when there is no link)."""
    if link is None:
        return None
    query = parse_qs(urlsplit(link).query)
    return sorted((k, v) for k, v in query.items() if k not in ("user", "role"))


def assert_same_pages(api_path: str, floor_path: str, user_id: int) -> int:
    """Pages 1 and (when there is one) 2 of both are the same; the first is full. Returns the pages compared."""
    page, ours = 0, {"next": "first"}
    while ours["next"] is not None and page < 2:
        page += 1
        ours, theirs = api(f"{api_path}&page={page}", user_id), floor(f"{floor_path}&page={page}")
        assert theirs["results"] == ours["results"]
        assert theirs["count"] == ours["count"]
        assert page_of(theirs["next"]) == page_of(ours["next"])
        assert page_of(theirs["previous"]) == page_of(ours["previous"])
        if page == 1:
            assert len(ours["results"]) == PAGE
    return page


def test_appointment_floor_matches_the_api_for_patient_and_doctor(pages) -> None:
    # Optional fields filled in on the patient's page: a payment and both ends of a referral.
    first, second = Appointment.objects.filter(patient_id=pages.patient_id).order_by("start", "id")[:2]
    Payment.objects.create(
        appointment=first,
        amount=Decimal("40.00"),
        currency="EUR",
        hold_expires_at=timezone.now() + dt.timedelta(minutes=15),
    )
    Appointment.objects.filter(pk=second.pk).update(referred_from=first)

    assert (
        assert_same_pages(
            "/api/appointments/?page_size=5",
            f"/bench/floor/appointments/?user={pages.patient_id}&role=patient&page_size=5",
            pages.patient_id,
        )
        == 2
    )
    assert (
        assert_same_pages(
            "/api/appointments/?page_size=5",
            f"/bench/floor/appointments/?user={pages.doctor_id}&role=doctor&page_size=5",
            pages.doctor_id,
        )
        == 2
    )
    rows = api("/api/appointments/?page_size=5", pages.patient_id)["results"]
    assert rows[0]["payment"]["status"] == "awaiting_payment"
    assert rows[0]["referred_to"] == second.pk


def test_directory_floor_matches_the_api(pages) -> None:
    # A doctor without a specialty and one with a picture, on the first page (sorted by name).
    first, second = User.objects.filter(doctor_profile__is_verified=True).order_by("last_name", "first_name", "pk")[:2]
    DoctorProfile.objects.filter(user=first).update(specialty=None)
    User.objects.filter(pk=second.pk).update(profile_picture="profile_pictures/bench.png")

    assert assert_same_pages("/api/doctors/?page_size=5", "/bench/floor/doctors/?page_size=5", pages.patient_id) == 2
    rows = api("/api/doctors/?page_size=5", pages.patient_id)["results"]
    assert rows[0]["specialty"] is None
    assert rows[1]["profile_picture"].endswith("/profile_pictures/bench.png")


def test_notification_floor_matches_the_api(pages) -> None:
    assert Notification.objects.filter(user_id=pages.patient_id, is_read=True).exists()

    assert_same_pages(
        "/api/notifications/?page_size=5",
        f"/bench/floor/notifications/?user={pages.patient_id}&page_size=5",
        pages.patient_id,
    )


def test_thread_floor_matches_the_api_for_both_participants(pages) -> None:
    # One thread whose last message is retracted (its body hidden) and one with a message from the patient.
    threads = list(Thread.objects.filter(patient_id=pages.patient_id).order_by("-updated_at", "-id"))
    Message.objects.filter(pk=threads[0].last_message_id).update(
        status=MessageStatus.RETRACTED, retracted_at=timezone.now()
    )
    Message.objects.create(thread=threads[1], sender_id=pages.patient_id, body=BENCH_TAG)

    assert_same_pages(
        "/api/threads/?page_size=5",
        f"/bench/floor/threads/?user={pages.patient_id}&role=patient&page_size=5",
        pages.patient_id,
    )
    rows = api("/api/threads/?page_size=5", pages.patient_id)["results"]
    assert rows[0]["last_message"]["body"] == ""
    assert rows[1]["unread"] == 1
    doctor = threads[1].doctor_id
    ours = api("/api/threads/?page_size=5", doctor)
    assert floor(f"/bench/floor/threads/?user={doctor}&role=doctor&page_size=5")["results"] == ours["results"]
    assert ours["results"][0]["unread"] == 1


def test_full_pages_adds_only_what_is_missing_and_the_cleanup_removes_it(pages) -> None:
    now = timezone.now()
    assert Appointment.objects.filter(patient_id=pages.patient_id, start__gte=now).count() >= PAGE
    assert Appointment.objects.filter(doctor_id=pages.doctor_id, start__gte=now).count() >= PAGE
    assert Notification.objects.filter(user_id=pages.patient_id).count() == PAGE
    assert Thread.objects.filter(patient_id=pages.patient_id).count() == PAGE
    # Every pair with a thread shares an appointment, as the messaging service requires.
    for thread in Thread.objects.filter(patient_id=pages.patient_id):
        assert Appointment.objects.filter(patient_id=thread.patient_id, doctor_id=thread.doctor_id).exists()

    again = full_pages(page=PAGE)
    assert again.created == {}
    assert again.patient_id == pages.patient_id

    seeded = Appointment.objects.exclude(reason_for_visit=BENCH_TAG).count()
    seeded_history = StatusChange.objects.exclude(appointment__reason_for_visit=BENCH_TAG).count()
    removed = delete_bench_rows()
    assert removed["appointments"] > 0
    assert removed["notifications"] == PAGE
    assert Appointment.objects.count() == seeded
    assert StatusChange.objects.count() == seeded_history
    assert not Notification.objects.exists()
    assert not Thread.objects.exists()
    assert not Message.objects.exists()
    assert delete_bench_rows() == {}
