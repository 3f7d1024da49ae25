import datetime as dt

import pytest
import time_machine
from django.core import mail
from django.core.cache import cache
from django.db import connection
from django.utils import timezone
from rest_framework.test import APIClient

from appointments.choices import Status
from appointments.tests.factories import AppointmentFactory
from cybermed import realtime
from messaging import selectors
from messaging.api.serializers import ThreadRows
from messaging.choices import MessageStatus
from messaging.models import Message, Thread
from messaging.tests.factories import MessageFactory, ThreadFactory
from notifications.models import NotificationPreference
from users.choices import Role
from users.tests.factories import DoctorFactory, PatientFactory

pytestmark = pytest.mark.django_db


def messages_url(thread: Thread) -> str:
    return f"/api/threads/{thread.pk}/messages/"


# --- Opening threads -------------------------------------------------------------------------------


def test_patient_opens_thread_with_their_doctor_201_then_200(client_for, patient, doctor, shared):
    client = client_for(patient)

    first = client.post("/api/threads/", {"doctor": doctor.pk})
    again = client.post("/api/threads/", {"doctor": doctor.pk})

    assert first.status_code == 201
    assert again.status_code == 200
    assert first.json()["id"] == again.json()["id"]
    body = first.json()
    assert (body["patient"], body["doctor"], body["unread"], body["last_message"]) == (patient.pk, doctor.pk, 0, None)
    assert body["doctor_name"].startswith("Dr ")
    assert Thread.objects.count() == 1


def test_doctor_opens_the_same_thread_as_the_patient(client_for, patient, doctor, thread):
    response = client_for(doctor).post("/api/threads/", {"patient": patient.pk})

    assert (response.status_code, response.json()["id"]) == (200, thread.pk)


@pytest.mark.parametrize("status", [Status.CANCELLED, Status.COMPLETED, Status.NO_SHOW])
def test_patient_with_any_past_appointment_may_open_a_thread(client_for, patient, doctor, status):
    AppointmentFactory(patient=patient, doctor=doctor, status=status)

    assert client_for(patient).post("/api/threads/", {"doctor": doctor.pk}).status_code == 201


def test_patient_without_shared_appointment_gets_403(client_for, patient, doctor):
    response = client_for(patient).post("/api/threads/", {"doctor": doctor.pk})

    assert response.status_code == 403
    assert not Thread.objects.exists()


def test_doctor_without_shared_appointment_gets_403(client_for, patient, doctor):
    assert client_for(doctor).post("/api/threads/", {"patient": patient.pk}).status_code == 403


@pytest.mark.parametrize(
    "body",
    [{}, {"doctor": None}, {"doctor": "abc"}, {"doctor": 3.5}, {"doctor": True}, {"doctor": 2**70}, {"doctor": [1]}],
)
def test_patient_opening_thread_with_bad_input_gets_400(client_for, patient, body):
    assert client_for(patient).post("/api/threads/", body).status_code == 400


def test_patient_naming_a_patient_as_doctor_gets_400(client_for, patient, other_patient):
    assert client_for(patient).post("/api/threads/", {"doctor": other_patient.pk}).status_code == 400


def test_patient_giving_both_fields_gets_400(client_for, patient, doctor, shared):
    response = client_for(patient).post("/api/threads/", {"doctor": doctor.pk, "patient": patient.pk})

    assert response.status_code == 400


def every_endpoint(thread: Thread) -> list[tuple[str, str]]:
    """(method, url) of every messaging endpoint, aimed at `thread` and a new message in it."""
    message = MessageFactory(thread=thread)
    return [
        ("get", "/api/threads/"),
        ("post", "/api/threads/"),
        ("get", messages_url(thread)),
        ("post", messages_url(thread)),
        ("post", f"/api/threads/{thread.pk}/read/"),
        ("post", f"/api/messages/{message.pk}/retract/"),
    ]


def test_anonymous_gets_401_everywhere(api_client, thread):
    for method, url in every_endpoint(thread):
        assert getattr(api_client, method)(url, {}).status_code == 401, (method, url)


def test_staff_gets_403_everywhere(client_for, staff, thread):
    client = client_for(staff)
    for method, url in every_endpoint(thread):
        assert getattr(client, method)(url, {"body": "x", "up_to": 1}).status_code == 403, (method, url)


