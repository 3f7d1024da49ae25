#!/usr/bin/env python
"""Benchmark the API under gunicorn against a seeded PostgreSQL database (see bench/README.md).

    .venv/bin/python bench/run.py --database-url postgres://postgres@127.0.0.1:5432/bench_large

With several --database-url the databases are measured one after the other (each in its own
process) and the p95 ratio of the last to the first is printed per scenario.
"""

import argparse
import datetime as dt
import http.client
import json
import math
import multiprocessing as mp
import os
import subprocess
import sys
import threading
import time
import urllib.parse
from array import array
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from multiprocessing.pool import Pool
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
VENV_BIN = ROOT / ".venv" / "bin"
HOST = "127.0.0.1"
BENCH_REASON = "bench booking"
THROTTLE_SCOPES = ["anon", "user", "login", "register", "refresh", "password_reset", "activation_resend"]
SCENARIOS = [
    "login",
    "directory",
    "slots",
    "list_patient",
    "floor_patient",
    "list_doctor",
    "floor_doctor",
    "book",
    "contend",
]
CONTEND_CLIENTS = 20

# A request: (method, path, JSON body or None, bearer token or None).
Request = tuple[str, str, dict | None, str | None]


@dataclass
class Scenario:
    name: str
    title: str
    clients: list[list[Request]]  # one request list per concurrent client
    cycle: bool = True  # False: each request is sent once (bookings), a client stops when its list is done
    ok: frozenset[int] = frozenset({200})
    expected_409_codes: frozenset[str] = frozenset()
    notes: dict = field(default_factory=dict)


def server_env(database_url: str) -> dict[str, str]:
    """The environment of the bench server and of this process's own Django (same keys, same DB)."""
    env = dict(os.environ)
    env.update(
        DATABASE_URL=database_url,
        DJANGO_SETTINGS_MODULE="bench.settings",
        DEBUG="false",
        SECRET_KEY="bench-only-secret-key-0f3c9a7e5d1b4c2a8e6f0d9c7b5a3e1f",
        ALLOWED_HOSTS="127.0.0.1,localhost",
        EMAIL_BACKEND="django.core.mail.backends.dummy.EmailBackend",
        # As in production: notification emails are queued as task rows, never sent in the request.
        TASKS_BACKEND="django_tasks_db.DatabaseBackend",
        JWT_ACCESS_MINUTES="240",
        # The bench books hundreds of slots per patient; the limit check still runs (same queries).
        MAX_ACTIVE_APPOINTMENTS_PER_PATIENT="1000000",
        DB_CONN_MAX_AGE="600",
        REDIS_URL="",
        LOG_LEVEL=os.environ.get("BENCH_LOG_LEVEL", "INFO"),
    )
    for scope in THROTTLE_SCOPES:
        env[f"THROTTLE_{scope.upper()}"] = "none"
    return env


# --- HTTP -----------------------------------------------------------------------------------------
def call(port: int, method: str, path: str, body: dict | None = None, token: str | None = None) -> tuple[int, object]:
    conn = http.client.HTTPConnection(HOST, port, timeout=60)
    try:
        status, raw = send(conn, method, path, body, token)
    finally:
        conn.close()
    try:
        return status, json.loads(raw) if raw else None
    except ValueError:
        return status, raw[:200]


def send(conn: http.client.HTTPConnection, method: str, path: str, body: dict | None, token: str | None) -> tuple:
    headers = {"Accept": "application/json"}
    payload = None
    if body is not None:
        payload = json.dumps(body).encode()
        headers["Content-Type"] = "application/json"
    if token:
        headers["Authorization"] = f"Bearer {token}"
    conn.request(method, path, body=payload, headers=headers)
    response = conn.getresponse()
    return response.status, response.read()


