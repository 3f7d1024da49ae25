#!/usr/bin/env python
"""EXPLAIN (ANALYZE, BUFFERS) of every query the hot endpoints run, against a seeded database.

    .venv/bin/python bench/explain.py --database-url postgres://postgres@127.0.0.1:5432/bench_large

Each endpoint is called once through DRF's test client (warm-up) and once under
CaptureQueriesContext; each captured SELECT is then explained. The booking runs inside a transaction
that is rolled back, so the database is left as it was. Key plan lines go to stdout, full plans to
bench/results/explain-<db>.txt.
"""

import argparse
import datetime as dt
import os
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.run import RESULTS, busiest_users, server_env  # noqa: E402

KEY = re.compile(r"(Scan|Sort|Limit|Join|Loop|Aggregate|Rows Removed|Index Cond|Filter|Execution Time|Heap Fetches)")


class Rollback(Exception):
    pass


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", required=True)
    args = parser.parse_args()
    env = server_env(args.database_url)
    env.update(ALLOWED_HOSTS="testserver,127.0.0.1", LOG_LEVEL="ERROR")
    os.environ.update(env)
    import django

    django.setup()
    from django.db import connection, transaction
    from django.db.models import Exists, OuterRef, Q
    from django.test.utils import CaptureQueriesContext
    from rest_framework.test import APIClient

    from appointments.models import Appointment
    from bench.management.commands.seed_bench import BENCH_DOMAIN, BENCH_PASSWORD
    from users.models import DoctorProfile, User

    today = dt.datetime.now(dt.UTC).date()
    busy_doctor_id, busy_patient_id, slots_doctor = busiest_users()
    busy_doctor, busy_patient = User.objects.get(pk=busy_doctor_id), User.objects.get(pk=busy_patient_id)
    specialty = DoctorProfile.objects.filter(is_verified=True).values_list("specialty_id", flat=True).first()
    idle = (
        User.objects.filter(role="patient", email__endswith=f"@{BENCH_DOMAIN}")
        .filter(~Exists(Appointment.objects.filter(Q(patient=OuterRef("pk")) | Q(doctor=OuterRef("pk")))))
        .order_by("id")
        .first()
    )
    first, last = today, today + dt.timedelta(days=61)

    def client(user: User | None) -> APIClient:
        c = APIClient()
        if user is not None:
            c.force_authenticate(user)
        return c

    patient_client = client(busy_patient)
    slots_path = f"/api/doctors/{slots_doctor}/slots/?start={first}&end={last}"
    free = patient_client.get(f"/api/doctors/{slots_doctor}/slots/?start={today + dt.timedelta(days=1)}&end={last}")
    booking = {"doctor": slots_doctor, "start": free.json()[0]["start"], "reason_for_visit": "bench explain"}
    endpoints = [
        ("login", None, "post", "/api/auth/login/", {"email": busy_patient.email, "password": BENCH_PASSWORD}),
        ("directory", busy_patient, "get", f"/api/doctors/?specialty={specialty}", None),
        ("slots", busy_patient, "get", slots_path, None),
        ("list_patient", busy_patient, "get", "/api/appointments/?page_size=20", None),
        ("list_doctor", busy_doctor, "get", "/api/appointments/?page_size=20", None),
        ("floor_patient", None, "get", f"/bench/floor/appointments/?user={busy_patient.pk}&role=patient", None),
        ("floor_doctor", None, "get", f"/bench/floor/appointments/?user={busy_doctor.pk}&role=doctor", None),
        ("book", idle, "post", "/api/appointments/", booking),
    ]
    RESULTS.mkdir(parents=True, exist_ok=True)
    db_name = connection.settings_dict["NAME"]
    full = [f"# {db_name}: {Appointment.objects.count():,} appointments\n"]
    print(full[0])
    for name, user, method, path, body in endpoints:
        c = client(user)
        try:
            with transaction.atomic():
                if method == "get":
                    c.get(path)  # warm-up: imports, caches, the connection's catalog lookups
                with CaptureQueriesContext(connection) as ctx:
                    response = getattr(c, method)(path, body, format="json")
                plans = []
                for query in ctx.captured_queries:
                    sql = query["sql"]
                    if not sql.lstrip().upper().startswith("SELECT"):
                        plans.append((sql, None))
                        continue
                    with connection.cursor() as cursor:
                        cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql)
                        plans.append((sql, [row[0] for row in cursor.fetchall()]))
                raise Rollback
        except Rollback:
            pass
        header = f"## {name}: {method.upper()} {path} -> {response.status_code}, {len(plans)} queries"
        print(header)
        full.append(header + "\n")
        for n, (sql, plan) in enumerate(plans, 1):
            short = re.sub(r"\s+", " ", sql)
            print(f"  [{n}] {short[:160]}{'...' if len(short) > 160 else ''}")
            full.append(f"\n[{n}] {sql}\n")
            if plan is None:
                print("      (not a SELECT: not explained)")
                continue
            full.extend(f"    {line}\n" for line in plan)
            for line in plan:
                if KEY.search(line):
                    print(f"      {line.strip()[:150]}")
        full.append("\n")
    out = RESULTS / f"explain-{db_name}.txt"
    out.write_text("".join(full))
    print(f"\nFull plans: {out}")


if __name__ == "__main__":
    main()