def test_another_users_thread_is_404(client_for, thread):
    message = MessageFactory(thread=thread)
    for outsider in (PatientFactory(), DoctorFactory()):
        client = client_for(outsider)
        assert client.get(messages_url(thread)).status_code == 404
        assert client.post(messages_url(thread), {"body": "hi"}).status_code == 404
        assert client.post(f"/api/threads/{thread.pk}/read/", {"up_to": message.pk}).status_code == 404
        assert client.post(f"/api/messages/{message.pk}/retract/").status_code == 404
    assert Message.objects.count() == 1


def test_unknown_ids_are_404(client_for, patient):
    client = client_for(patient)
    assert client.get("/api/threads/999999/messages/").status_code == 404
    assert client.get(f"/api/threads/{2**70}/messages/").status_code == 404
    assert client.post(f"/api/messages/{2**70}/retract/").status_code == 404
    assert client.post("/api/threads/999999/messages/", {"body": "hi"}).status_code == 404
    assert client.post(f"/api/threads/{2**70}/messages/", {"body": "hi"}).status_code == 404


def test_a_bad_body_is_400_on_any_thread_so_it_tells_nothing_about_the_thread(client_for, thread):
    # The POST validates the body before it looks the thread up (one locked query among the sender's threads).
    client = client_for(PatientFactory())
    mine = client.post("/api/threads/999999/messages/", {"body": ""})
    theirs = client.post(messages_url(thread), {"body": ""})
    assert (mine.status_code, theirs.status_code) == (400, 400)
    assert mine.json() == theirs.json()
    assert Message.objects.count() == 0


def test_posting_a_message_takes_a_fixed_number_of_queries(client_for, patient, thread, django_assert_max_num_queries):
    client = client_for(patient)
    client.post(messages_url(thread), {"body": "warm-up"})  # the first request may load caches
    # PostgreSQL: one statement (messaging.services._POST_IN_ONE_STATEMENT). SQLite, through the ORM: the thread
    # found and locked in one SELECT, the insert, the thread's update, and the savepoint pair of the test's own
    # transaction. The user comes from the cache; tests run the email task at once, without a row.
    with django_assert_max_num_queries(1 if connection.vendor == "postgresql" else 5):
        assert client.post(messages_url(thread), {"body": "hi"}).status_code == 201


# --- Listing threads ------------------------------------------------------------------------------


def test_patient_lists_own_threads_most_recent_first_with_unread(client_for, patient, doctor, thread):
    older = ThreadFactory(patient=patient)
    ThreadFactory()  # someone else's
    MessageFactory(thread=older, sender=older.doctor)
    client_for(doctor).post(messages_url(thread), {"body": "one"})
    client_for(doctor).post(messages_url(thread), {"body": "two"})

    results = client_for(patient).get("/api/threads/").json()["results"]

    assert [t["id"] for t in results] == [thread.pk, older.pk]
    assert results[0]["unread"] == 2
    assert results[0]["last_message"]["body"] == "two"


def test_doctor_sees_no_unread_for_own_messages(client_for, doctor, thread):
    client_for(doctor).post(messages_url(thread), {"body": "hello"})

    assert client_for(doctor).get("/api/threads/").json()["results"][0]["unread"] == 0


def test_thread_list_query_count_is_capped(client_for, patient, django_assert_max_num_queries):
    for _ in range(15):
        thread = ThreadFactory(patient=patient)
        MessageFactory.create_batch(2, thread=thread, sender=thread.doctor)
        Thread.objects.filter(pk=thread.pk).update(last_message=Message.objects.filter(thread=thread).last())
    client = client_for(patient)

    with django_assert_max_num_queries(6):
        response = client.get("/api/threads/")

    assert len(response.json()["results"]) == 15
    assert all(t["unread"] == 2 and t["last_message"] for t in response.json()["results"])