def client_loop(port: int, requests: list[Request], cycle: bool, measure_at: float, stop_at: float, out: dict) -> None:
    """One client on one keep-alive connection (gunicorn's sync workers close it; http.client reopens)."""
    conn = http.client.HTTPConnection(HOST, port, timeout=30)
    latencies, statuses, codes, errors = array("d"), Counter(), Counter(), []
    i = 0
    while i < len(requests) or cycle:
        method, path, body, token = requests[i % len(requests)]
        i += 1
        started = time.monotonic()
        if started >= stop_at:
            break
        try:
            status, raw = send(conn, method, path, body, token)
        except (OSError, http.client.HTTPException) as exc:
            conn.close()
            status, raw = -1, repr(exc).encode()
        elapsed = time.monotonic() - started
        if started < measure_at:
            continue
        latencies.append(elapsed)
        statuses[status] += 1
        if status == 409:
            try:
                codes[json.loads(raw).get("code", "?")] += 1
            except (ValueError, AttributeError):
                codes["?"] += 1
        elif (status >= 400 or status < 0) and len(errors) < 3:
            errors.append(f"{status} {method} {path}: {raw[:200]!r}")
    conn.close()
    out.update(latencies=latencies, statuses=statuses, codes=codes, errors=errors, exhausted=i >= len(requests))


def load_process(port: int, clients: list[list[Request]], cycle: bool, measure_at: float, stop_at: float) -> dict:
    """A load-generator process: one thread per client (the waiting is on sockets, not the GIL)."""
    outs = [{} for _ in clients]
    threads = [
        threading.Thread(target=client_loop, args=(port, reqs, cycle, measure_at, stop_at, out), daemon=True)
        for reqs, out in zip(clients, outs, strict=True)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=max(0.0, stop_at - time.monotonic()) + 60)
    merged = {"latencies": array("d"), "statuses": Counter(), "codes": Counter(), "errors": [], "exhausted": 0}
    for out in outs:
        if not out:
            merged["errors"].append("a client did not finish in time")
            continue
        merged["latencies"].extend(out["latencies"])
        merged["statuses"].update(out["statuses"])
        merged["codes"].update(out["codes"])
        merged["errors"].extend(out["errors"])
        merged["exhausted"] += out["exhausted"]
    return merged


def percentile(sorted_values: list[float], q: float) -> float:
    if not sorted_values:
        return float("nan")
    return sorted_values[min(len(sorted_values) - 1, math.ceil(q * len(sorted_values)) - 1)]


def run_scenario(pool: Pool, procs: int, port: int, scenario: Scenario, warmup: float, duration: float) -> dict:
    groups: list[list[list[Request]]] = [[] for _ in range(min(procs, len(scenario.clients)))]
    for n, reqs in enumerate(scenario.clients):
        groups[n % len(groups)].append(reqs)
    begin = time.monotonic() + 0.3  # every process is up before anyone measures
    measure_at, stop_at = begin + warmup, begin + warmup + duration
    parts = pool.starmap(
        load_process, [(port, group, scenario.cycle, measure_at, stop_at) for group in groups], chunksize=1
    )
    lat = sorted(x for part in parts for x in part["latencies"])
    statuses, codes = Counter(), Counter()
    errors: list[str] = []
    for part in parts:
        statuses.update(part["statuses"])
        codes.update(part["codes"])
        errors.extend(part["errors"])
    expected = sum(n for s, n in statuses.items() if s in scenario.ok)
    expected_409 = sum(n for c, n in codes.items() if c in scenario.expected_409_codes)
    error_count = sum(statuses.values()) - expected - expected_409
    exhausted = sum(part["exhausted"] for part in parts)
    return {
        "scenario": scenario.name,
        "title": scenario.title,
        "clients": len(scenario.clients),
        "requests": len(lat),
        "rps": len(lat) / duration,
        "p50_ms": percentile(lat, 0.50) * 1000,
        "p95_ms": percentile(lat, 0.95) * 1000,
        "p99_ms": percentile(lat, 0.99) * 1000,
        "max_ms": (lat[-1] if lat else float("nan")) * 1000,
        "errors": error_count,
        "statuses": {str(k): v for k, v in sorted(statuses.items())},
        "codes_409": dict(codes),
        "error_samples": errors[:5],
        "clients_out_of_requests": exhausted if not scenario.cycle else 0,
        **scenario.notes,
    }


# --- Server ---------------------------------------------------------------------------------------
def start_server(env: dict[str, str], port: int, workers: int, worker_class: str, log_path: Path) -> subprocess.Popen:
    log = log_path.open("w")
    cmd = [
        str(VENV_BIN / "gunicorn"),
        "cybermed.wsgi:application",
        "--bind",
        f"{HOST}:{port}",
        "--workers",
        str(workers),
        "--worker-class",
        worker_class,
        "--timeout",
        "60",
        "--backlog",
        "256",
    ]
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"gunicorn exited with {proc.returncode}; see {log_path}")
        try:
            if call(port, "GET", "/api/health/")[0] == 200:
                return proc
        except OSError:
            pass
        time.sleep(0.3)
    proc.terminate()
    raise SystemExit(f"gunicorn did not answer within 60s; see {log_path}")


