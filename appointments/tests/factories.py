import datetime as dt

import factory
from django.utils import timezone
from factory.django import DjangoModelFactory

from appointments.choices import Status
from appointments.models import Appointment, AppointmentNote, AvailabilityRule, StatusChange, TimeOff
from users.tests.factories import DoctorFactory, PatientFactory


def next_slot(days: int = 1, hour: int = 10) -> dt.datetime:
    """A whole-hour UTC datetime `days` from today (on any 30-minute grid anchored at an hour)."""
    today = timezone.now().astimezone(dt.UTC).date()
    return dt.datetime.combine(today + dt.timedelta(days=days), dt.time(hour), tzinfo=dt.UTC)


class AvailabilityRuleFactory(DjangoModelFactory):
    class Meta:
        model = AvailabilityRule

    doctor = factory.SubFactory(DoctorFactory)
    weekday = 0
    start_time = dt.time(9)
    end_time = dt.time(17)


class TimeOffFactory(DjangoModelFactory):
    class Meta:
        model = TimeOff

    doctor = factory.SubFactory(DoctorFactory)
    start = factory.LazyFunction(lambda: next_slot(days=2, hour=9))
    end = factory.LazyAttribute(lambda o: o.start + dt.timedelta(hours=2))
    reason = "Conference"


class AppointmentFactory(DjangoModelFactory):
    """Written straight to the database: it does not check availability (services do)."""

    class Meta:
        model = Appointment

    doctor = factory.SubFactory(DoctorFactory)
    patient = factory.SubFactory(PatientFactory)
    start = factory.LazyFunction(next_slot)
    end = factory.LazyAttribute(lambda o: o.start + dt.timedelta(minutes=30))
    reason_for_visit = "Check-up"
    status = Status.PENDING
    created_by = factory.LazyAttribute(lambda o: o.patient)


class StatusChangeFactory(DjangoModelFactory):
    class Meta:
        model = StatusChange

    appointment = factory.SubFactory(AppointmentFactory)
    from_status = Status.PENDING
    to_status = Status.CONFIRMED


class AppointmentNoteFactory(DjangoModelFactory):
    class Meta:
        model = AppointmentNote

    appointment = factory.SubFactory(AppointmentFactory)
    author = factory.LazyAttribute(lambda o: o.appointment.doctor)
    text = "Bring previous lab results."