def test_thread_list_count_is_the_users_threads_on_every_page(client_for, patient, doctor):
    patients = [ThreadFactory(patient=patient) for _ in range(2)] + [ThreadFactory(patient=patient, doctor=doctor)]
    doctors = [patients[-1], *(ThreadFactory(doctor=doctor) for _ in range(2))]
    ThreadFactory()  # nobody's here

    for user, threads in ((patient, patients), (doctor, doctors)):
        client = client_for(user)
        first = client.get("/api/threads/?page_size=2").json()
        second = client.get("/api/threads/?page_size=2&page=2").json()
        assert first["count"] == second["count"] == 3
        assert {t["id"] for t in first["results"] + second["results"]} == {t.pk for t in threads}


def unread_by_thread(client: APIClient, query: str = "") -> dict[int, int]:
    return {t["id"]: t["unread"] for t in client.get(f"/api/threads/{query}").json()["results"]}


def test_a_user_whose_role_changed_reads_each_thread_from_their_side(client_for, patient, doctor, thread, shared):
    """Staff turned `patient` into a doctor: they keep their thread as its patient and get one as a doctor.
    Each thread's unread count is theirs on their side of it (messages from the other participant past their
    own watermark), whatever their role says now."""
    client_for(patient).post(messages_url(thread), {"body": "a question"})
    for body in ("one", "two"):
        client_for(doctor).post(messages_url(thread), {"body": body})  # moves the doctor's watermark past them
    patient.role = Role.DOCTOR
    patient.save()
    their_patient = PatientFactory()
    AppointmentFactory(patient=their_patient, doctor=patient)
    as_doctor = ThreadFactory(patient=their_patient, doctor=patient)
    for body in ("a", "b", "c"):
        client_for(their_patient).post(messages_url(as_doctor), {"body": body})
    client = client_for(patient)

    # Without parameters the list takes its query built once; with ?x=1, the filtered model query's path.
    assert unread_by_thread(client) == unread_by_thread(client, "?x=1") == {thread.pk: 2, as_doctor.pk: 3}
    assert selectors.unread_total(user=patient) == 5
    newest = Message.objects.filter(thread=thread).latest("pk")
    response = client.post(f"/api/threads/{thread.pk}/read/", {"up_to": newest.pk})
    assert response.json()["unread"] == 0
    assert unread_by_thread(client) == {thread.pk: 0, as_doctor.pk: 3}
    assert selectors.unread_total(user=patient) == 3
    assert client_for(doctor).get("/api/threads/").json()["results"][0]["unread"] == 0  # read the question
    assert client_for(their_patient).get("/api/threads/").json()["results"][0]["unread"] == 0


def test_thread_pages_are_the_same_on_both_paths(client_for, patient, doctor):
    """The list without parameters pages a `.values()` query built once per process (ThreadRows.values_base);
    any other parameter takes the filtered model query's path. Same rows and counts, page by page, for either
    side, ties on `updated_at` broken by id; and the shared query never holds results (they would be the
    first caller's rows, handed to the next)."""
    tied = timezone.now()
    threads = [ThreadFactory(patient=patient, updated_at=tied) for _ in range(3)]
    threads += [ThreadFactory(doctor=doctor, updated_at=tied) for _ in range(2)]
    threads.append(ThreadFactory(patient=patient, doctor=doctor))
    for thread in threads:
        MessageFactory(thread=thread, sender=thread.doctor)
        MessageFactory(thread=thread, sender=thread.patient)
    ThreadFactory()  # nobody's here
    for user in (patient, doctor, patient):
        client = client_for(user)
        for page in (1, 2, 3):
            fast = client.get(f"/api/threads/?page_size=2&page={page}")
            other = client.get(f"/api/threads/?page_size=2&page={page}&x=1")
            assert fast.status_code == other.status_code
            if fast.status_code == 200:
                assert fast.json() == {**other.json(), "next": fast.json()["next"], "previous": fast.json()["previous"]}
                assert [t["unread"] for t in fast.json()["results"]] == [1] * len(fast.json()["results"])
    assert client_for(patient).get("/api/threads/").json()["count"] == 4
    assert ThreadRows._values_base._result_cache is None
    assert selectors.thread_rows()._result_cache is None
    assert selectors._thread_rows_built_once()._result_cache is None


# --- Messages -------------------------------------------------------------------------------------