def worker_memory(master_pid: int) -> list[dict]:
    """RSS and peak RSS (MiB) of each gunicorn worker, read from /proc."""
    children = Path(f"/proc/{master_pid}/task/{master_pid}/children").read_text().split()
    result = []
    for pid in children:
        fields = {}
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            key, _, value = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                fields[key] = int(value.split()[0]) / 1024
        result.append({"pid": int(pid), "rss_mb": round(fields["VmRSS"], 1), "peak_rss_mb": round(fields["VmHWM"], 1)})
    return result


# --- Fixtures -------------------------------------------------------------------------------------
def busiest_users(*, slots_before: dt.datetime | None = None) -> tuple[int, int, int]:
    """Ids of the doctor and of the patient with the most appointments (the longest lists), and of the verified
    30-minute doctor with the most active upcoming appointments (before `slots_before`): the slowest slot list."""
    from django.db.models import Count, QuerySet

    from appointments.choices import ACTIVE_STATUSES
    from appointments.models import Appointment

    def most(column: str, rows: QuerySet) -> int:
        return rows.values(column).annotate(n=Count("id")).order_by("-n", column).first()[column]

    upcoming = Appointment.objects.filter(
        status__in=ACTIVE_STATUSES,
        start__gte=dt.datetime.now(dt.UTC),
        doctor__doctor_profile__is_verified=True,
        doctor__doctor_profile__slot_minutes=30,
    )
    if slots_before is not None:
        upcoming = upcoming.filter(start__lt=slots_before)
    return (
        most("doctor", Appointment.objects.all()),
        most("patient", Appointment.objects.all()),
        most("doctor", upcoming),
    )


