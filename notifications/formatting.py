"""How times and people are written in notifications: always in the clinic's zone, with the zone named."""

import datetime as dt
import zoneinfo

from users.choices import Role
from users.models import User


def zone_name_of(doctor: User) -> str:
    profile = getattr(doctor, "doctor_profile", None)
    return profile.timezone if profile is not None else "UTC"


def zone_of(zone_name: str) -> zoneinfo.ZoneInfo:
    try:
        return zoneinfo.ZoneInfo(zone_name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return zoneinfo.ZoneInfo("UTC")


def format_local(moment: dt.datetime, zone_name: str) -> str:
    """E.g. "Monday 2 March 2026, 09:00 (Africa/Lagos)"."""
    zone = zone_of(zone_name)
    local = moment.astimezone(zone)
    zone_name = zone.key
    return f"{local:%A} {local.day} {local:%B %Y, %H:%M} ({zone_name})"


def name_of(*, first_name: str, last_name: str, email: str, role: str) -> str:
    """How a user is named to the other party of an appointment, from the columns (lists read no instances)."""
    name = f"{first_name} {last_name}".strip() or email  # User.get_full_name(), else the email
    return f"Dr {name}" if role == Role.DOCTOR else name


def doctor_name(doctor: User) -> str:
    return name_of(first_name=doctor.first_name, last_name=doctor.last_name, email=doctor.email, role=Role.DOCTOR)


def person_name(user: User) -> str:
    """How `user` is named to the other party of an appointment."""
    return name_of(first_name=user.first_name, last_name=user.last_name, email=user.email, role=user.role)
