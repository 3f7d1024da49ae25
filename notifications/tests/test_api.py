"""The notifications endpoints: scoping, marking read, preferences, bad input."""

import pytest

from notifications.models import Notification, NotificationPreference
from notifications.tests.factories import NotificationFactory
from users.tests.factories import PatientFactory

pytestmark = pytest.mark.django_db

URL = "/api/notifications/"


def make(user, n: int = 1, **kwargs) -> list[Notification]:
    return NotificationFactory.create_batch(n, user=user, **{"data": {"k": "v"}, **kwargs})


# --- list -------------------------------------------------------------------------------------------


def test_user_lists_own_notifications_newest_first(client_for, patient, other_patient):
    mine = make(patient, 3)
    make(other_patient, 2)

    r = client_for(patient).get(URL)

    assert r.status_code == 200
    body = r.json()
    assert body["count"] == 3
    assert [n["id"] for n in body["results"]] == [n.pk for n in reversed(mine)]
    assert set(body["results"][0]) == {"id", "kind", "title", "message", "appointment", "data", "is_read", "created_at"}
    assert body["results"][0]["data"] == {"k": "v"}


@pytest.mark.parametrize(
    ("value", "expected_read"),
    [("true", True), ("false", False), ("True", True), ("FALSE", False), ("1", True), ("0", False)],
)
def test_user_filters_notifications_by_is_read(value, expected_read, client_for, patient):
    make(patient, 2, is_read=True)
    make(patient, 3, is_read=False)

    r = client_for(patient).get(URL, {"is_read": value})

    assert r.status_code == 200
    assert r.json()["count"] == (2 if expected_read else 3)
    assert {n["is_read"] for n in r.json()["results"]} == {expected_read}


@pytest.mark.parametrize("value", ["maybe", "yes", "2", "\x00", "true\x00"])
def test_user_filtering_by_garbage_is_read_gets_400(client_for, patient, value):
    r = client_for(patient).get(URL, {"is_read": value})

    assert r.status_code == 400
    assert "is_read" in r.json()


def test_user_pages_through_notifications(client_for, patient):
    make(patient, 5)

    r = client_for(patient).get(URL, {"page_size": 2, "page": 2})

    assert r.status_code == 200
    assert r.json()["count"] == 5
    assert len(r.json()["results"]) == 2
    assert r.json()["next"] is not None
    assert r.json()["previous"] is not None


def test_user_asking_for_page_past_the_end_gets_404(client_for, patient):
    make(patient, 1)

    assert client_for(patient).get(URL, {"page": 9}).status_code == 404


def test_anonymous_listing_notifications_gets_401(client_for):
    assert client_for(None).get(URL).status_code == 401


def test_user_lists_notifications_in_bounded_queries(client_for, patient, doctor, django_assert_max_num_queries):
    from appointments.tests.factories import AppointmentFactory, next_slot

    for i in range(30):
        appt = AppointmentFactory(patient=patient, doctor=doctor, start=next_slot(days=2 + i))
        make(patient, 1, appointment=appt)
    client = client_for(patient)

    with django_assert_max_num_queries(3):
        r = client.get(URL, {"page_size": 30})
    assert len(r.json()["results"]) == 30


# --- retrieve / read --------------------------------------------------------------------------------


def test_owner_viewing_notification_marks_it_read(client_for, patient):
    (n,) = make(patient)

    r = client_for(patient).get(f"{URL}{n.pk}/")

    assert r.status_code == 200
    assert r.json()["id"] == n.pk
    assert r.json()["is_read"] is True
    n.refresh_from_db()
    assert n.is_read is True


def test_owner_head_of_notification_does_not_mark_it_read(client_for, patient):
    (n,) = make(patient)
    client = client_for(patient)

    r = client.head(f"{URL}{n.pk}/")

    assert r.status_code == 200
    assert r.content == b""
    n.refresh_from_db()
    assert n.is_read is False
    assert client.get(f"{URL}unread-count/").json() == {"unread": 1}


def test_owner_head_of_notification_list_and_count_changes_nothing(client_for, patient):
    make(patient, 2)
    client = client_for(patient)

    for url in (URL, f"{URL}unread-count/", f"{URL}preferences/"):
        assert client.head(url).status_code == 200
    assert Notification.objects.filter(user=patient, is_read=False).count() == 2


def test_owner_marks_notification_read(client_for, patient):
    (n,) = make(patient)
    (other,) = make(patient)

    r = client_for(patient).post(f"{URL}{n.pk}/read/")

    assert r.status_code == 200
    assert r.json()["is_read"] is True
    assert r.json()["id"] == n.pk
    assert set(Notification.objects.filter(is_read=True).values_list("pk", flat=True)) == {n.pk}
    assert not Notification.objects.get(pk=other.pk).is_read


@pytest.mark.parametrize(("method", "suffix"), [("get", ""), ("post", "read/")])
def test_user_touching_another_users_notification_gets_404(method, suffix, client_for, patient, other_patient):
    (n,) = make(other_patient)

    r = getattr(client_for(patient), method)(f"{URL}{n.pk}/{suffix}")

    assert r.status_code == 404
    n.refresh_from_db()
    assert n.is_read is False


