"""How times and people are written in notifications: always in the clinic's zone, with the zone named."""

import datetime as dt
import zoneinfo

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


def doctor_name(doctor: User) -> str:
    return f"Dr {doctor.get_full_name() or doctor.email}"


def person_name(user: User) -> str:
    """How `user` is named to the other party of an appointment."""
    if user.is_doctor:
        return doctor_name(user)
    return user.get_full_name() or user.email