def test_patient_posts_a_message_201(client_for, patient, thread):
    response = client_for(patient).post(messages_url(thread), {"body": "My rash is worse  \n"})

    assert response.status_code == 201
    body = response.json()
    assert set(body) == {"id", "thread", "sender", "body", "created_at", "status"}
    assert (body["thread"], body["sender"], body["body"], body["status"]) == (
        thread.pk,
        patient.pk,
        "My rash is worse  \n",
        "sent",
    )


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"body": ""},
        {"body": "   \n"},
        {"body": "x" * 5001},
        {"body": 12},
        {"body": None},
        {"body": "a\x00b"},
        {"body": ["hi"]},
    ],
)
def test_patient_posting_bad_body_gets_400(client_for, patient, thread, body):
    assert client_for(patient).post(messages_url(thread), body).status_code == 400
    assert not Message.objects.exists()


def test_a_retried_post_with_the_same_idempotency_key_sends_one_message(client_for, patient, thread):
    client = client_for(patient)
    first = client.post(messages_url(thread), {"body": "Is 9:00 fine?"}, format="json", HTTP_IDEMPOTENCY_KEY="m-1")
    again = client.post(messages_url(thread), {"body": "Is 9:00 fine?"}, format="json", HTTP_IDEMPOTENCY_KEY="m-1")
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.json() == first.json()
    assert again["Idempotent-Replayed"] == "true"
    assert Message.objects.filter(thread=thread).count() == 1


def test_the_same_idempotency_key_with_another_body_is_a_409(client_for, patient, thread):
    client = client_for(patient)
    client.post(messages_url(thread), {"body": "One"}, format="json", HTTP_IDEMPOTENCY_KEY="m-2")
    r = client.post(messages_url(thread), {"body": "Two"}, format="json", HTTP_IDEMPOTENCY_KEY="m-2")
    assert r.status_code == 409
    assert r.json()["code"] == "idempotency_conflict"
    assert list(Message.objects.filter(thread=thread).values_list("body", flat=True)) == ["One"]


def test_reading_messages_ignores_an_idempotency_key(client_for, patient, thread):
    client = client_for(patient)
    client.get(messages_url(thread), HTTP_IDEMPOTENCY_KEY="m-3")
    client.post(messages_url(thread), {"body": "New"}, format="json")
    r = client.get(messages_url(thread), HTTP_IDEMPOTENCY_KEY="m-3")
    assert [m["body"] for m in r.json()["results"]] == ["New"]


def test_patient_posts_exactly_5000_characters(client_for, patient, thread):
    assert client_for(patient).post(messages_url(thread), {"body": "é" * 5000}).status_code == 201


def test_messages_newest_first_with_cursor_pages(client_for, patient, thread):
    ids = [MessageFactory(thread=thread).pk for _ in range(7)]
    client = client_for(patient)

    first = client.get(messages_url(thread), {"page_size": 4}).json()
    second = client.get(first["next"]).json()

    assert [m["id"] for m in first["results"]] == ids[::-1][:4]
    assert [m["id"] for m in second["results"]] == ids[::-1][4:]
    assert second["next"] is None


def test_after_returns_everything_newer_oldest_first(client_for, patient, thread):
    ids = [MessageFactory(thread=thread).pk for _ in range(5)]
    MessageFactory()  # another thread's

    body = client_for(patient).get(messages_url(thread), {"after": ids[1]}).json()

    assert [m["id"] for m in body["results"]] == ids[2:]
    assert body["next"] is None


def test_after_pages_forward_with_next(client_for, patient, thread):
    ids = [MessageFactory(thread=thread).pk for _ in range(5)]
    client = client_for(patient)

    first = client.get(messages_url(thread), {"after": 0, "page_size": 3}).json()
    second = client.get(first["next"]).json()

    assert [m["id"] for m in first["results"] + second["results"]] == ids
    assert second["next"] is None


@pytest.mark.parametrize("after", ["abc", "-1", "1.5", str(2**70), ""])
def test_after_with_bad_value_gets_400(client_for, patient, thread, after):
    assert client_for(patient).get(messages_url(thread), {"after": after}).status_code == 400


