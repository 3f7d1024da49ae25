#!/usr/bin/env python
"""Benchmark the API under gunicorn against a seeded PostgreSQL database (see bench/README.md).

    .venv/bin/python bench/run.py --database-url postgres://postgres@127.0.0.1:5432/bench_large

With several --database-url the databases are measured one after the other (each in its own
process) and the p95 ratio of the last to the first is printed per scenario.

Load: `--load wrk` (default when /usr/bin/wrk exists) drives the GET scenarios and login with wrk and the
Lua script bench/wrk/requests.lua; `--load python` uses the Python generator for everything. `book` and
`contend` always use the Python generator (see WRK_SCENARIOS).
"""

import argparse
import datetime as dt
import http.client
import json
import math
import multiprocessing as mp
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
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
sys.path.insert(0, str(ROOT))  # bench.* and tests.system, when run as a script

from cybermed import throttle_rates  # noqa: E402
from dev import port_problem  # noqa: E402

RESULTS = ROOT / "bench" / "results"
# gunicorn from the interpreter's own virtualenv (a worktree may have no .venv of its own)
VENV_BIN = Path(sys.executable).parent
HOST = "127.0.0.1"
BENCH_REASON = "bench booking"  # = bench.fixtures.BENCH_TAG (importable only after django.setup())
SCENARIOS = [
    "login",
    "directory",
    "floor_directory",
    "directory_specialty",
    "slots",
    "list_patient",
    "floor_patient",
    "list_doctor",
    "floor_doctor",
    "notifications",
    "floor_notifications",
    "threads",
    "floor_threads",
    "book",
    "contend",
]
# List endpoint -> its floor (bench/floor.py): the API's req/s is reported as a ratio of the floor's.
FLOORS = {
    "directory": "floor_directory",
    "list_patient": "floor_patient",
    "list_doctor": "floor_doctor",
    "notifications": "floor_notifications",
    "threads": "floor_threads",
}
# Scenarios wrk drives in `--load wrk`. Not `book` and `contend`: each of their requests must be sent once
# (a slot is booked once; a client stops when its slots run out, which wrk cannot do: it sends until the
# duration is over), and contend's 409s are expected only with the code `slot_unavailable`, which needs the
# body of every response read and classified. They stay on the Python generator.
WRK_SCENARIOS = frozenset(SCENARIOS) - {"book", "contend"}
WRK = shutil.which("wrk") or "/usr/bin/wrk"
WRK_SCRIPT = ROOT / "bench" / "wrk" / "requests.lua"
PAGE = 20
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
    rows: int | None = None  # a list scenario: its first response must hold this many rows (a full page)


# What every bench server needs on top of the product's settings: the load comes from one address and a few
# users, which no throttle should slow, and each user's one access token lasts the whole run. As in production,
# tasks (notification and message emails) are queued, never run inside the request: as database rows here, which
# needs no broker (production queues them on Celery's).
LOAD_ENV = {
    "JWT_ACCESS_MINUTES": "240",
    "TASKS_BACKEND": "django_tasks_db.DatabaseBackend",
    **throttle_rates.all_off(),
}


def server_env(database_url: str) -> dict[str, str]:
    """The environment of the bench server and of this process's own Django (same keys, same DB): the system
    tests' server environment with the bench's settings."""
    from tests.system import servers

    return servers.base_env(
        database_url,
        **LOAD_ENV,
        DJANGO_SETTINGS_MODULE="bench.settings",
        SECRET_KEY="bench-only-secret-key-0f3c9a7e5d1b4c2a8e6f0d9c7b5a3e1f",
        EMAIL_BACKEND="django.core.mail.backends.dummy.EmailBackend",
        # The bench books hundreds of slots per patient; the limit check still runs (same queries).
        MAX_ACTIVE_APPOINTMENTS_PER_PATIENT="1000000",
        DB_CONN_MAX_AGE="600",
        REDIS_URL="",
        LOG_LEVEL=os.environ.get("BENCH_LOG_LEVEL", "INFO"),
    )


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
        "load": "python",
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


# --- wrk ------------------------------------------------------------------------------------------
def parse_wrk(stdout: str) -> dict:
    """The `WRK_JSON {...}` line that bench/wrk/requests.lua's done() prints after wrk's own summary."""
    for line in stdout.splitlines():
        if line.startswith("WRK_JSON "):
            return json.loads(line.removeprefix("WRK_JSON "))
    raise ValueError(f"no WRK_JSON line in wrk's output:\n{stdout[-2000:]}")


