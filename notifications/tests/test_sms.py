"""SMS: backends, the Twilio backend against a local fake of its API, the signed status callback, and the
confirmations and reminders texted to users who opted in (never with medical details)."""

import datetime as dt
import io
import socket
from collections.abc import Iterator
from urllib.parse import urlencode

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.utils import timezone

from appointments.choices import Status
from appointments.tests.factories import AppointmentFactory
from cybermed.testing import run_together
from notifications import sms
from notifications.choices import Kind, SmsStatus
from notifications.models import Notification, NotificationPreference, SmsDelivery
from notifications.services import (
    NotificationSpec,
    notification_sms_send,
    notifications_create,
    reminders_send,
    sms_delivery_report,
)
from notifications.sms import SmsMessage, get_connection
from notifications.sms.backends import console, filebased
from notifications.sms.twilio_signature import is_valid, signature
from notifications.tests import fake_twilio
from notifications.tests.factories import NotificationFactory
from users.models import User
from users.tests.factories import PatientFactory

pytestmark = pytest.mark.django_db

PHONE = "+442071838750"
CALLBACK_PATH = "/api/sms/twilio/status/"
TWILIO = "notifications.sms.backends.twilio.SmsBackend"


@pytest.fixture
def texting_patient(patient):
    patient.phone_number = PHONE
    patient.save()
    NotificationPreference.objects.create(user=patient, sms_enabled=True)
    return patient


@pytest.fixture
def twilio(settings) -> Iterator[fake_twilio.FakeTwilio]:
    fake = fake_twilio.start()
    settings.SMS_BACKEND = TWILIO
    settings.TWILIO_API_BASE = fake.base_url
    settings.TWILIO_ACCOUNT_SID = fake_twilio.ACCOUNT_SID
    settings.TWILIO_AUTH_TOKEN = fake_twilio.AUTH_TOKEN
    settings.TWILIO_FROM_NUMBER = fake_twilio.FROM_NUMBER
    settings.TWILIO_TIMEOUT = 5
    settings.SITE_URL = "https://clinic.example"
    yield fake
    fake_twilio.stop(fake)


def confirmed_soon(patient, **kwargs):
    start = (timezone.now() + dt.timedelta(hours=3)).replace(second=0, microsecond=0)
    return AppointmentFactory(
        patient=patient,
        status=Status.CONFIRMED,
        start=start,
        reason_for_visit="Chest pain",
        location="Oncology",
        **kwargs,
    )


# --- backends ----------------------------------------------------------------------------------------------


def test_console_backend_writes_each_message():
    stream = io.StringIO()

    results = console.SmsBackend(stream=stream).send_messages([SmsMessage(PHONE, "Hello"), SmsMessage(PHONE, "Bye")])

    assert [r.status for r in results] == [SmsStatus.SENT, SmsStatus.SENT]
    assert stream.getvalue().count(f"SMS to {PHONE}") == 2


def test_file_backend_appends_messages_to_a_file(tmp_path):
    backend = filebased.SmsBackend(file_path=str(tmp_path / "sms"))

    backend.send_messages([SmsMessage(PHONE, "Hello")])
    backend.send_messages([SmsMessage(PHONE, "Again")])

    [log] = (tmp_path / "sms").iterdir()
    assert "Hello" in log.read_text() and "Again" in log.read_text()  # noqa: PT018


def test_file_backend_refuses_a_file_as_its_directory(tmp_path):
    (tmp_path / "taken").write_text("")

    with pytest.raises(ImproperlyConfigured):
        filebased.SmsBackend(file_path=str(tmp_path / "taken"))


def test_locmem_backend_is_the_configured_connection_in_tests():
    result = sms.send_sms(PHONE, "Hi")

    assert [(m.to, m.body) for m in sms.outbox] == [(PHONE, "Hi")]
    assert result.provider_id == "locmem-0"
    assert type(get_connection()).__module__ == "notifications.sms.backends.locmem"


# --- Twilio backend against the local fake ------------------------------------------------------------------


