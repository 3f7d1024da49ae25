"""Writes of consultations. Each create or change is versioned, audited and announced in one transaction.

Who may call these is decided by the caller (the API lets only the record's doctor write; the admin
requires the `change_consultation` permission); the rules about the record itself live here.
"""

import datetime as dt
import zoneinfo
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from appointments.choices import Status
from appointments.models import Appointment
from consultations.audit import access_log_record
from consultations.choices import AccessAction, AccessChannel
from consultations.models import CONTENT_FIELDS, Consultation, validate_prescriptions
from consultations.selectors import consultation_exists_for
from consultations.signals import consultation_saved
from cybermed.exceptions import AlreadyExists, InvalidTransition
from users.models import DoctorProfile, User

# A consultation records a visit that is going ahead or has happened.
CONSULTABLE_STATUSES = (Status.CONFIRMED, Status.COMPLETED)


def appointment_local_date(*, appointment: Appointment) -> dt.date:
    """The appointment's calendar date where the doctor works (UTC if the doctor has no profile)."""
    name = DoctorProfile.objects.filter(user_id=appointment.doctor_id).values_list("timezone", flat=True).first()
    try:
        tz = zoneinfo.ZoneInfo(name or "UTC")
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        tz = dt.UTC
    return appointment.start.astimezone(tz).date()


def consultation_validate_content(*, appointment: Appointment, changes: dict[str, Any]) -> None:
    """Rules on the clinical content that the serializer cannot check alone; raises a field-keyed error."""
    unknown = set(changes) - set(CONTENT_FIELDS)
    if unknown:
        raise TypeError(f"not consultation content: {sorted(unknown)}")
    if "prescriptions" in changes:
        try:
            validate_prescriptions(changes["prescriptions"])
        except ValidationError as error:
            raise ValidationError({"prescriptions": error.messages}) from error
    review_date = changes.get("review_date")
    if review_date is not None:
        visit_date = appointment_local_date(appointment=appointment)
        if review_date < visit_date:
            message = f"The review date cannot be before the appointment ({visit_date})."
            raise ValidationError({"review_date": [message]})


@transaction.atomic
def consultation_create(
    *,
    appointment: Appointment,
    actor: User,
    client_ip: str | None,
    channel: AccessChannel = AccessChannel.API,
    **content: Any,
) -> Consultation:
    """Write the consultation of a confirmed or completed appointment, as that appointment's doctor."""
    # Locking the appointment serializes concurrent writes for it (and a concurrent status change);
    # the unique constraint still stands behind the check below.
    appt = Appointment.objects.select_for_update().get(pk=appointment.pk)
    if appt.doctor_id != actor.pk:
        raise ValidationError({"appointment": ["No such appointment."]})
    if consultation_exists_for(appointment=appt):
        raise AlreadyExists("This appointment already has a consultation; amend it instead.")
    if appt.status not in CONSULTABLE_STATUSES:
        raise InvalidTransition(
            f"A consultation can only be written for a confirmed or completed appointment, not a {appt.status} one."
        )
    consultation_validate_content(appointment=appt, changes=content)

    consultation = Consultation(appointment=appt, doctor_id=appt.doctor_id, patient_id=appt.patient_id, **content)
    consultation._history_user = actor
    consultation.save()
    access_log_record(
        actor=actor, consultations=[consultation], action=AccessAction.CREATE, channel=channel, client_ip=client_ip
    )
    consultation_saved.send(sender=Consultation, consultation=consultation, created=True, actor=actor)
    return consultation


@transaction.atomic
def consultation_update(
    *,
    consultation: Consultation,
    actor: User,
    client_ip: str | None,
    channel: AccessChannel = AccessChannel.API,
    **changes: Any,
) -> Consultation:
    """Amend the clinical content. The previous version stays in the history with who changed it.

    A request that changes nothing is still audited (the caller got the record back) but creates no
    revision and announces nothing.
    """
    record = Consultation.objects.select_for_update().select_related("appointment").get(pk=consultation.pk)
    consultation_validate_content(appointment=record.appointment, changes=changes)

    changed = [name for name, value in changes.items() if getattr(record, name) != value]
    for name in changed:
        setattr(record, name, changes[name])
    if changed:
        record._history_user = actor
        record.save()
    access_log_record(
        actor=actor, consultations=[record], action=AccessAction.UPDATE, channel=channel, client_ip=client_ip
    )
    if changed:
        consultation_saved.send(sender=Consultation, consultation=record, created=False, actor=actor)
    return record
