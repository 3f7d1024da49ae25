"""Our rows as FHIR R4 resources (plain dicts, rendered as application/fhir+json).

Each function is the one place a resource's shape is decided; the tests validate every one of them
with the `fhir.resources` models. Ids are the API's own ids: Practitioner/{id}, Schedule/{id} (one
schedule per doctor) and Patient/{id} are the user id, Appointment/{id} the appointment id.
"""

import datetime as dt
from collections.abc import Iterable

from appointments.choices import Status
from appointments.models import Appointment
from users.choices import Gender
from users.models import User

FHIR_VERSION = "4.0.1"

# The contract's status map. `referred` has no FHIR twin: the visit did not take place here, so it is
# cancelled, with "referred" as the reason (the follow-up is its own Appointment).
APPOINTMENT_STATUS = {
    Status.PENDING: "pending",
    Status.CONFIRMED: "booked",
    Status.COMPLETED: "fulfilled",
    Status.CANCELLED: "cancelled",
    Status.NO_SHOW: "noshow",
    Status.REFERRED: "cancelled",
}
# FHIR status → ours, for `status=` searches (cancelled covers both of ours).
STATUS_SEARCH = {
    fhir: [ours for ours, mapped in APPOINTMENT_STATUS.items() if mapped == fhir]
    for fhir in dict.fromkeys(APPOINTMENT_STATUS.values())
}
# FHIR's AdministrativeGender has no "prefer not to say": unknown is its nearest word.
GENDER = {Gender.FEMALE: "female", Gender.MALE: "male", Gender.OTHER: "other", Gender.UNDISCLOSED: "unknown"}


def instant(value: dt.datetime) -> str:
    """FHIR instant/dateTime: UTC, seconds precision, `Z`."""
    return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _meta(updated: dt.datetime | None) -> dict:
    return {"meta": {"lastUpdated": instant(updated)}} if updated else {}


def _human_name(user: User) -> list[dict]:
    name: dict = {"use": "official"}
    if user.last_name:
        name["family"] = user.last_name
    if user.first_name:
        name["given"] = [user.first_name]
    full = user.get_full_name()
    if full:
        name["text"] = full
    return [name] if len(name) > 1 else []


def _display(user: User, prefix: str = "") -> str:
    return f"{prefix}{user.get_full_name()}".strip() or f"#{user.pk}"


def reference(resource_type: str, user_or_id: User | int, display: str = "") -> dict:
    pk = user_or_id if isinstance(user_or_id, int) else user_or_id.pk
    ref = {"reference": f"{resource_type}/{pk}"}
    if display:
        ref["display"] = display
    return ref


def appointment(appt: Appointment) -> dict:
    status = APPOINTMENT_STATUS[Status(appt.status)]
    # A pending request waits on the doctor; every other state was settled by both sides.
    doctor_answer = "needs-action" if appt.status == Status.PENDING else "accepted"
    resource: dict = {
        "resourceType": "Appointment",
        "id": str(appt.pk),
        **_meta(appt.updated_at),
        "status": status,
        "start": instant(appt.start),
        "end": instant(appt.end),
        "minutesDuration": max(1, round((appt.end - appt.start).total_seconds() / 60)),
        "created": instant(appt.created_at),
        "participant": [
            {
                "actor": reference("Patient", appt.patient, _display(appt.patient)),
                "required": "required",
                "status": "accepted",
            },
            {
                "actor": reference("Practitioner", appt.doctor, _display(appt.doctor, "Dr ")),
                "required": "required",
                "status": doctor_answer,
            },
        ],
    }
    if appt.status == Status.REFERRED:
        resource["cancelationReason"] = {"text": "referred"}
    elif appt.status == Status.CANCELLED and appt.cancellation_reason:
        resource["cancelationReason"] = {"text": appt.cancellation_reason}
    if appt.reason_for_visit:
        resource["reasonCode"] = [{"text": appt.reason_for_visit}]
    if appt.location:
        resource["comment"] = f"Location: {appt.location}"
    return resource


def practitioner(doctor: User) -> dict:
    profile = doctor.doctor_profile
    resource: dict = {"resourceType": "Practitioner", "id": str(doctor.pk), "active": doctor.is_active}
    names = _human_name(doctor)
    if names:
        resource["name"] = names
    if profile.clinic_address:
        resource["address"] = [{"use": "work", "text": profile.clinic_address}]
    return resource


def schedule(doctor: User) -> dict:
    profile = doctor.doctor_profile
    resource: dict = {
        "resourceType": "Schedule",
        "id": str(doctor.pk),
        "active": doctor.is_active,
        "actor": [reference("Practitioner", doctor, _display(doctor, "Dr "))],
        "comment": f"Slots of {profile.slot_minutes} minutes, in the time zone {profile.timezone}.",
    }
    if profile.specialty_id:
        resource["specialty"] = [{"text": profile.specialty.name}]
    return resource


def slot(doctor_id: int, start: dt.datetime, end: dt.datetime) -> dict:
    return {
        "resourceType": "Slot",
        # Slots are computed, not stored: the id is the schedule and the start, which identify one.
        "id": f"{doctor_id}-{start.astimezone(dt.UTC):%Y%m%dT%H%M%SZ}",
        "schedule": reference("Schedule", doctor_id),
        "status": "free",
        "start": instant(start),
        "end": instant(end),
    }


def patient(user: User) -> dict:
    resource: dict = {"resourceType": "Patient", "id": str(user.pk), "active": user.is_active}
    names = _human_name(user)
    if names:
        resource["name"] = names
    telecom = [{"system": "email", "value": user.email}]
    if user.phone_number:
        telecom.append({"system": "phone", "value": str(user.phone_number)})
    resource["telecom"] = telecom
    if user.gender:
        resource["gender"] = GENDER[Gender(user.gender)]
    profile = getattr(user, "patient_profile", None)
    if profile is not None and profile.date_of_birth:
        resource["birthDate"] = profile.date_of_birth.isoformat()
    return resource


def searchset(*, entries: Iterable[dict], total: int, base: str, links: dict[str, str]) -> dict:
    return {
        "resourceType": "Bundle",
        "type": "searchset",
        "total": total,
        "link": [{"relation": relation, "url": url} for relation, url in links.items()],
        "entry": [
            {"fullUrl": f"{base}{r['resourceType']}/{r['id']}", "resource": r, "search": {"mode": "match"}}
            for r in entries
        ],
    }


def operation_outcome(*, code: str, diagnostics: str) -> dict:
    return {
        "resourceType": "OperationOutcome",
        "issue": [{"severity": "error", "code": code, "diagnostics": diagnostics}],
    }
