#!/usr/bin/env python
"""In-process server time of each list endpoint (issue 19): Django's WSGI handler called directly, no HTTP server.

    .venv/bin/python bench/list_timing.py --database-url postgres://postgres@127.0.0.1:5432/bench_large

What one request costs the server from the WSGI environ to the last byte of the body (middleware, JWT
authentication, throttles, filters, queries, rendering, the access log line), for full 20-row pages of
every list endpoint (`bench.fixtures.full_pages` adds the rows a seeded database lacks and removes them
afterwards), the slots endpoint, a 401, and the plain-Django floor of each list (`bench/floor.py`, same
rows). Requests are interleaved round-robin (one of each, again and again), so that a change in the
machine's load weighs on every endpoint alike; the first `--warmup` rounds are discarded. Wall time and
the thread's CPU time are reported (CPU time is what the server's own code costs; the rest is waiting on
the database). `bench/run.py --inprocess` runs this after its HTTP measurements and appends the table.
"""

import argparse
import datetime as dt
import io
import json
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

TARGET_MS = 4.0  # issue 19: a 20-row appointment page in at most 4 ms of server time


def configure(database_url: str | None) -> None:
    if database_url and database_url.startswith("sqlite:///"):
        # The product's own SQLite engine (settings without DATABASE_URL), on the given file.
        os.environ.pop("DATABASE_URL", None)
        os.environ["SQLITE_PATH"] = database_url.removeprefix("sqlite:///")
    elif database_url:
        os.environ["DATABASE_URL"] = database_url
    os.environ["DJANGO_SETTINGS_MODULE"] = "bench.settings"
    os.environ.setdefault("DEBUG", "false")
    os.environ.setdefault("SECRET_KEY", "bench-only-" + "x" * 50)
    os.environ.setdefault("ALLOWED_HOSTS", "localhost")
    from cybermed import throttle_rates

    os.environ.update(throttle_rates.all_off())
    import django

    django.setup()
    import logging

    # The access line is still formatted and written, as in production, but to nowhere rather than the terminal.
    for handler in logging.getLogger().handlers:
        if isinstance(handler, logging.StreamHandler):
            handler.setStream(open(os.devnull, "w"))  # noqa: SIM115 - lives as long as the process


def environ(path: str, token: str | None) -> dict:
    from django.test.client import RequestFactory

    route, _, query = path.partition("?")
    env = RequestFactory()._base_environ(
        PATH_INFO=route, QUERY_STRING=query, REQUEST_METHOD="GET", SERVER_NAME="localhost", HTTP_HOST="localhost"
    )
    if token:
        env["HTTP_AUTHORIZATION"] = f"Bearer {token}"
    return env