def wrk_requests_file(requests: list[Request], directory: str) -> str:
    """The requests file the Lua script reads: METHOD, PATH, TOKEN or "-", JSON body (tab-separated)."""
    lines = []
    for method, path, body, token in requests:
        payload = json.dumps(body, separators=(",", ":")) if body is not None else ""
        fields = [method, path, token or "-", payload]
        if any(("\t" in f or "\n" in f) for f in fields):
            raise ValueError(f"a tab or newline in a wrk request: {fields}")
        lines.append("\t".join(fields))
    fd, name = tempfile.mkstemp(prefix="wrk-", suffix=".tsv", dir=directory)
    with os.fdopen(fd, "w") as file:
        file.write("\n".join(lines) + "\n")
    return name


def wrk(port: int, requests_file: str, threads: int, connections: int, seconds: int) -> dict:
    cmd = [
        WRK, f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--timeout", "30s",
        "-s", str(WRK_SCRIPT), f"http://{HOST}:{port}", "--", requests_file, str(threads),
    ]  # fmt: skip
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=seconds + 120, check=False)
    if done.returncode != 0:
        raise SystemExit(f"wrk failed ({done.returncode}): {done.stderr or done.stdout}")
    return parse_wrk(done.stdout)


def wrk_result(scenario: Scenario, measured: dict, clients: int, threads: int) -> dict:
    """A run_scenario()-shaped result from wrk's numbers (latencies in µs)."""
    seconds = measured["duration_us"] / 1e6
    statuses = {int(k): v for k, v in measured["statuses"].items()}
    socket_errors = sum(v for k, v in measured["errors"].items() if k != "status")
    unexpected = sum(n for status, n in statuses.items() if status not in scenario.ok)
    lat = measured["latency_us"]
    return {
        "scenario": scenario.name,
        "title": scenario.title,
        "load": "wrk",
        "clients": clients,
        "wrk_threads": threads,
        "requests": measured["requests"],
        "rps": measured["requests"] / seconds,
        "p50_ms": lat["p50"] / 1000,
        "p95_ms": lat["p95"] / 1000,
        "p99_ms": lat["p99"] / 1000,
        "max_ms": lat["max"] / 1000,
        # Every response with a status not expected, and every socket error and timeout (wrk's own counts).
        "errors": unexpected + socket_errors,
        "statuses": {str(k): v for k, v in sorted(statuses.items())},
        "socket_errors": {k: v for k, v in measured["errors"].items() if k != "status"},
        "codes_409": {},
        "error_samples": [],
        "clients_out_of_requests": 0,
        **scenario.notes,
    }


def wait_idle(port: int, timeout: float = 120) -> None:
    """Wait until gunicorn has worked off what wrk left behind: wrk exits with up to one request per
    connection in flight, which the sync workers still serve (8 logins are seconds of Argon2) and which
    would otherwise run inside the next measurement. Idle = two health checks in a row answered in 50 ms."""
    deadline, quick = time.monotonic() + timeout, 0
    while quick < 2 and time.monotonic() < deadline:
        started = time.monotonic()
        call(port, "GET", "/api/health/")
        quick = quick + 1 if time.monotonic() - started < 0.05 else 0


def run_wrk_scenario(port: int, scenario: Scenario, warmup: float, duration: float, threads: int) -> dict:
    """wrk with as many connections as the Python generator has clients, on its request list: first
    `warmup` seconds thrown away, then `duration` seconds measured (wrk takes whole seconds); the server
    is left to finish the abandoned requests after each."""
    clients = len(scenario.clients)
    threads = max(1, min(threads, clients))
    with tempfile.TemporaryDirectory(prefix="bench-wrk-") as directory:
        requests_file = wrk_requests_file(scenario.clients[0], directory)
        if warmup > 0:
            wrk(port, requests_file, threads, clients, max(1, round(warmup)))
            wait_idle(port)
        measured = wrk(port, requests_file, threads, clients, max(1, round(duration)))
        wait_idle(port)
    return wrk_result(scenario, measured, clients, threads)


