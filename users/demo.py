"""Demo data for `manage.py seed_demo`: idempotent, safe to run on every start."""

DEMO_PASSWORD = "CyberMed-demo-2026!"


def seed() -> list[tuple[str, str, str]]:
    """Create or refresh demo data and return `(role, email, password)` for each demo login."""
    return []