@pytest.mark.parametrize("position", ["abc", "1e5", "-1", "1.5", "١٢", str(2**70)])
def test_tampered_cursor_gets_404_not_500(client_for, patient, thread, position):
    import base64

    cursor = base64.b64encode(f"p={position}".encode()).decode()
    response = client_for(patient).get(messages_url(thread), {"cursor": cursor})
    assert response.status_code == 404
    assert response.json()["detail"] == "Invalid cursor"


def test_message_list_query_count_is_capped(client_for, patient, thread, django_assert_max_num_queries):
    MessageFactory.create_batch(30, thread=thread)
    client = client_for(patient)

    with django_assert_max_num_queries(6):
        assert len(client.get(messages_url(thread)).json()["results"]) == 30
    with django_assert_max_num_queries(6):
        assert len(client.get(messages_url(thread), {"after": 0}).json()["results"]) == 30


# --- Retract --------------------------------------------------------------------------------------


def test_sender_retracts_and_body_is_hidden_from_then_on(client_for, patient, doctor, thread):
    message = MessageFactory(thread=thread, sender=patient, body="private")

    response = client_for(patient).post(f"/api/messages/{message.pk}/retract/")
    again = client_for(patient).post(f"/api/messages/{message.pk}/retract/")

    assert response.status_code == again.status_code == 200
    assert (response.json()["status"], response.json()["body"]) == ("retracted", "")
    listed = client_for(doctor).get(messages_url(thread)).json()["results"][0]
    assert (listed["status"], listed["body"]) == ("retracted", "")
    message.refresh_from_db()
    assert (message.status, message.body) == (MessageStatus.RETRACTED, "private")  # kept, never deleted


def test_other_participant_cannot_retract_403(client_for, patient, doctor, thread):
    message = MessageFactory(thread=thread, sender=patient)

    assert client_for(doctor).post(f"/api/messages/{message.pk}/retract/").status_code == 403
    message.refresh_from_db()
    assert message.status == MessageStatus.SENT


# --- Read -----------------------------------------------------------------------------------------


def test_patient_marks_read_and_unread_drops(client_for, patient, doctor, thread):
    first, second, third = (MessageFactory(thread=thread, sender=doctor) for _ in range(3))
    client = client_for(patient)

    response = client.post(f"/api/threads/{thread.pk}/read/", {"up_to": second.pk})

    assert response.status_code == 200
    assert response.json() == {"thread_id": thread.pk, "up_to": second.pk, "unread": 1}
    assert client.get("/api/threads/").json()["results"][0]["unread"] == 1


def test_read_watermark_never_moves_back_nor_past_the_last_message(client_for, patient, doctor, thread):
    message = MessageFactory(thread=thread, sender=doctor)
    client = client_for(patient)

    assert client.post(f"/api/threads/{thread.pk}/read/", {"up_to": 10**12}).json()["up_to"] == message.pk
    assert client.post(f"/api/threads/{thread.pk}/read/", {"up_to": 0}).json()["up_to"] == message.pk


@pytest.mark.parametrize("body", [{}, {"up_to": -1}, {"up_to": "x"}, {"up_to": 1.5}, {"up_to": True}])
def test_read_with_bad_input_gets_400(client_for, patient, thread, body):
    assert client_for(patient).post(f"/api/threads/{thread.pk}/read/", body).status_code == 400


# --- Email when not connected ---------------------------------------------------------------------


def test_offline_recipient_gets_an_email_without_the_text(
    client_for, patient, doctor, thread, mailoutbox, django_capture_on_commit_callbacks
):
    doctor.first_name, doctor.last_name = "Ada", "Okafor"
    doctor.save()

    with django_capture_on_commit_callbacks(execute=True):
        client_for(doctor).post(messages_url(thread), {"body": "Your biopsy result is ready"})

    assert len(mailoutbox) == 1
    email = mailoutbox[0]
    assert email.to == [patient.email]
    assert "You have a new message from Dr Ada Okafor" in email.body
    assert "biopsy" not in email.body + email.subject


def test_online_recipient_gets_no_email(
    client_for, patient, doctor, thread, mailoutbox, pushes, django_capture_on_commit_callbacks
):
    cache.set(realtime.presence_key(patient.pk), 1, 60)

    with django_capture_on_commit_callbacks(execute=True):
        client_for(doctor).post(messages_url(thread), {"body": "hello"})

    assert mailoutbox == []
    assert [p["event"] for p in pushes] == ["message.created"]