# --- Server ---------------------------------------------------------------------------------------
def start_server(env: dict[str, str], port: int, workers: int, worker_class: str, log_path: Path) -> subprocess.Popen:
    # A server left on the port (an earlier run killed midway) would answer the health check and every
    # request in place of the one started here, against its own database.
    if problem := port_problem(HOST, port):
        raise SystemExit(f"{problem} (bench/run.py takes --port as well)")
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
    """Full pages for the list users (bench.fixtures.full_pages), other users and doctors picked from the
    database, logins done once, and each scenario's requests."""
    from django.db.models import Exists, OuterRef, Q

    from appointments.models import Appointment
    from bench.fixtures import full_pages
    from bench.management.commands.seed_bench import BENCH_DOMAIN, BENCH_PASSWORD
    from users.choices import Role
    from users.models import DoctorProfile, User

    today = dt.datetime.now(dt.UTC).date()
    bench_users = User.objects.filter(email__endswith=f"@{BENCH_DOMAIN}", is_active=True)
    if not bench_users.exists():
        raise SystemExit("no bench users: run `manage.py seed_bench --settings bench.settings` on this database first")
    pages = full_pages(page=PAGE)
    busy_doctor, busy_patient = pages.doctor_id, pages.patient_id
    horizon = dt.datetime.combine(today + dt.timedelta(days=62), dt.time(), dt.UTC)
    _, _, slots_doctor = busiest_users(slots_before=horizon)
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

    def login(email: str) -> str:
        status, body = call(port, "POST", "/api/auth/login/", {"email": email, "password": BENCH_PASSWORD})
        if status != 200:
            raise SystemExit(f"login of {email} failed: {status} {body}")
        return body["access"]

    with ThreadPoolExecutor(4) as executor:
        tokens = dict(zip(idle_patients, executor.map(login, idle_patients), strict=True))
    # The list users' tokens are signed here (same key and lifetime as the server's): no login row needed.
    t_patient, t_doctor = pages.tokens()["patient"], pages.tokens()["doctor"]
    any_token = t_patient

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
    size = f"page_size={PAGE}"

    def same(req: Request) -> list[list[Request]]:
        return [[req] for _ in range(args.clients)]

    def spread(reqs: list[Request]) -> list[list[Request]]:
        return [reqs[n:] + reqs[:n] for n in range(args.clients)]

    def api(name: str, title: str, path: str, token: str) -> Scenario:
        return Scenario(name, title, same(("GET", path, None, token)), rows=PAGE)

    def floor(name: str, title: str, path: str) -> Scenario:
        return Scenario(name, f"floor: plain Django, same rows ({title})", same(("GET", path, None, None)), rows=PAGE)

    patient, doctor = busy_patient, busy_doctor
    scenarios = [
        Scenario(
            "login",
            "POST /api/auth/login/ (Argon2)",
            spread([("POST", "/api/auth/login/", {"email": e, "password": BENCH_PASSWORD}, None) for e in login_users]),
        ),
        api("directory", "GET /api/doctors/ (directory, 20 rows)", f"/api/doctors/?{size}", any_token),
        floor("floor_directory", "directory", f"/bench/floor/doctors/?{size}"),
        Scenario(
            "directory_specialty",
            "GET /api/doctors/?specialty=",
            spread([("GET", f"/api/doctors/?specialty={s}", None, any_token) for s in specialties]),
        ),
        Scenario(
            "slots",
            "GET /api/doctors/{id}/slots/ (62 days)",
            same(("GET", f"/api/doctors/{slots_doctor}/slots/?start={first}&end={last}", None, any_token)),
        ),
        api("list_patient", "GET /api/appointments/ (patient, 20 rows)", f"/api/appointments/?{size}", t_patient),
        floor("floor_patient", "patient", f"/bench/floor/appointments/?user={patient}&role=patient&{size}"),
        api("list_doctor", "GET /api/appointments/ (busy doctor, 20 rows)", f"/api/appointments/?{size}", t_doctor),
        floor("floor_doctor", "busy doctor", f"/bench/floor/appointments/?user={doctor}&role=doctor&{size}"),
        api("notifications", "GET /api/notifications/ (20 rows)", f"/api/notifications/?{size}", t_patient),
        floor("floor_notifications", "notifications", f"/bench/floor/notifications/?user={patient}&{size}"),
        api("threads", "GET /api/threads/ (20 rows)", f"/api/threads/?{size}", t_patient),
        floor("floor_threads", "threads", f"/bench/floor/threads/?user={patient}&role=patient&{size}"),
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
        "full_pages": {"patient": patient, "doctor": doctor, "created": pages.created},
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


def assert_full_pages(port: int, scenarios: list[Scenario]) -> None:
    """Each list scenario's first response holds a full page, or nothing is measured."""
    for scenario in scenarios:
        if scenario.rows is None:
            continue
        method, path, body, token = scenario.clients[0][0]
        status, page = call(port, method, path, body, token)
        if status != 200 or not isinstance(page, dict) or len(page.get("results", [])) != scenario.rows:
            held = len(page["results"]) if isinstance(page, dict) and "results" in page else page
            raise SystemExit(f"{scenario.name}: {method} {path} gave {status} with {held} rows, not {scenario.rows}")


def delete_bench_rows(since: dt.datetime | None = None) -> dict[str, int]:
    """bench.fixtures.delete_bench_rows(), and the login records (outstanding refresh tokens) of bench users
    created since the run started: every login writes one."""
    from rest_framework_simplejwt.token_blacklist.models import OutstandingToken

    from bench.fixtures import delete_bench_rows as delete_tagged
    from bench.management.commands.seed_bench import BENCH_DOMAIN

    removed = delete_tagged()
    if since is not None:
        logins = OutstandingToken.objects.filter(created_at__gte=since, user__email__endswith=f"@{BENCH_DOMAIN}")
        removed["login_tokens"] = logins.delete()[0]
    return {kind: n for kind, n in removed.items() if n}


# --- One database ---------------------------------------------------------------------------------
def run_one(args: argparse.Namespace, database_url: str) -> dict:
    env = server_env(database_url)
    os.environ.update(env)
    import django

    django.setup()
    from django.db import connection

    db_name = connection.settings_dict["NAME"]
    if connection.vendor != "postgresql":
        raise SystemExit("the benchmark needs PostgreSQL (--database-url postgres://...)")
    RESULTS.mkdir(parents=True, exist_ok=True)
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%d-%H%M%S")
    log_path = RESULTS / f"{stamp}-{db_name}-gunicorn.log"
    run_started = dt.datetime.now(dt.UTC)
    left_over = delete_bench_rows()  # a run that was killed leaves its tagged rows
    load_before = os.getloadavg()
    server = start_server(env, args.port, args.workers, args.worker_class, log_path)
    try:
        scenarios, fixtures = prepare(args.port, args)
        connection.close()
        wanted = [s for s in scenarios if s.name in args.scenarios]
        assert_full_pages(args.port, wanted)
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
                if args.load == "wrk" and scenario.name in WRK_SCENARIOS:
                    result = run_wrk_scenario(args.port, scenario, args.warmup, args.duration, args.procs)
                else:
                    result = run_scenario(pool, args.procs, args.port, scenario, args.warmup, args.duration)
                print(f" {result['rps']:.0f} req/s ({result['load']})", file=sys.stderr)
                results.append(result)
        memory = worker_memory(server.pid)
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
        removed = delete_bench_rows(since=run_started)
        connection.close()
    report = {
        "database": db_name,
        "started": stamp,
        "config": {k: v for k, v in vars(args).items() if k != "database_url"},
        "fixtures": fixtures,
        "results": results,
        "worker_memory": memory,
        # Other work on the machine skews every number: the 1-minute load average before and after.
        "loadavg_1m": {"before": load_before[0], "after": os.getloadavg()[0], "cpus": os.cpu_count()},
        "bench_rows_removed": removed,
        "bench_rows_left_over_before": left_over,
        "derived": derived(results),
    }
    if args.inprocess:
        report["inprocess"] = inprocess_timing(database_url)
    print_report(report)
    out = Path(args.output) if args.output else RESULTS / f"{stamp}-{db_name}.json"
    out.write_text(json.dumps(report, indent=2))
    print(f"\nJSON: {out}\ngunicorn log: {log_path}")
    return report


# --- In-process timing ---------------------------------------------------------------------------
LIST_TIMING = ROOT / "bench" / "list_timing.py"


def inprocess_timing(database_url: str) -> dict:
    """`--inprocess`: run bench/list_timing.py on the same database after the load run (server stopped, bench
    rows cleaned up; it prepares its own pages with bench.fixtures.full_pages) and keep what it prints, to be
    appended to the table. Its stdout is kept verbatim; if it prints a line `INPROCESS_JSON {...}` that
    object is kept as `json` too."""
    cmd = [sys.executable, str(LIST_TIMING), "--database-url", database_url]
    done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, check=False)
    result: dict = {"command": " ".join(cmd[1:]), "returncode": done.returncode, "stdout": done.stdout}
    if done.returncode != 0:
        result["stderr"] = done.stderr[-4000:]
    for line in done.stdout.splitlines():
        if line.startswith("INPROCESS_JSON "):
            result["json"] = json.loads(line.removeprefix("INPROCESS_JSON "))
    return result


