"""Reads of users and profiles, scoped the way the contract says."""

from django.conf import settings
from django.db.models import QuerySet

from users.choices import Role
from users.models import Specialty, User


def doctor_list_visible() -> QuerySet[User]:
    """Doctors in the directory and open for booking: active, with a profile, verified if required."""
    doctors = User.objects.filter(role=Role.DOCTOR, is_active=True, doctor_profile__isnull=False)
    if settings.DOCTOR_VERIFICATION_REQUIRED:
        doctors = doctors.filter(doctor_profile__is_verified=True)
    return doctors.select_related("doctor_profile", "doctor_profile__specialty")


def doctor_list_all() -> QuerySet[User]:
    """Every doctor with a profile, verified or not (what staff act on)."""
    return User.objects.filter(role=Role.DOCTOR, doctor_profile__isnull=False).select_related(
        "doctor_profile", "doctor_profile__specialty"
    )


def specialty_list() -> QuerySet[Specialty]:
    return Specialty.objects.order_by("name", "pk")
