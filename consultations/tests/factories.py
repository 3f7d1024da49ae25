import factory
from factory.django import DjangoModelFactory

from appointments.choices import Status
from appointments.tests.factories import AppointmentFactory, next_slot
from consultations.models import Consultation


class ConsultationFactory(DjangoModelFactory):
    """Written straight to the database (no audit row, no signal); the services are tested separately."""

    class Meta:
        model = Consultation

    # Distinct starts, so that several records of one doctor or patient never collide on a slot.
    appointment = factory.SubFactory(
        AppointmentFactory,
        status=Status.CONFIRMED,
        start=factory.Sequence(lambda n: next_slot(days=2 + n // 8, hour=9 + n % 8)),
    )
    doctor = factory.LazyAttribute(lambda o: o.appointment.doctor)
    patient = factory.LazyAttribute(lambda o: o.appointment.patient)
    medical_history = "No known allergies."
    examination_findings = "BP 120/80."
    investigations = "Full blood count."
    treatment_plan = "Rest and fluids."
    prescriptions = factory.LazyFunction(
        lambda: [{"drug": "Paracetamol", "dose": "500 mg", "frequency": "8-hourly", "duration": "5 days", "notes": ""}]
    )
    review_date = None