def ratio(a: float, b: float) -> float:
    return a / b if b else float("nan")


def derived(results: list[dict]) -> dict:
    """list ÷ floor (req/s) per list endpoint, and slots ÷ each appointment list (req/s)."""
    by = {r["scenario"]: r for r in results}
    ratios = {}
    for api, floor in FLOORS.items():
        if api in by and floor in by:
            ratios[f"{api}_vs_floor_rps"] = ratio(by[api]["rps"], by[floor]["rps"])
    for who in ("patient", "doctor"):
        if "slots" in by and f"list_{who}" in by:
            ratios[f"slots_vs_list_{who}_rps"] = ratio(by["slots"]["rps"], by[f"list_{who}"]["rps"])
    return ratios


def print_report(report: dict) -> None:
    fx = report["fixtures"]
    cfg = report["config"]
    print(
        f"\nDatabase {report['database']}: {fx['appointments_total']:,} appointments, {fx['users_total']:,} users; "
        f"{cfg['duration']}s per scenario after {cfg['warmup']}s warm-up, "
        f"{cfg['clients']} clients ({CONTEND_CLIENTS} for contend), load {cfg['load']}, "
        f"gunicorn {cfg['workers']} {cfg['worker_class']} workers; full pages: patient {fx['full_pages']['patient']}, "
        f"doctor {fx['full_pages']['doctor']} (added {fx['full_pages']['created'] or 'nothing'})"
    )
    header = f"| {'scenario':<19} | {'load':<6} | {'clients':>7} | {'requests':>8} | {'req/s':>7} | {'p50 ms':>7} "
    header += f"| {'p95 ms':>7} | {'p99 ms':>7} | {'errors':>6} | notes"
    print(header)
    print("|" + "|".join("-" * (len(c)) for c in header.split("|")[1:-1]) + "|-------|")
    for r in report["results"]:
        notes = []
        if r["codes_409"]:
            notes.append("409: " + ", ".join(f"{c} {n}" for c, n in r["codes_409"].items()))
        if r["clients_out_of_requests"]:
            notes.append(f"{r['clients_out_of_requests']} clients ran out of slots")
        if r["errors"]:
            notes.append("statuses " + ", ".join(f"{k}: {v}" for k, v in r["statuses"].items()))
            sockets = {k: v for k, v in r.get("socket_errors", {}).items() if v}
            if sockets:
                notes.append(f"socket errors {sockets}")
        if r["error_samples"]:
            notes.append("e.g. " + r["error_samples"][0][:100])
        print(
            f"| {r['scenario']:<19} | {r['load']:<6} | {r['clients']:>7} | {r['requests']:>8} | {r['rps']:>7.1f} "
            f"| {r['p50_ms']:>7.1f} | {r['p95_ms']:>7.1f} | {r['p99_ms']:>7.1f} | {r['errors']:>6} | {'; '.join(notes)}"
        )
    for name, value in report["derived"].items():
        print(f"{name}: {value:.2f}")
    mem = ", ".join(f"pid {m['pid']}: {m['rss_mb']} MB (peak {m['peak_rss_mb']} MB)" for m in report["worker_memory"])
    print(f"gunicorn worker RSS after the run: {mem}")
    load = report["loadavg_1m"]
    print(f"load average (1 min) before/after: {load['before']:.1f}/{load['after']:.1f} on {load['cpus']} CPUs")
    print(f"bench rows removed after the run: {report['bench_rows_removed'] or 'none'}")
    if "inprocess" in report:
        timing = report["inprocess"]
        print("\nIn-process server time per list request (bench/list_timing.py):")
        print(timing.get("stdout", "").rstrip() or f"(no output; {timing})")