def test_twilio_backend_posts_the_message_with_basic_auth(twilio):
    [result] = get_connection().send_messages([SmsMessage(PHONE, "Hi", status_callback="https://x/cb/")])

    assert (result.status, result.provider_id[:2], result.error) == (SmsStatus.QUEUED, "SM", "")
    [request] = twilio.requests
    assert request["form"] == {
        "To": PHONE,
        "From": fake_twilio.FROM_NUMBER,
        "Body": "Hi",
        "StatusCallback": "https://x/cb/",
    }
    assert request["headers"]["Content-Type"] == "application/x-www-form-urlencoded"


def test_twilio_backend_reports_twilios_error_code(twilio):
    [result] = get_connection().send_messages([SmsMessage("12345", "Hi")])

    assert result.status == SmsStatus.FAILED
    assert result.error == "HTTP 400 21211: The 'To' number 12345 is not a valid phone number."


def test_twilio_backend_with_wrong_credentials_fails_the_message(twilio, settings):
    settings.TWILIO_AUTH_TOKEN = "wrong"

    [result] = get_connection().send_messages([SmsMessage(PHONE, "Hi")])

    assert (result.status, result.error) == (SmsStatus.FAILED, "HTTP 401 20003: Authenticate")


def test_twilio_backend_unreachable_fails_the_message(twilio, settings):
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        settings.TWILIO_API_BASE = f"http://127.0.0.1:{s.getsockname()[1]}"

    [result] = get_connection().send_messages([SmsMessage(PHONE, "Hi")])

    assert (result.status, result.error) == (SmsStatus.FAILED, "request failed: URLError")


def test_twilio_backend_without_credentials_is_improperly_configured(settings):
    settings.SMS_BACKEND = TWILIO
    settings.TWILIO_ACCOUNT_SID = ""

    with pytest.raises(ImproperlyConfigured):
        get_connection()


# --- X-Twilio-Signature -------------------------------------------------------------------------------------

# Twilio's published example (https://www.twilio.com/docs/usage/security, and its SDKs' tests).
VECTOR_URL = "https://mycompany.com/myapp.php?foo=1&bar=2"
VECTOR_PARAMS = [
    ("CallSid", "CA1234567890ABCDE"),
    ("Caller", "+14158675309"),
    ("Digits", "1234"),
    ("From", "+14158675309"),
    ("To", "+18005551212"),
]


def test_signature_matches_twilios_published_vector():
    assert (
        signature(auth_token="12345", url=VECTOR_URL, params=reversed(VECTOR_PARAMS)) == "RSOYDt4T1cUTdK1PDd93/VVr8B8="
    )


@pytest.mark.parametrize(
    ("token", "url", "params", "header"),
    [
        ("12345", VECTOR_URL, VECTOR_PARAMS, "RSOYDt4T1cUTdK1PDd93/VVr8B8="),
        ("54321", VECTOR_URL, VECTOR_PARAMS, "RSOYDt4T1cUTdK1PDd93/VVr8B8="),
        ("12345", VECTOR_URL + "&x=1", VECTOR_PARAMS, "RSOYDt4T1cUTdK1PDd93/VVr8B8="),
        (
            "12345",
            VECTOR_URL,
            [*VECTOR_PARAMS[:2], ("Digits", "9999"), *VECTOR_PARAMS[3:]],
            "RSOYDt4T1cUTdK1PDd93/VVr8B8=",
        ),
        ("12345", VECTOR_URL, VECTOR_PARAMS, ""),
        ("", VECTOR_URL, VECTOR_PARAMS, signature(auth_token="", url=VECTOR_URL, params=VECTOR_PARAMS)),
        ("12345", VECTOR_URL, VECTOR_PARAMS, "ünïcode"),
    ],
)
def test_signature_check_accepts_only_the_exact_signed_request(token, url, params, header):
    expected = (token, url, params, header) == ("12345", VECTOR_URL, VECTOR_PARAMS, "RSOYDt4T1cUTdK1PDd93/VVr8B8=")

    assert is_valid(auth_token=token, url=url, params=params, header=header) is expected


