import datetime as dt

import factory
from django.utils import timezone
from factory.django import DjangoModelFactory

from notifications.choices import Kind
from notifications.models import Notification, NotificationPreference, WaitlistEntry
from users.tests.factories import DoctorFactory, PatientFactory


class NotificationFactory(DjangoModelFactory):
    """Written straight to the database (no email queued); notifications_create is tested separately."""

    class Meta:
        model = Notification

    user = factory.SubFactory(PatientFactory)
    kind = Kind.REMINDER
    title = "Appointment reminder"
    message = factory.Sequence(lambda n: f"Reminder #{n}: your appointment is tomorrow.")
    data = factory.LazyFunction(dict)


class NotificationPreferenceFactory(DjangoModelFactory):
    class Meta:
        model = NotificationPreference
        django_get_or_create = ("user",)

    user = factory.SubFactory(PatientFactory)


class WaitlistEntryFactory(DjangoModelFactory):
    class Meta:
        model = WaitlistEntry

    patient = factory.SubFactory(PatientFactory)
    doctor = factory.SubFactory(DoctorFactory)
    start_date = factory.LazyFunction(lambda: timezone.localdate() + dt.timedelta(days=7))
    end_date = factory.LazyAttribute(lambda o: o.start_date)
