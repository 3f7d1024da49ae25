"""Reads of users and profiles, scoped the way the contract says."""

from django.conf import settings
from django.db.models import QuerySet
from django.db.models.functions import Coalesce

from users.choices import Role
from users.models import Specialty, User


def doctor_list_visible() -> QuerySet[User]:
    """Doctors in the directory and open for booking: active, with a profile, verified if required."""
    doctors = User.objects.filter(role=Role.DOCTOR, is_active=True)
    if settings.DOCTOR_VERIFICATION_REQUIRED:
        # A verified profile is a profile. Written as COALESCE over the LEFT JOIN (not a plain filter, which
        # makes it an inner join) because PostgreSQL estimates an inner join of "doctor-role users" with
        # "verified profiles" as if any user could own any profile: 19 rows of 1,900 at 2,000 doctors. It
        # then hashed and sorted every doctor for a 20-row directory page (1.5 ms) instead of walking
        # `users_user_doctor_by_name` in order and stopping after the page (0.2 ms). A left join to a
        # one-to-one row keeps the doctor count as the estimate, the filter then halves it: close enough.
        doctors = doctors.alias(verified=Coalesce("doctor_profile__is_verified", False)).filter(verified=True)
    else:
        doctors = doctors.filter(doctor_profile__isnull=False)
    return doctors.select_related("doctor_profile", "doctor_profile__specialty")


def doctor_list_all() -> QuerySet[User]:
    """Every doctor with a profile, verified or not (what staff act on)."""
    return User.objects.filter(role=Role.DOCTOR, doctor_profile__isnull=False).select_related(
        "doctor_profile", "doctor_profile__specialty"
    )


def specialty_list() -> QuerySet[Specialty]:
    return Specialty.objects.order_by("name", "pk")