def call(handler: object, env: dict) -> tuple[int, bytes]:
    statuses: list[str] = []
    body = b"".join(handler(dict(env, **{"wsgi.input": io.BytesIO(b"")}), lambda s, h: statuses.append(s)))
    return int(statuses[0].split()[0]), body


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--database-url",
        help="postgres://... or sqlite:////path/file.sqlite3; default: DATABASE_URL from the environment",
    )
    parser.add_argument("--requests", type=int, default=300, help="measured requests per endpoint (default 300)")
    parser.add_argument("--warmup", type=int, default=30, help="discarded rounds first (default 30)")
    args = parser.parse_args()
    configure(args.database_url)

    from django.core.handlers.wsgi import WSGIHandler
    from django.db import connection
    from django.utils import timezone

    from bench.fixtures import full_pages
    from users.models import DoctorProfile

    pages = full_pages()
    try:
        tokens = pages.tokens()
        patient, doctor = pages.patient_id, pages.doctor_id
        slots_doctor = (
            DoctorProfile.objects.filter(is_verified=True, user__is_active=True).order_by("user_id").first().user_id
        )
        today = timezone.now().date()
        size = "page_size=20"
        floor = "/bench/floor"
        # (name, path, token, floor name, expected rows): a list is checked to hold a full page before timing.
        cases = [
            ("appointments (patient)", f"/api/appointments/?{size}", tokens["patient"], "floor appointments (patient)"),
            ("appointments (doctor)", f"/api/appointments/?{size}", tokens["doctor"], "floor appointments (doctor)"),
            ("directory", f"/api/doctors/?{size}", tokens["patient"], "floor directory"),
            ("notifications", f"/api/notifications/?{size}", tokens["patient"], "floor notifications"),
            ("threads", f"/api/threads/?{size}", tokens["patient"], "floor threads"),
            (
                "slots (62 days)",
                f"/api/doctors/{slots_doctor}/slots/?start={today}&end={today + dt.timedelta(days=61)}",
                tokens["patient"],
                None,
            ),
            ("401 (no token)", f"/api/appointments/?{size}", None, None),
            (
                "floor appointments (patient)",
                f"{floor}/appointments/?user={patient}&role=patient&{size}",
                None,
                None,
            ),
            ("floor appointments (doctor)", f"{floor}/appointments/?user={doctor}&role=doctor&{size}", None, None),
            ("floor directory", f"/bench/floor/doctors/?user={patient}&{size}", None, None),
            ("floor notifications", f"/bench/floor/notifications/?user={patient}&{size}", None, None),
            ("floor threads", f"/bench/floor/threads/?user={patient}&role=patient&{size}", None, None),
        ]
        handler = WSGIHandler()
        envs = {name: environ(path, token) for name, path, token, _ in cases}
        for name, env in envs.items():
            status, body = call(handler, env)
            expected = 401 if name.startswith("401") else 200
            if status != expected:
                sys.exit(f"{name}: status {status}, expected {expected}: {body[:300]!r}")
            if name != "slots (62 days)" and expected == 200 and len(json.loads(body)["results"]) != pages.page:
                sys.exit(f"{name}: the page does not hold {pages.page} rows")
        wall: dict[str, list[float]] = {name: [] for name in envs}
        cpu: dict[str, list[float]] = {name: [] for name in envs}
        for round_ in range(args.warmup + args.requests):
            for name, env in envs.items():
                started, started_cpu = time.perf_counter(), time.thread_time()
                call(handler, env)
                if round_ >= args.warmup:
                    wall[name].append((time.perf_counter() - started) * 1000)
                    cpu[name].append((time.thread_time() - started_cpu) * 1000)
    finally:
        pages.cleanup()

    floors = {name: floor for name, _, _, floor in cases if floor}
    rows = {}
    for name in envs:
        median = statistics.median(wall[name])
        rows[name] = {
            "p50_ms": round(median, 3),
            "p95_ms": round(percentile(wall[name], 0.95), 3),
            "cpu_p50_ms": round(statistics.median(cpu[name]), 3),
        }
        if name in floors:
            rows[name]["vs_floor"] = round(median / statistics.median(wall[floors[name]]), 3)
    print(
        f"{connection.vendor}, {args.requests} requests per endpoint interleaved after {args.warmup} warm-up rounds, "
        f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs"
    )
    print(f"| {'endpoint':<30} | {'p50 ms':>7} | {'p95 ms':>7} | {'CPU p50 ms':>10} | {'time ÷ floor':>12} |")
    print(f"|{'-' * 32}|{'-' * 9}|{'-' * 9}|{'-' * 12}|{'-' * 14}|")
    for name, row in rows.items():
        versus = f"{row['vs_floor']:.2f}" if "vs_floor" in row else ""
        times = f"{row['p50_ms']:>7.2f} | {row['p95_ms']:>7.2f} | {row['cpu_p50_ms']:>10.2f}"
        print(f"| {name:<30} | {times} | {versus:>12} |")
    worst = max(rows["appointments (patient)"]["p50_ms"], rows["appointments (doctor)"]["p50_ms"])
    print(f"20-row appointment page: {worst:.2f} ms p50 (target <= {TARGET_MS} ms)")
    print("INPROCESS_JSON " + json.dumps({"vendor": connection.vendor, "endpoints": rows}))


if __name__ == "__main__":
    main()
