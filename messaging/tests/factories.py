import factory
from factory.django import DjangoModelFactory

from appointments.tests.factories import AppointmentFactory, next_slot
from messaging.models import Message, Thread
from users.tests.factories import DoctorFactory, PatientFactory


class ThreadFactory(DjangoModelFactory):
    """A thread whose patient and doctor share an appointment, as the service requires."""

    class Meta:
        model = Thread
        skip_postgeneration_save = True

    patient = factory.SubFactory(PatientFactory)
    doctor = factory.SubFactory(DoctorFactory)
    appointment = factory.RelatedFactory(
        AppointmentFactory,
        patient=factory.SelfAttribute("..patient"),
        doctor=factory.SelfAttribute("..doctor"),
        # A different hour each, so one patient's threads never put two appointments at one time.
        start=factory.Sequence(lambda n: next_slot(days=1 + n // 8, hour=9 + n % 8)),
    )


class MessageFactory(DjangoModelFactory):
    class Meta:
        model = Message

    thread = factory.SubFactory(ThreadFactory)
    sender = factory.LazyAttribute(lambda o: o.thread.patient)
    body = factory.Sequence(lambda n: f"Message number {n}")
