import pytest
from django.core import mail

from messaging import services
from messaging.choices import MessageStatus
from messaging.exceptions import NotAllowed
from messaging.models import Thread
from messaging.tasks import send_message_email
from messaging.tests.factories import MessageFactory
from notifications.models import NotificationPreference
from users.tests.factories import DoctorFactory, PatientFactory, StaffFactory

pytestmark = pytest.mark.django_db


def test_posting_moves_the_senders_watermark_and_the_threads_last_message(patient, doctor, thread):
    message = services.message_post(thread_id=thread.pk, sender=doctor, body="hi")

    thread.refresh_from_db()
    assert (thread.last_message_id, thread.doctor_read_up_to, thread.patient_read_up_to) == (message.pk, message.pk, 0)
    assert thread.updated_at == message.created_at


def test_an_outsider_cannot_post(thread):
    with pytest.raises(Thread.DoesNotExist):
        services.message_post(thread_id=thread.pk, sender=PatientFactory(), body="hi")


@pytest.mark.parametrize("make", [PatientFactory, StaffFactory])
def test_a_patient_cannot_open_a_thread_with_a_non_doctor(patient, make):
    with pytest.raises(NotAllowed):
        services.thread_open(user=patient, counterpart=make())


def test_two_doctors_cannot_have_a_thread():
    with pytest.raises(NotAllowed):
        services.thread_open(user=DoctorFactory(), counterpart=DoctorFactory())


def test_thread_open_returns_the_existing_thread(patient, doctor, thread):
    assert services.thread_open(user=doctor, counterpart=patient) == (thread, False)
    assert Thread.objects.count() == 1


# --- The "new message" email, re-checked when it is sent -------------------------------------------


def test_email_is_sent_when_still_unread(patient, doctor, thread):
    message = MessageFactory(thread=thread, sender=doctor)

    assert send_message_email.call(message_id=message.pk, recipient_id=patient.pk) is True
    assert len(mail.outbox) == 1


def test_no_email_when_read_meanwhile(patient, doctor, thread):
    message = MessageFactory(thread=thread, sender=doctor)
    services.thread_mark_read(thread=thread, user=patient, up_to=message.pk)

    assert send_message_email.call(message_id=message.pk, recipient_id=patient.pk) is False
    assert mail.outbox == []


def test_no_email_when_retracted_meanwhile(patient, doctor, thread):
    message = MessageFactory(thread=thread, sender=doctor)
    services.message_retract(message=message, by=doctor)

    assert send_message_email.call(message_id=message.pk, recipient_id=patient.pk) is False


def test_a_burst_of_messages_gets_one_email(patient, doctor, thread):
    first, last = MessageFactory(thread=thread, sender=doctor), MessageFactory(thread=thread, sender=doctor)

    assert send_message_email.call(message_id=first.pk, recipient_id=patient.pk) is False
    assert send_message_email.call(message_id=last.pk, recipient_id=patient.pk) is True
    assert len(mail.outbox) == 1


def test_no_email_when_email_is_off_or_user_inactive_or_not_a_participant(patient, doctor, thread):
    message = MessageFactory(thread=thread, sender=doctor)
    NotificationPreference.objects.create(user=patient, email_enabled=False)

    assert send_message_email.call(message_id=message.pk, recipient_id=patient.pk) is False
    assert send_message_email.call(message_id=message.pk, recipient_id=PatientFactory().pk) is False
    doctor.is_active = False
    doctor.save()
    reply = MessageFactory(thread=thread, sender=patient)
    assert send_message_email.call(message_id=reply.pk, recipient_id=doctor.pk) is False
    assert send_message_email.call(message_id=10**9, recipient_id=doctor.pk) is False
    assert mail.outbox == []


def test_retract_keeps_the_text_and_sets_the_time(patient, thread):
    message = MessageFactory(thread=thread, sender=patient, body="kept")

    retracted = services.message_retract(message=message, by=patient)

    assert (retracted.status, retracted.body, retracted.retracted_at is not None) == (
        MessageStatus.RETRACTED,
        "kept",
        True,
    )


def test_unread_total_counts_other_peoples_unread_sent_messages_across_threads(patient, doctor, thread):
    from messaging.selectors import unread_total
    from messaging.tests.factories import ThreadFactory

    other = ThreadFactory(patient=patient)
    first = MessageFactory(thread=thread, sender=doctor)
    MessageFactory(thread=thread, sender=doctor)
    MessageFactory(thread=thread, sender=patient)
    services.message_retract(message=MessageFactory(thread=other, sender=other.doctor), by=other.doctor)
    MessageFactory(thread=other, sender=other.doctor)
    services.thread_mark_read(thread=thread, user=patient, up_to=first.pk)

    assert unread_total(user=patient) == 2
    assert unread_total(user=doctor) == 1  # the patient's message
    assert unread_total(user=StaffFactory()) == 0