@pytest.mark.parametrize(("method", "suffix"), [("get", ""), ("post", "read/")])
def test_anonymous_touching_notification_gets_401(method, suffix, client_for, patient):
    (n,) = make(patient)

    assert getattr(client_for(None), method)(f"{URL}{n.pk}/{suffix}").status_code == 401


@pytest.mark.parametrize("pk", ["999999", "abc", "1.5", "99999999999999999999999"])
def test_user_asking_for_missing_or_garbage_id_gets_404(pk, client_for, patient):
    assert client_for(patient).get(f"{URL}{pk}/").status_code == 404


@pytest.mark.parametrize("method", ["put", "patch", "delete"])
def test_user_cannot_edit_or_delete_a_notification(method, client_for, patient):
    (n,) = make(patient)

    assert getattr(client_for(patient), method)(f"{URL}{n.pk}/", {}).status_code == 405
    assert Notification.objects.filter(pk=n.pk).exists()


# --- read-all / unread-count ------------------------------------------------------------------------


@pytest.fixture
def inboxes(patient, other_patient) -> None:
    """The patient's 3 unread and 1 read notifications, and another patient's 2 unread."""
    make(patient, 3)
    make(patient, 1, is_read=True)
    make(other_patient, 2)


def test_user_marks_all_own_notifications_read(client_for, patient, other_patient, inboxes):
    r = client_for(patient).post(f"{URL}read-all/")

    assert r.status_code == 200
    assert r.json() == {"updated": 3}
    assert Notification.objects.filter(user=patient, is_read=False).count() == 0
    assert Notification.objects.filter(user=other_patient, is_read=False).count() == 2
    assert client_for(patient).post(f"{URL}read-all/").json() == {"updated": 0}


def test_user_counts_own_unread_notifications(client_for, patient, inboxes):
    r = client_for(patient).get(f"{URL}unread-count/")

    assert r.status_code == 200
    assert r.json() == {"unread": 3}


@pytest.mark.parametrize(
    ("method", "path"),
    [("post", "read-all/"), ("get", "unread-count/"), ("get", "preferences/"), ("patch", "preferences/")],
)
def test_anonymous_using_notification_actions_gets_401(method, path, client_for):
    assert getattr(client_for(None), method)(f"{URL}{path}").status_code == 401


@pytest.mark.parametrize(("method", "path"), [("get", "read-all/"), ("post", "unread-count/"), ("put", "preferences/")])
def test_user_using_wrong_method_on_actions_gets_405(method, path, client_for, patient):
    assert getattr(client_for(patient), method)(f"{URL}{path}", {}).status_code == 405


# --- preferences ------------------------------------------------------------------------------------


def test_user_reads_default_preferences(client_for, patient):
    r = client_for(patient).get(f"{URL}preferences/")

    assert r.status_code == 200
    assert r.json() == {"email_enabled": True, "reminders_enabled": True, "sms_enabled": False}


def test_user_switches_email_off(client_for, patient, other_patient):
    r = client_for(patient).patch(f"{URL}preferences/", {"email_enabled": False}, format="json")

    assert r.status_code == 200
    assert r.json() == {"email_enabled": False, "reminders_enabled": True, "sms_enabled": False}
    assert NotificationPreference.objects.get(user=patient).email_enabled is False
    assert not NotificationPreference.objects.filter(user=other_patient, email_enabled=False).exists()
    again = client_for(patient).patch(f"{URL}preferences/", {"reminders_enabled": False}, format="json")
    assert again.json() == {"email_enabled": False, "reminders_enabled": False, "sms_enabled": False}


@pytest.mark.parametrize(
    "body",
    [
        {"email_enabled": "maybe"},
        {"email_enabled": None},
        {"reminders_enabled": [True]},
        {"reminders_enabled": {"x": 1}},
        {"email_enabled": 7},
    ],
)
def test_user_sending_garbage_preferences_gets_400(body, client_for, patient):
    r = client_for(patient).patch(f"{URL}preferences/", body, format="json")

    assert r.status_code == 400
    assert set(r.json()) <= {"email_enabled", "reminders_enabled"}
    assert not NotificationPreference.objects.filter(user=patient, email_enabled=False).exists()


def test_user_sending_non_object_preferences_gets_400(client_for, patient):
    r = client_for(patient).patch(f"{URL}preferences/", ["email_enabled"], format="json")

    assert r.status_code == 400


def test_user_sending_malformed_json_gets_400(client_for, patient):
    r = client_for(patient).generic("PATCH", f"{URL}preferences/", "{not json", content_type="application/json")

    assert r.status_code == 400


def test_doctor_and_staff_have_preferences_too(client_for, doctor, staff):
    for user in (doctor, staff):
        assert client_for(user).get(f"{URL}preferences/").status_code == 200


def test_read_all_is_scoped_to_many_users_independently(client_for):
    users = PatientFactory.create_batch(3)
    for user in users:
        make(user, 2)

    assert client_for(users[0]).post(f"{URL}read-all/").json() == {"updated": 2}
    assert Notification.objects.filter(is_read=False).count() == 4
