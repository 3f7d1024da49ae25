"""Timings of the busiest doctor's ICS feed at bench scale, in process (no HTTP server), with its query count.

    DATABASE_URL=postgres://... .venv/bin/python bench/calendar_timing.py --runs 20

The issue's target: a busy doctor's feed at 1M appointments, p95 <= 200 ms and <= 5 queries. Four ways:
"cold" renders every event (the whole cache is cleared before each request: a restart with an empty cache),
"changed" follows a change to one of the doctor's appointments (a new ETag, so the body is rebuilt, but
every other event's VEVENT comes from the cache), "warm" serves the body cached under its ETag, "304" is a
calendar app revalidating with If-None-Match. Run it against a database filled by `manage.py seed_bench`;
it creates one feed token for the doctor (rotating any earlier one) and, in "changed", moves one
appointment's `updated_at`. `--pad-to N` first adds appointments to that doctor (free weekday slots of their
grid, 09:00-17:00 in their zone, each with a patient who has none) until the feed window holds N: the
seed's busiest doctor has about 650 in the window, the issue's busy feed about 2,000.
"""

import argparse
import datetime as dt
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.inprocess import p95, setup  # noqa: E402

setup(THROTTLE_CALENDAR_FEED="none")  # 80 fetches from one address in a few seconds

from django.core.cache import cache  # noqa: E402
from django.db import connection  # noqa: E402
from django.db.models import Count  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.utils import timezone  # noqa: E402
from rest_framework.test import APIClient  # noqa: E402

from appointments.models import Appointment  # noqa: E402
from calendars.selectors import AHEAD, PAST  # noqa: E402
from calendars.services import calendar_feed_rotate  # noqa: E402
from users.models import User  # noqa: E402


def pad_feed(doctor: User, target: int, now: dt.datetime) -> int:
    """Add appointments to `doctor` on free slots of their grid until the feed window holds `target`."""
    window = Appointment.objects.filter(doctor=doctor, start__gte=now - PAST, start__lte=now + AHEAD)
    missing = target - window.count()
    if missing <= 0:
        return 0
    taken = set(window.values_list("start", flat=True))
    patients = iter(
        User.objects.filter(role="patient", appointments_as_patient__isnull=True).values_list("pk", flat=True)
    )
    profile = doctor.doctor_profile
    zone, length = profile.zone, dt.timedelta(minutes=profile.slot_minutes)
    rows = []
    day = (now - PAST).astimezone(zone).date() + dt.timedelta(days=1)
    while len(rows) < missing and day < (now + AHEAD).astimezone(zone).date():
        if day.weekday() < 5:
            start = dt.datetime.combine(day, dt.time(9), tzinfo=zone)
            while start + length <= dt.datetime.combine(day, dt.time(17), tzinfo=zone) and len(rows) < missing:
                if start not in taken:
                    status = "completed" if start < now else "confirmed"
                    rows.append(
                        Appointment(
                            doctor=doctor, patient_id=next(patients), start=start, end=start + length, status=status
                        )
                    )
                start += length
        day += dt.timedelta(days=1)
    Appointment.objects.bulk_create(rows)
    return len(rows)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--pad-to", type=int, default=0, help="first give the busiest doctor this many in the window")
    args = parser.parse_args()
    now = timezone.now()
    in_window = Appointment.objects.filter(start__gte=now - PAST, start__lte=now + AHEAD)
    busiest = in_window.values("doctor_id").annotate(n=Count("id")).order_by("-n").first()
    if busiest is None:
        sys.exit("no appointments in the feed window: run manage.py seed_bench first")
    doctor = User.objects.get(pk=busiest["doctor_id"])
    if args.pad_to:
        print(f"added {pad_feed(doctor, args.pad_to, now)} appointments to doctor {doctor.pk}")
        busiest["n"] = in_window.filter(doctor=doctor).count()
    url = f"/calendar/{calendar_feed_rotate(user=doctor)}.ics"
    client = APIClient(HTTP_HOST="localhost")
    first = client.get(url)
    assert first.status_code == 200, first.content[:300]
    events = first.content.count(b"BEGIN:VEVENT")
    print(
        f"{connection.vendor}, {Appointment.objects.count():,} appointments; busiest doctor {doctor.pk}: "
        f"{busiest['n']} appointments in the window, {events} events, {len(first.content):,} bytes"
    )
    print(f"| {'feed':<6} | {'p50 ms':>8} | {'p95 ms':>8} | {'queries':>7} |")
    touched = in_window.filter(doctor=doctor).order_by("start").first()
    etag = first["ETag"]
    for name in ("cold", "changed", "warm", "304"):
        times, queries = [], []
        for _ in range(args.runs):
            if name == "cold":
                cache.clear()
            elif name == "changed":
                Appointment.objects.filter(pk=touched.pk).update(updated_at=timezone.now())
            headers = {"HTTP_IF_NONE_MATCH": etag} if name == "304" else {}
            with CaptureQueriesContext(connection) as captured:
                start = time.perf_counter()
                response = client.get(url, **headers)
                times.append((time.perf_counter() - start) * 1000)
            assert response.status_code == (304 if name == "304" else 200), response.status_code
            queries.append(len(captured))
            etag = response.get("ETag", etag)
        print(f"| {name:<6} | {statistics.median(times):>8.1f} | {p95(times):>8.1f} | {max(queries):>7} |")


if __name__ == "__main__":
    main()