def prepare(port: int, args: argparse.Namespace) -> tuple[list[Scenario], dict]:
    """Pick users and doctors from the database, log them in once, and build each scenario's requests."""
    from django.db.models import Exists, OuterRef, Q

    from appointments.models import Appointment
    from bench.management.commands.seed_bench import BENCH_DOMAIN, BENCH_PASSWORD
    from users.choices import Role
    from users.models import DoctorProfile, User

    today = dt.datetime.now(dt.UTC).date()
    bench_users = User.objects.filter(email__endswith=f"@{BENCH_DOMAIN}", is_active=True)
    if not bench_users.exists():
        raise SystemExit("no bench users: run `manage.py seed_bench --settings bench.settings` on this database first")
    horizon = dt.datetime.combine(today + dt.timedelta(days=62), dt.time(), dt.UTC)
    busy_doctor, busy_patient, slots_doctor = busiest_users(slots_before=horizon)
    verified = DoctorProfile.objects.filter(is_verified=True, user__in=bench_users).exclude(
        user_id__in=[busy_doctor, slots_doctor]
    )
    specialties = sorted({s for s in verified.values_list("specialty_id", flat=True) if s})
    pool_doctors = list(verified.order_by("user_id").values_list("user_id", flat=True)[: args.clients + 1])
    has_appointments = Appointment.objects.filter(Q(patient=OuterRef("pk")) | Q(doctor=OuterRef("pk")))
    idle_patients = list(
        bench_users.filter(role=Role.PATIENT)
        .filter(~Exists(has_appointments))
        .order_by("-id")
        .values_list("email", flat=True)[: args.clients + CONTEND_CLIENTS]
    )
    if len(idle_patients) < args.clients + CONTEND_CLIENTS:
        raise SystemExit("not enough patients without appointments: seed more patients")
    emails = dict(User.objects.filter(pk__in=[busy_doctor, busy_patient, slots_doctor]).values_list("pk", "email"))

    def login(email: str) -> str:
        status, body = call(port, "POST", "/api/auth/login/", {"email": email, "password": BENCH_PASSWORD})
        if status != 200:
            raise SystemExit(f"login of {email} failed: {status} {body}")
        return body["access"]

    to_login = [emails[busy_doctor], emails[busy_patient], *idle_patients]
    with ThreadPoolExecutor(4) as executor:
        tokens = dict(zip(to_login, executor.map(login, to_login), strict=True))
    any_token = tokens[emails[busy_patient]]

    def free_slots(doctor_id: int) -> list[str]:
        first, last = today + dt.timedelta(days=1), today + dt.timedelta(days=61)
        status, body = call(port, "GET", f"/api/doctors/{doctor_id}/slots/?start={first}&end={last}", token=any_token)
        if status != 200:
            raise SystemExit(f"slots of doctor {doctor_id}: {status} {body}")
        return [slot["start"] for slot in body]

    # Distinct free slots: client n books only doctor n's slots, as its own patient (no two clients
    # ever want the same slot, and a patient's bookings never overlap).
    book_clients = []
    for n in range(args.clients):
        doctor, token = pool_doctors[n], tokens[idle_patients[n]]
        book_clients.append(
            [
                ("POST", "/api/appointments/", {"doctor": doctor, "start": s, "reason_for_visit": BENCH_REASON}, token)
                for s in free_slots(doctor)
            ]
        )
    # Contention: 20 clients, each its own patient, walk the same list of one doctor's free slots.
    contend_doctor = pool_doctors[args.clients]
    contend_slots = free_slots(contend_doctor)
    contend_clients = [
        [
            ("POST", "/api/appointments/", {"doctor": contend_doctor, "start": s, "reason_for_visit": BENCH_REASON}, t)
            for s in contend_slots
        ]
        for t in (tokens[e] for e in idle_patients[args.clients :])
    ]

    login_users = list(bench_users.order_by("id").values_list("email", flat=True)[:200])
    first, last = today, today + dt.timedelta(days=61)
    t_doctor, t_patient = tokens[emails[busy_doctor]], tokens[emails[busy_patient]]

    def same(req: Request) -> list[list[Request]]:
        return [[req] for _ in range(args.clients)]

    def spread(reqs: list[Request]) -> list[list[Request]]:
        return [reqs[n:] + reqs[:n] for n in range(args.clients)]

    scenarios = [
        Scenario(
            "login",
            "POST /api/auth/login/ (Argon2)",
            spread([("POST", "/api/auth/login/", {"email": e, "password": BENCH_PASSWORD}, None) for e in login_users]),
        ),
        Scenario(
            "directory",
            "GET /api/doctors/?specialty=",
            spread([("GET", f"/api/doctors/?specialty={s}", None, any_token) for s in specialties]),
        ),
        Scenario(
            "slots",
            "GET /api/doctors/{id}/slots/ (62 days)",
            same(("GET", f"/api/doctors/{slots_doctor}/slots/?start={first}&end={last}", None, any_token)),
        ),
        Scenario(
            "list_patient",
            "GET /api/appointments/ (patient)",
            same(("GET", "/api/appointments/?page_size=20", None, t_patient)),
        ),
        Scenario(
            "floor_patient",
            "floor: plain Django, same rows (patient)",
            same(("GET", f"/bench/floor/appointments/?user={busy_patient}&role=patient&page_size=20", None, None)),
        ),
        Scenario(
            "list_doctor",
            "GET /api/appointments/ (busy doctor)",
            same(("GET", "/api/appointments/?page_size=20", None, t_doctor)),
        ),
        Scenario(
            "floor_doctor",
            "floor: plain Django, same rows (busy doctor)",
            same(("GET", f"/bench/floor/appointments/?user={busy_doctor}&role=doctor&page_size=20", None, None)),
        ),
        Scenario(
            "book", "POST /api/appointments/ (distinct free slots)", book_clients, cycle=False, ok=frozenset({201})
        ),
        Scenario(
            "contend",
            f"POST /api/appointments/ ({CONTEND_CLIENTS} clients, same slots)",
            contend_clients,
            cycle=False,
            ok=frozenset({201}),
            expected_409_codes=frozenset({"slot_unavailable"}),
        ),
    ]
    counts = {
        "busy_doctor": {"id": busy_doctor, "appointments": Appointment.objects.filter(doctor_id=busy_doctor).count()},
        "busy_patient": {
            "id": busy_patient,
            "appointments": Appointment.objects.filter(patient_id=busy_patient).count(),
        },
        "slots_doctor": {"id": slots_doctor, "free_slots": len(free_slots(slots_doctor))},
        "specialties": len(specialties),
        "book_slots_available": sum(len(c) for c in book_clients),
        "contend_slots_available": len(contend_slots),
        "appointments_total": Appointment.objects.count(),
        "users_total": User.objects.count(),
    }
    return scenarios, counts