# --- the status callback endpoint ---------------------------------------------------------------------------


def notification_for(user: User, kind: str = Kind.REMINDER, **data: str) -> Notification:
    """A notification of `kind` (a reminder, the kind that is texted, unless said) starting on 4 June 2030."""
    return NotificationFactory(user=user, kind=kind, data={"start": "2030-06-04T10:00:00+00:00", **data})


@pytest.fixture
def delivery(texting_patient):
    notification = notification_for(texting_patient)
    return SmsDelivery.objects.create(
        notification=notification, to=PHONE, body="b", backend=TWILIO, provider_id="SM1", status=SmsStatus.QUEUED
    )


def post_callback(api_client, form: dict, *, token: str = fake_twilio.AUTH_TOKEN, sign: bool = True):
    headers = {}
    if sign:
        url = "https://clinic.example" + CALLBACK_PATH
        headers["HTTP_X_TWILIO_SIGNATURE"] = signature(auth_token=token, url=url, params=form.items())
    return api_client.post(CALLBACK_PATH, urlencode(form), content_type="application/x-www-form-urlencoded", **headers)


def test_twilio_reports_delivery_with_a_valid_signature(api_client, twilio, delivery):
    form = {"MessageSid": "SM1", "MessageStatus": "delivered", "AccountSid": fake_twilio.ACCOUNT_SID, "To": PHONE}

    r = post_callback(api_client, form)

    assert r.status_code == 204
    delivery.refresh_from_db()
    assert delivery.status == SmsStatus.DELIVERED


def test_twilio_reports_failure_with_its_error_code(api_client, twilio, delivery):
    r = post_callback(api_client, {"MessageSid": "SM1", "MessageStatus": "undelivered", "ErrorCode": "30003"})

    delivery.refresh_from_db()
    assert (r.status_code, delivery.status, delivery.error) == (204, SmsStatus.UNDELIVERED, "Twilio error 30003")


@pytest.mark.parametrize(
    ("token", "sign"),
    [("another-accounts-token", True), (fake_twilio.AUTH_TOKEN, False)],
)
def test_forged_or_unsigned_callback_gets_403_and_changes_nothing(api_client, twilio, delivery, token, sign):
    r = post_callback(api_client, {"MessageSid": "SM1", "MessageStatus": "failed"}, token=token, sign=sign)

    delivery.refresh_from_db()
    assert (r.status_code, delivery.status) == (403, SmsStatus.QUEUED)


def test_callback_signed_for_other_fields_gets_403(api_client, twilio, delivery):
    url = "https://clinic.example" + CALLBACK_PATH
    header = signature(
        auth_token=fake_twilio.AUTH_TOKEN, url=url, params=[("MessageSid", "SM1"), ("MessageStatus", "sent")]
    )

    r = api_client.post(
        CALLBACK_PATH,
        urlencode({"MessageSid": "SM1", "MessageStatus": "failed"}),
        content_type="application/x-www-form-urlencoded",
        HTTP_X_TWILIO_SIGNATURE=header,
    )

    assert r.status_code == 403


def test_callback_without_configured_token_refuses_everything(api_client, twilio, settings, delivery):
    settings.TWILIO_AUTH_TOKEN = ""

    r = post_callback(api_client, {"MessageSid": "SM1", "MessageStatus": "delivered"}, token="")

    assert r.status_code == 403


def test_late_sent_report_does_not_undo_delivered(api_client, twilio, delivery):
    post_callback(api_client, {"MessageSid": "SM1", "MessageStatus": "delivered"})
    r = post_callback(api_client, {"MessageSid": "SM1", "MessageStatus": "sent"})

    delivery.refresh_from_db()
    assert (r.status_code, delivery.status) == (204, SmsStatus.DELIVERED)


