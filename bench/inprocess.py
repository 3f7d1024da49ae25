"""Set-up shared by the in-process timing scripts (`bench/*_timing.py`): Django configured, and the p95 they print."""

import os

import django


def setup(**environ: str) -> None:
    """Configure Django with the product's settings (DATABASE_URL from the environment); `environ` as defaults."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cybermed.settings")
    for name, value in environ.items():
        os.environ.setdefault(name, value)
    django.setup()


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
