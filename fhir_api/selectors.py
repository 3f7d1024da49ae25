"""FHIR reads, scoped exactly as the REST API scopes the same rows (the scoping itself is reused, not copied)."""

import datetime as dt

from django.db.models import QuerySet

from appointments import selectors as appointment_selectors
from appointments.models import Appointment
from cybermed.api.fields import MAX_DATETIME, MIN_DATETIME
from fhir_api.resources import STATUS_SEARCH
from fhir_api.search import DateBound, SearchError
from users.choices import Role
from users.models import User
from users.selectors import doctor_list_visible

# Slot searches span at most this many days, as GET /api/doctors/{id}/slots/ does.
MAX_SLOT_DAYS = 62


def appointments_visible(*, user: User) -> QuerySet[Appointment]:
    """Patients their own, doctors theirs, staff all: /api/appointments/'s queryset."""
    return appointment_selectors.appointment_list_visible(user=user)


def appointment_search(
    *,
    user: User,
    ids: list[int],
    patient_id: int | None,
    practitioner_id: int | None,
    actors: list[tuple[str, int]],
    dates: list[DateBound],
    statuses: list[set[str]],
) -> QuerySet[Appointment]:
    qs = appointments_visible(user=user)
    if ids:
        qs = qs.filter(pk__in=ids)
    if patient_id is not None:
        qs = qs.filter(patient_id=patient_id)
    if practitioner_id is not None:
        qs = qs.filter(doctor_id=practitioner_id)
    for resource_type, pk in actors:
        qs = qs.filter(patient_id=pk) if resource_type == "Patient" else qs.filter(doctor_id=pk)
    for bound in dates:
        qs = qs.filter(bound.q("start"))
    for alternatives in statuses:
        qs = qs.filter(status__in=[ours for fhir in alternatives for ours in STATUS_SEARCH[fhir]])
    return qs.order_by("start", "id")


def practitioner_get(*, pk: int) -> User | None:
    """A doctor in the directory (what GET /api/doctors/{id}/ shows to any signed-in user)."""
    return doctor_list_visible().filter(pk=pk).first()


def patient_get(*, user: User, pk: int) -> User | None:
    """A patient themself; a doctor the patients they have an appointment with; staff every patient."""
    if user.role == Role.PATIENT:
        visible = User.objects.filter(pk=user.pk, role=Role.PATIENT).select_related("patient_profile")
    else:
        visible = appointment_selectors.patient_list_for(user=user)
    return visible.filter(pk=pk).first()


def free_slots(*, doctor: User, bounds: list[DateBound], default_days: int) -> list[tuple[dt.datetime, dt.datetime]]:
    """The doctor's bookable slots whose start satisfies every bound, from the availability engine.

    The bounds must give a lower limit; without an upper one the window is `default_days` long.
    """
    lowers = [b.lower for b in bounds if b.lower is not None]
    uppers = [b.upper for b in bounds if b.upper is not None]
    if not lowers:
        raise SearchError("start=ge<date> (or gt, eq) is required: the first instant to look from.")
    low = max(lowers)
    if not MIN_DATETIME <= low <= MAX_DATETIME - dt.timedelta(days=MAX_SLOT_DAYS):
        raise SearchError("The start range is too close to the ends of the calendar.")
    high = min(uppers) if uppers else low + dt.timedelta(days=default_days)
    if high - low > dt.timedelta(days=MAX_SLOT_DAYS):
        raise SearchError(f"The start range may span at most {MAX_SLOT_DAYS} days.")
    if high <= low:
        return []
    profile = doctor.doctor_profile
    first = low.astimezone(profile.zone).date()
    last = (high - dt.timedelta(microseconds=1)).astimezone(profile.zone).date()
    slots = appointment_selectors.doctor_free_slots(profile=profile, first=first, last=last)
    return [(a, b) for a, b in slots if all(bound.matches(a) for bound in bounds)]


def schedule_doctor(*, pk: int) -> User | None:
    """The doctor behind `Schedule/<id>`, if they are in the directory."""
    return doctor_list_visible().filter(pk=pk).first()