def delete_bench_bookings() -> int:
    from appointments.models import Appointment

    return Appointment.objects.filter(reason_for_visit=BENCH_REASON).delete()[0]


# --- One database ---------------------------------------------------------------------------------
def run_one(args: argparse.Namespace, database_url: str) -> dict:
    env = server_env(database_url)
    os.environ.update(env)
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.db import connection

    db_name = connection.settings_dict["NAME"]
    if connection.vendor != "postgresql":
        raise SystemExit("the benchmark needs PostgreSQL (--database-url postgres://...)")
    RESULTS.mkdir(parents=True, exist_ok=True)
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%d-%H%M%S")
    log_path = RESULTS / f"{stamp}-{db_name}-gunicorn.log"
    delete_bench_bookings()
    load_before = os.getloadavg()
    server = start_server(env, args.port, args.workers, args.worker_class, log_path)
    try:
        scenarios, fixtures = prepare(args.port, args)
        connection.close()
        wanted = [s for s in scenarios if s.name in args.scenarios]
        # Warm the server: every code path imported and every worker's DB connection open.
        for scenario in wanted:
            for reqs in scenario.clients[:4]:
                method, path, body, token = reqs[0]
                if method == "GET" or scenario.name == "login":
                    call(args.port, method, path, body, token)
        ctx = mp.get_context("spawn")
        results = []
        with ctx.Pool(min(args.procs, max(args.clients, CONTEND_CLIENTS))) as pool:
            for scenario in wanted:
                print(f"  {scenario.name} ...", end="", flush=True, file=sys.stderr)
                result = run_scenario(pool, args.procs, args.port, scenario, args.warmup, args.duration)
                print(f" {result['rps']:.0f} req/s", file=sys.stderr)
                results.append(result)
        memory = worker_memory(server.pid)
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
        removed = delete_bench_bookings()
    report = {
        "database": db_name,
        "started": stamp,
        "config": {k: v for k, v in vars(args).items() if k != "database_url"},
        "fixtures": fixtures,
        "results": results,
        "worker_memory": memory,
        # Other work on the machine skews every number: the 1-minute load average before and after.
        "loadavg_1m": {"before": load_before[0], "after": os.getloadavg()[0], "cpus": os.cpu_count()},
        "bench_bookings_removed": removed,
        "derived": derived(results),
    }
    print_report(report)
    out = Path(args.output) if args.output else RESULTS / f"{stamp}-{db_name}.json"
    out.write_text(json.dumps(report, indent=2))
    print(f"\nJSON: {out}\ngunicorn log: {log_path}")
    return report


def derived(results: list[dict]) -> dict:
    by = {r["scenario"]: r for r in results}
    ratios = {}
    for who in ("patient", "doctor"):
        if f"list_{who}" in by and f"floor_{who}" in by:
            ratios[f"list_{who}_vs_floor_rps"] = by[f"list_{who}"]["rps"] / max(by[f"floor_{who}"]["rps"], 1e-9)
    if "slots" in by and "list_patient" in by:
        ratios["slots_vs_list_patient_rps"] = by["slots"]["rps"] / max(by["list_patient"]["rps"], 1e-9)
    return ratios


def print_report(report: dict) -> None:
    fx = report["fixtures"]
    print(
        f"\nDatabase {report['database']}: {fx['appointments_total']:,} appointments, {fx['users_total']:,} users; "
        f"{report['config']['duration']}s per scenario after {report['config']['warmup']}s warm-up, "
        f"{report['config']['clients']} clients ({CONTEND_CLIENTS} for contend), "
        f"gunicorn {report['config']['workers']} {report['config']['worker_class']} workers"
    )
    header = f"| {'scenario':<14} | {'clients':>7} | {'requests':>8} | {'req/s':>7} | {'p50 ms':>7} | {'p95 ms':>7} "
    header += f"| {'p99 ms':>7} | {'errors':>6} | notes"
    print(header)
    print("|" + "|".join("-" * (len(c)) for c in header.split("|")[1:-1]) + "|-------|")
    for r in report["results"]:
        notes = []
        if r["codes_409"]:
            notes.append("409: " + ", ".join(f"{c} {n}" for c, n in r["codes_409"].items()))
        if r["clients_out_of_requests"]:
            notes.append(f"{r['clients_out_of_requests']} clients ran out of slots")
        if r["error_samples"]:
            notes.append("e.g. " + r["error_samples"][0][:100])
        print(
            f"| {r['scenario']:<14} | {r['clients']:>7} | {r['requests']:>8} | {r['rps']:>7.1f} | {r['p50_ms']:>7.1f} "
            f"| {r['p95_ms']:>7.1f} | {r['p99_ms']:>7.1f} | {r['errors']:>6} | {'; '.join(notes)}"
        )
    for name, value in report["derived"].items():
        print(f"{name}: {value:.2f}")
    mem = ", ".join(f"pid {m['pid']}: {m['rss_mb']} MB (peak {m['peak_rss_mb']} MB)" for m in report["worker_memory"])
    print(f"gunicorn worker RSS after the run: {mem}")
    load = report["loadavg_1m"]
    print(f"load average (1 min) before/after: {load['before']:.1f}/{load['after']:.1f} on {load['cpus']} CPUs")