# --- Several databases ----------------------------------------------------------------------------
def run_many(args: argparse.Namespace) -> None:
    """Each database once per round. Rounds alternate the order (A B, then B A, ...) so that a drift in the
    machine's load weighs on every database alike; with several rounds each figure is the median over them."""
    rounds: dict[str, list[dict]] = {url: [] for url in args.database_url}
    for round_no in range(args.rounds):
        for url in args.database_url if round_no % 2 == 0 else args.database_url[::-1]:
            n = args.database_url.index(url)
            out = RESULTS / f"{dt.datetime.now(dt.UTC):%Y%m%d-%H%M%S}-db{n}-round{round_no + 1}.json"
            cmd = [sys.executable, __file__, "--database-url", url, "--output", str(out), *passthrough(args)]
            subprocess.run(cmd, check=True)
            rounds[url].append(json.loads(out.read_text()))
    reports = [median_report(rounds[url]) for url in args.database_url]
    first, last = reports[0], reports[-1]
    p95_first = {r["scenario"]: r["p95_ms"] for r in first["results"]}
    over = f"median of {args.rounds} rounds, " if args.rounds > 1 else ""
    print(
        f"\np95 scale ratio ({over}errors summed) {last['database']} "
        f"({last['fixtures']['appointments_total']:,} appointments) / "
        f"{first['database']} ({first['fixtures']['appointments_total']:,})"
    )
    scale = {}
    for r in last["results"]:
        if r["scenario"] in p95_first:
            scale[r["scenario"]] = r["p95_ms"] / max(p95_first[r["scenario"]], 1e-9)
            before = p95_first[r["scenario"]]
            print(
                f"| {r['scenario']:<19} | {before:>7.1f} ms | {r['p95_ms']:>7.1f} ms | {scale[r['scenario']]:.2f} "
                f"| errors {r['errors']} |"
            )
    print(f"\nRatios (req/s) per database: {' / '.join(r['database'] for r in reports)}")
    for name in reports[0]["derived"]:
        values = " / ".join(f"{r['derived'].get(name, float('nan')):.2f}" for r in reports)
        print(f"| {name:<32} | {values} |")
    combined = RESULTS / f"{dt.datetime.now(dt.UTC):%Y%m%d-%H%M%S}-scale.json"
    combined.write_text(json.dumps({"runs": reports, "rounds": rounds, "p95_ratio_last_over_first": scale}, indent=2))
    print(f"\nJSON: {combined}")


