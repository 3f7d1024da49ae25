"""Timings of the report endpoints at bench scale, in process (no HTTP server), with the main query's plan.

    DATABASE_URL=postgres://... .venv/bin/python bench/reports_timing.py --runs 10

Scenarios (the issue's targets): the staff summary over 90 days and the per-doctor report over 90 days
(p95 <= 500 ms), one doctor's daily timeseries over a year (p95 <= 150 ms). Run it against a database
filled by `manage.py seed_bench`; it only reads.
"""

import argparse
import datetime as dt
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.inprocess import p95, setup  # noqa: E402

setup()

from django.db import connection  # noqa: E402
from django.db.models import Count, Max  # noqa: E402
from rest_framework.test import APIClient  # noqa: E402

from appointments.models import Appointment  # noqa: E402
from users.models import User  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=10)
    args = parser.parse_args()
    latest = Appointment.objects.aggregate(latest=Max("start"))["latest"]
    if latest is None:
        sys.exit("no appointments: run manage.py seed_bench first")
    today = (latest - dt.timedelta(days=60)).date()  # the seed spreads appointments to 60 days ahead
    staff = User.objects.filter(is_staff=True).first() or User.objects.create(
        email="reports-bench@example.com", is_staff=True
    )
    busiest = (
        Appointment.objects.values("doctor_id")
        .annotate(n=Count("id"))
        .order_by("-n")
        .values_list("doctor_id", flat=True)[:1]
    )
    doctor = User.objects.get(pk=busiest[0])
    quarter = f"from={today - dt.timedelta(days=89)}&to={today}"
    year = f"from={today - dt.timedelta(days=365)}&to={today}"
    scenarios = [
        ("staff summary 90 d", staff, f"/api/reports/summary/?{quarter}"),
        ("staff per-doctor 90 d", staff, f"/api/reports/doctors/?{quarter}"),
        ("doctor timeseries 1 y", doctor, f"/api/reports/timeseries/?{year}&bucket=day"),
    ]
    print(f"{connection.vendor}, {Appointment.objects.count()} appointments, busiest doctor {doctor.pk}")
    print(f"| {'scenario':<22} | {'p50 ms':>8} | {'p95 ms':>8} |")
    for name, user, url in scenarios:
        client = APIClient(HTTP_HOST="localhost")
        client.force_authenticate(user)
        assert client.get(url).status_code == 200  # warm-up
        times = []
        for _ in range(args.runs):
            start = time.perf_counter()
            response = client.get(url)
            times.append((time.perf_counter() - start) * 1000)
            assert response.status_code == 200, response.content[:300]
        print(f"| {name:<22} | {statistics.median(times):>8.1f} | {p95(times):>8.1f} |")


if __name__ == "__main__":
    main()