def test_recipient_who_left_before_the_email_was_due_gets_it(
    client_for, patient, doctor, thread, mailoutbox, django_capture_on_commit_callbacks, settings
):
    from django_tasks_db.models import DBTaskResult

    from messaging.tasks import send_message_email

    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    cache.set(realtime.presence_key(patient.pk), 1, 60)  # still connected when the message arrives
    with django_capture_on_commit_callbacks(execute=True):
        client_for(doctor).post(messages_url(thread), {"body": "hello"})
    [check] = DBTaskResult.objects.all()  # queued whatever the presence: it is checked when the email is due

    cache.delete(realtime.presence_key(patient.pk))  # gone by then, message unread
    with time_machine.travel(dt.timedelta(seconds=settings.MESSAGE_EMAIL_DELAY_SECONDS + 1)):
        assert send_message_email.call(**check.args_kwargs["kwargs"]) is True
    assert len(mailoutbox) == 1
    assert "hello" not in mailoutbox[0].body


def test_recipient_with_email_off_gets_no_email(
    client_for, patient, doctor, thread, django_capture_on_commit_callbacks
):
    NotificationPreference.objects.create(user=patient, email_enabled=False)

    with django_capture_on_commit_callbacks(execute=True):
        client_for(doctor).post(messages_url(thread), {"body": "hello"})

    assert mail.outbox == []


def test_messages_do_not_reach_the_logs(
    client_for, patient, doctor, thread, caplog, django_capture_on_commit_callbacks
):
    caplog.set_level("DEBUG")
    with django_capture_on_commit_callbacks(execute=True):
        client_for(patient).post(messages_url(thread), {"body": "secret-symptom-text"})
    client_for(doctor).get(messages_url(thread))

    assert "secret-symptom-text" not in caplog.text
    assert len(mail.outbox) == 1
    assert "secret-symptom-text" not in mail.outbox[0].body + mail.outbox[0].subject


# --- Pushes ---------------------------------------------------------------------------------------


def test_post_retract_and_read_push_to_both_participants_after_commit(
    client_for, patient, doctor, thread, pushes, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        message_id = client_for(patient).post(messages_url(thread), {"body": "hi"}).json()["id"]
        client_for(doctor).post(f"/api/threads/{thread.pk}/read/", {"up_to": message_id})
        client_for(patient).post(f"/api/messages/{message_id}/retract/")

    assert [(p["event"], sorted(p["user_ids"])) for p in pushes] == [
        ("message.created", sorted([patient.pk, doctor.pk])),
        ("thread.read", sorted([patient.pk, doctor.pk])),
        ("message.retracted", sorted([patient.pk, doctor.pk])),
    ]
    assert pushes[0]["data"]["message"]["body"] == "hi"
    assert pushes[1]["data"] == {"thread_id": thread.pk, "user_id": doctor.pk, "up_to": message_id}
    assert pushes[2]["data"]["message"]["body"] == ""


def test_nothing_is_pushed_before_commit(client_for, patient, thread, pushes, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        client_for(patient).post(messages_url(thread), {"body": "hi"})

    assert pushes == []
    assert callbacks


def test_socket_protocol_page_is_served_and_linked_from_the_openapi_description(api_client, settings):
    page = api_client.get("/api/docs/realtime/")

    assert page.status_code == 200
    assert page["Content-Type"].startswith("text/markdown")
    assert b"/ws/v1/" in page.content
    assert "(/api/docs/realtime/)" in settings.SPECTACULAR_SETTINGS["DESCRIPTION"]


def test_message_writes_are_throttled_per_user_and_reads_are_not(client_for, patient, doctor, thread, settings):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"anon": None, "user": None, "messaging": "2/min"},
    }
    client = client_for(patient)

    codes = [client.post(messages_url(thread), {"body": f"m{i}"}).status_code for i in range(3)]
    reads = [client.get(messages_url(thread)).status_code for _ in range(3)]

    assert codes == [201, 201, 429]
    assert reads == [200, 200, 200]
    assert client_for(doctor).post(messages_url(thread), {"body": "reply"}).status_code == 201  # counted per user