@pytest.mark.parametrize(
    "form",
    [{"MessageSid": "SM-unknown", "MessageStatus": "delivered"}, {"MessageSid": "SM1", "MessageStatus": "martian"}],
)
def test_callback_for_unknown_message_or_status_is_ignored(api_client, twilio, delivery, form):
    r = post_callback(api_client, form)

    delivery.refresh_from_db()
    assert (r.status_code, delivery.status) == (204, SmsStatus.QUEUED)


def test_signed_callback_without_message_sid_gets_400(api_client, twilio, delivery):
    r = post_callback(api_client, {"MessageStatus": "delivered"})

    assert r.status_code == 400


def test_callback_without_a_body_gets_403(client, twilio):
    assert client.generic("POST", CALLBACK_PATH).status_code == 403


def test_callback_as_json_gets_415(api_client, twilio):
    r = api_client.post(CALLBACK_PATH, {"MessageSid": "SM1"}, format="json")

    assert r.status_code == 415


def test_report_service_never_moves_a_message_back(delivery):
    assert sms_delivery_report(provider_id="SM1", status=SmsStatus.FAILED, error="x") is True
    assert sms_delivery_report(provider_id="SM1", status=SmsStatus.SENT) is True
    assert sms_delivery_report(provider_id="nope", status=SmsStatus.SENT) is False

    delivery.refresh_from_db()
    assert (delivery.status, delivery.error) == (SmsStatus.FAILED, "x")


# --- confirmations and reminders by SMS ---------------------------------------------------------------------


def test_patient_opted_in_gets_confirmation_sms_without_medical_text(
    client_for, texting_patient, doctor, django_capture_on_commit_callbacks
):
    appt = AppointmentFactory(patient=texting_patient, doctor=doctor, reason_for_visit="Chest pain")

    with django_capture_on_commit_callbacks(execute=True):
        r = client_for(doctor).post(f"/api/appointments/{appt.pk}/confirm/", {"location": "Oncology"}, format="json")

    assert r.status_code == 200
    [message] = sms.outbox
    assert message.to == PHONE
    assert message.body.startswith("CyberMed: your appointment on ")
    assert message.body.endswith("is confirmed. Details in the CyberMed app.")
    for secret in ("Chest", "Oncology", doctor.last_name, "Dr "):
        assert secret not in message.body
    delivery = SmsDelivery.objects.get()
    assert (delivery.status, delivery.to, delivery.provider_id) == (SmsStatus.SENT, PHONE, "locmem-0")


def test_patient_opted_in_gets_reminder_sms_through_twilio(texting_patient, twilio, django_capture_on_commit_callbacks):
    """The issue's 'done when': a patient who opted in gets an SMS reminder through the configured backend."""
    confirmed_soon(texting_patient)

    with django_capture_on_commit_callbacks(execute=True):
        assert reminders_send() == 2  # patient and doctor; only the patient opted in to SMS

    [request] = twilio.requests
    assert request["form"]["To"] == PHONE
    assert request["form"]["Body"].startswith("CyberMed reminder: you have an appointment on ")
    assert request["form"]["StatusCallback"] == "https://clinic.example/api/sms/twilio/status/"
    delivery = SmsDelivery.objects.get()
    assert (delivery.status, delivery.provider_id, delivery.backend) == (SmsStatus.QUEUED, "SM" + f"{1:032x}", TWILIO)


def test_twilio_failure_is_recorded_on_the_delivery(
    texting_patient, twilio, settings, django_capture_on_commit_callbacks
):
    settings.TWILIO_AUTH_TOKEN = "revoked"
    confirmed_soon(texting_patient)

    with django_capture_on_commit_callbacks(execute=True):
        reminders_send()

    delivery = SmsDelivery.objects.get()
    assert (delivery.status, delivery.error) == (SmsStatus.FAILED, "HTTP 401 20003: Authenticate")


