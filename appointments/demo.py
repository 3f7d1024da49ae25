"""Scheduling demo data for `manage.py seed_demo` (called from users.demo)."""

from users.models import User


def seed_scheduling(*, doctors: list[User], patients: list[User]) -> None:
    """Create weekly availability for each doctor and a few appointments in every status; idempotent."""
