import factory
from factory.django import DjangoModelFactory

from users.choices import Role
from users.models import DoctorProfile, PatientProfile, Specialty, User

DEFAULT_PASSWORD = "Str0ng-test-passphrase!"


class SpecialtyFactory(DjangoModelFactory):
    class Meta:
        model = Specialty
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"Specialty {n}")


class UserFactory(DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"user{n}@example.com")
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    is_active = True
    password = factory.django.Password(DEFAULT_PASSWORD)


class PatientFactory(UserFactory):
    email = factory.Sequence(lambda n: f"patient{n}@example.com")
    role = Role.PATIENT
    patient_profile = factory.RelatedFactory("users.tests.factories.PatientProfileFactory", factory_related_name="user")


class PatientProfileFactory(DjangoModelFactory):
    class Meta:
        model = PatientProfile

    user = factory.SubFactory(PatientFactory, patient_profile=None)


class DoctorFactory(UserFactory):
    """A verified doctor with a profile (UTC, 30-minute slots) unless told otherwise."""

    email = factory.Sequence(lambda n: f"doctor{n}@example.com")
    role = Role.DOCTOR
    doctor_profile = factory.RelatedFactory("users.tests.factories.DoctorProfileFactory", factory_related_name="user")


class DoctorProfileFactory(DjangoModelFactory):
    class Meta:
        model = DoctorProfile

    user = factory.SubFactory(DoctorFactory, doctor_profile=None)
    specialty = factory.SubFactory(SpecialtyFactory, name="General Practice")
    clinic_name = "Central Clinic"
    clinic_address = "1 Health Street"
    timezone = "UTC"
    slot_minutes = 30
    experience_years = 5
    is_verified = True


class StaffFactory(UserFactory):
    email = factory.Sequence(lambda n: f"staff{n}@example.com")
    is_staff = True