MEDIAN_FIELDS = ("rps", "p50_ms", "p95_ms", "p99_ms", "max_ms")


def median_report(rounds: list[dict]) -> dict:
    """One database's rounds as one report: each scenario's rates and latencies the median over the rounds,
    its requests and errors the sum (an error in any round counts), the ratios recomputed from the medians."""
    if len(rounds) == 1:
        return rounds[0]
    results = []
    for first in rounds[0]["results"]:
        same = [next(r for r in report["results"] if r["scenario"] == first["scenario"]) for report in rounds]
        merged = {**first, **{f: statistics.median(r[f] for r in same) for f in MEDIAN_FIELDS}}
        merged["requests"] = sum(r["requests"] for r in same)
        merged["errors"] = sum(r["errors"] for r in same)
        merged["per_round"] = {f: [r[f] for r in same] for f in ("rps", "p95_ms", "errors")}
        results.append(merged)
    return {**rounds[0], "results": results, "derived": derived(results), "rounds": len(rounds)}


def passthrough(args: argparse.Namespace) -> list[str]:
    return [
        "--duration",
        str(args.duration),
        "--warmup",
        str(args.warmup),
        "--clients",
        str(args.clients),
        "--scenarios",
        ",".join(args.scenarios),
        "--port",
        str(args.port),
        "--workers",
        str(args.workers),
        "--worker-class",
        args.worker_class,
        "--procs",
        str(args.procs),
        "--load",
        args.load,
        *(["--inprocess"] if args.inprocess else []),
    ]  # fmt: skip (--rounds is run_many's own)


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
    parser.add_argument(
        "--procs", type=int, default=2, help="load-generator processes, or wrk threads with --load wrk (default 2)"
    )
    parser.add_argument(
        "--load",
        choices=["wrk", "python"],
        default="wrk" if Path(WRK).exists() else "python",
        help="load generator of the GET scenarios and login: wrk (default when installed) or python; "
        "book and contend always use python",
    )
    parser.add_argument(
        "--inprocess",
        action="store_true",
        help="after each database's load run, run bench/list_timing.py on it (if it exists) and append its table",
    )
    parser.add_argument(
        "--rounds",
        type=int,
        default=1,
        help="with several databases: run each this many times, alternating the order; figures are the medians",
    )
    parser.add_argument("--output", help="JSON file (default bench/results/<time>-<db>.json)")
    args = parser.parse_args(argv)
    if args.rounds < 1:
        parser.error("--rounds must be at least 1")
    unknown = set(args.scenarios) - set(SCENARIOS)
    if unknown:
        parser.error(f"unknown scenarios {sorted(unknown)}; choose from {','.join(SCENARIOS)}")
    if args.load == "wrk" and not Path(WRK).exists():
        parser.error(f"--load wrk: no wrk at {WRK} (apt-get install wrk), or use --load python")
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