# --- Several databases ----------------------------------------------------------------------------
def run_many(args: argparse.Namespace) -> None:
    reports = []
    for n, url in enumerate(args.database_url):
        out = RESULTS / f"{dt.datetime.now(dt.UTC):%Y%m%d-%H%M%S}-db{n}.json"
        cmd = [sys.executable, __file__, "--database-url", url, "--output", str(out), *passthrough(args)]
        subprocess.run(cmd, check=True)
        reports.append(json.loads(out.read_text()))
    first, last = reports[0], reports[-1]
    p95_first = {r["scenario"]: r["p95_ms"] for r in first["results"]}
    print(
        f"\np95 scale ratio {last['database']} ({last['fixtures']['appointments_total']:,} appointments) / "
        f"{first['database']} ({first['fixtures']['appointments_total']:,})"
    )
    scale = {}
    for r in last["results"]:
        if r["scenario"] in p95_first:
            scale[r["scenario"]] = r["p95_ms"] / max(p95_first[r["scenario"]], 1e-9)
            before = p95_first[r["scenario"]]
            print(f"| {r['scenario']:<14} | {before:>7.1f} ms | {r['p95_ms']:>7.1f} ms | {scale[r['scenario']]:.2f} |")
    combined = RESULTS / f"{dt.datetime.now(dt.UTC):%Y%m%d-%H%M%S}-scale.json"
    combined.write_text(json.dumps({"runs": reports, "p95_ratio_last_over_first": scale}, indent=2))
    print(f"\nJSON: {combined}")


def passthrough(args: argparse.Namespace) -> list[str]:
    return [
        "--duration", str(args.duration), "--warmup", str(args.warmup), "--clients", str(args.clients),
        "--scenarios", ",".join(args.scenarios), "--port", str(args.port), "--workers", str(args.workers),
        "--worker-class", args.worker_class, "--procs", str(args.procs),
    ]  # fmt: skip


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "--database-url", action="append", required=True, help="PostgreSQL URL of a seeded database (repeatable)"
    )
    parser.add_argument("--duration", type=float, default=10, help="measured seconds per scenario (default 10)")
    parser.add_argument("--warmup", type=float, default=2, help="unmeasured seconds before each scenario (default 2)")
    parser.add_argument("--clients", type=int, default=8, help="concurrent clients (contend always uses 20)")
    parser.add_argument("--scenarios", type=lambda v: v.split(","), default=SCENARIOS, help=",".join(SCENARIOS))
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers (default 2)")
    parser.add_argument("--worker-class", default="sync")
    parser.add_argument("--procs", type=int, default=2, help="load-generator processes (default 2)")
    parser.add_argument("--output", help="JSON file (default bench/results/<time>-<db>.json)")
    args = parser.parse_args(argv)
    unknown = set(args.scenarios) - set(SCENARIOS)
    if unknown:
        parser.error(f"unknown scenarios {sorted(unknown)}; choose from {','.join(SCENARIOS)}")
    for url in args.database_url:
        host = urllib.parse.urlsplit(url).hostname
        if host not in ("127.0.0.1", "localhost", "::1", None, ""):
            parser.error("loopback databases only")
    if len(args.database_url) > 1:
        run_many(args)
    else:
        run_one(args, args.database_url[0])


if __name__ == "__main__":
    main()
