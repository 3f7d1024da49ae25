"""Reads of consultations, always scoped to the caller."""

import datetime as dt
from typing import Any

from django.db.models import QuerySet

from appointments.models import Appointment
from consultations.models import CONTENT_FIELDS, Consultation
from users.models import User


def consultation_list_for(*, user: User) -> QuerySet[Consultation]:
    """The caller's own records: a doctor's are the ones they wrote, a patient's the ones about them."""
    if user.is_doctor:
        return Consultation.objects.filter(doctor=user)
    if user.is_patient:
        return Consultation.objects.filter(patient=user)
    return Consultation.objects.none()


def consultation_visible_to(*, user: User) -> QuerySet[Consultation]:
    """What the caller may open: their own (as `consultation_list_for`), and every record for staff."""
    if user.is_staff:
        return Consultation.objects.all()
    return consultation_list_for(user=user)


def consultation_exists_for(*, appointment: Appointment) -> bool:
    return Consultation.objects.filter(appointment=appointment).exists()


def _plain(value: Any) -> Any:
    return value.isoformat() if isinstance(value, dt.date) else value


def consultation_revisions(*, consultation: Consultation) -> list[dict[str, Any]]:
    """The earlier versions of the record, oldest first: each version's clinical content, and who replaced it,
    when, which fields that change touched, and their old values.

    Built from the django-simple-history rows in one query. A save that changed no clinical field
    (possible through the admin) is not a revision and is left out.
    """
    records = list(consultation.history.order_by("history_date", "history_id"))
    revisions = []
    for previous, record in zip(records, records[1:], strict=False):
        changed = [name for name in CONTENT_FIELDS if getattr(record, name) != getattr(previous, name)]
        if not changed:
            continue
        revisions.append(
            {
                "changed_by": record.history_user_id,
                "changed_at": record.history_date,
                "changed_fields": changed,
                "old_values": {name: _plain(getattr(previous, name)) for name in changed},
                **{name: getattr(previous, name) for name in CONTENT_FIELDS},
            }
        )
    return revisions