@pytest.mark.parametrize(
    ("phone", "sms_enabled", "active"),
    [("", True, True), (PHONE, False, True), (PHONE, True, False)],
)
def test_patient_not_opted_in_or_without_number_gets_no_sms(
    patient, phone, sms_enabled, active, django_capture_on_commit_callbacks
):
    patient.phone_number, patient.is_active = phone, active
    patient.save()
    NotificationPreference.objects.create(user=patient, sms_enabled=sms_enabled)
    appointment = confirmed_soon(patient)
    notification = NotificationFactory(
        user=patient,
        kind=Kind.REMINDER,
        appointment=appointment,
        data={"start": appointment.start.isoformat(), "timezone": "UTC"},
    )

    assert notification_sms_send(notification_id=notification.pk) is None
    assert sms.outbox == []


def test_patient_with_no_preference_row_gets_no_sms(patient, django_capture_on_commit_callbacks):
    patient.phone_number = PHONE
    patient.save()

    confirmed_soon(patient)

    with django_capture_on_commit_callbacks(execute=True):
        reminders_send()

    assert sms.outbox == []


def test_other_kinds_are_not_texted(texting_patient):
    notification = notification_for(texting_patient, Kind.CONSULTATION_CREATED, timezone="UTC")

    assert notification_sms_send(notification_id=notification.pk) is None
    assert sms.outbox == []


def test_retried_task_texts_once(texting_patient):
    notification = notification_for(texting_patient, timezone="Europe/London")

    first = notification_sms_send(notification_id=notification.pk)
    second = notification_sms_send(notification_id=notification.pk)

    assert (first is not None, second) == (True, None)
    assert [m.body for m in sms.outbox] == [
        "CyberMed reminder: you have an appointment on Tuesday 4 June 2030, 11:00 (Europe/London). "
        "Details in the CyberMed app."
    ]


def test_misconfigured_backend_records_a_failed_delivery(texting_patient, settings):
    settings.SMS_BACKEND = TWILIO
    settings.TWILIO_ACCOUNT_SID = ""
    notification = notification_for(texting_patient)

    delivery = notification_sms_send(notification_id=notification.pk)

    assert (delivery.status, delivery.error) == (SmsStatus.FAILED, "SMS backend not configured")


# --- preferences -----------------------------------------------------------------------------------------


def test_patient_sms_preference_is_off_until_switched_on(client_for, patient):
    client = client_for(patient)

    before = client.get("/api/notifications/preferences/").json()
    after = client.patch("/api/notifications/preferences/", {"sms_enabled": True}, format="json")

    assert before == {"email_enabled": True, "reminders_enabled": True, "sms_enabled": False}
    assert (after.status_code, after.json()["sms_enabled"]) == (200, True)
    assert NotificationPreference.objects.get(user=patient).sms_enabled is True


@pytest.mark.parametrize("value", ["maybe", None, [True]])
def test_patient_bad_sms_preference_gets_400(client_for, patient, value):
    r = client_for(patient).patch("/api/notifications/preferences/", {"sms_enabled": value}, format="json")

    assert r.status_code == 400
    assert "sms_enabled" in r.json()


def test_anonymous_sms_preference_gets_401(api_client):
    assert api_client.patch("/api/notifications/preferences/", {"sms_enabled": True}, format="json").status_code == 401


def test_sms_recipients_query_is_one_per_batch(django_assert_max_num_queries, texting_patient):
    others = PatientFactory.create_batch(5, phone_number=PHONE)
    for other in others:
        NotificationPreference.objects.create(user=other, sms_enabled=True)
    specs = [
        NotificationSpec(u.pk, Kind.REMINDER, "t", "m", None, {"start": "2030-06-04T10:00:00+00:00"})
        for u in [texting_patient, *others]
    ]
    # The insert and one opted-in lookup for the batch, in a savepoint (2 more): not one lookup per user.
    with django_assert_max_num_queries(4):
        notifications_create(specs=specs)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_workers_sending_the_same_notification_text_once():
    patient = PatientFactory(phone_number=PHONE)
    NotificationPreference.objects.create(user=patient, sms_enabled=True)
    notification = notification_for(patient)

    results = run_together([lambda: notification_sms_send(notification_id=notification.pk)] * 2)

    assert sorted(r is None for r in results) == [False, True]
    assert len(sms.outbox) == 1
    assert SmsDelivery.objects.count() == 1
