#!/usr/bin/env python
"""Benchmark live delivery: N sockets on two uvicorn servers (one PostgreSQL, one Redis), messages posted at
a steady rate through both servers, latency from POST to receipt by every recipient (see bench/README.md).

    .venv/bin/python bench/realtime.py --sockets 1000 --rates 50,100,200 --duration 10

Creates a scratch database next to --database-url (dropped afterwards) and uses its own channel-layer prefix
on --redis-url, so it disturbs nothing else. Everything binds to 127.0.0.1. Prints one row per rate and writes
JSON to bench/results/ (gitignored).
"""

import argparse
import asyncio
import http.client
import json
import multiprocessing as mp
import os
import random
import secrets
import subprocess
import sys
import threading
import time
from pathlib import Path

import uvloop

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

RESULTS = ROOT / "bench" / "results"


# --- Seeding (runs in a subprocess against the scratch database) -------------------------------------


def seed(patients: int, doctors: int) -> None:
    import datetime as dt

    import django

    django.setup()
    from django.contrib.auth.hashers import make_password
    from rest_framework_simplejwt.tokens import AccessToken

    from appointments.choices import Status
    from appointments.models import Appointment
    from messaging.models import Thread
    from users.choices import Role
    from users.models import User

    password = make_password(None)
    tag = secrets.token_hex(3)
    docs = User.objects.bulk_create(
        User(email=f"bdoc{i}-{tag}@bench.local", role=Role.DOCTOR, password=password) for i in range(doctors)
    )
    pats = User.objects.bulk_create(
        User(email=f"bpat{i}-{tag}@bench.local", role=Role.PATIENT, password=password) for i in range(patients)
    )
    base = dt.datetime(2020, 1, 1, tzinfo=dt.UTC)
    pairs = [(p, docs[i % doctors]) for i, p in enumerate(pats)]
    Appointment.objects.bulk_create(
        Appointment(
            patient=p,
            doctor=d,
            start=base + dt.timedelta(hours=i),
            end=base + dt.timedelta(hours=i, minutes=30),
            status=Status.COMPLETED,
            created_by=p,
        )
        for i, (p, d) in enumerate(pairs)
    )
    threads = Thread.objects.bulk_create(Thread(patient=p, doctor=d) for p, d in pairs)
    users = [*docs, *pats]
    print(
        json.dumps(
            {
                "users": [{"id": u.pk, "access": str(AccessToken.for_user(u))} for u in users],
                "threads": [[t.pk, t.patient_id, t.doctor_id] for t in threads],
            }
        )
    )


# --- The servers' environment (shared with bench/realtime_instructions.py) ------------------------------


def _name_equals_value(item: str) -> str:
    name, equals, _value = item.partition("=")
    if not (name and equals):
        raise argparse.ArgumentTypeError(f"expected NAME=VALUE, got {item!r}")
    return item


def add_server_env_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--server-env",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        type=_name_equals_value,
        help="a setting of the servers' environment (repeatable), e.g. ASGI_HTTP_THREADS=4",
    )


def server_environment(
    database_url: str, *, redis_url: str, channel_prefix: str, db_pool: int, overrides: list[str], **extra: str
) -> dict[str, str]:
    """The environment of a bench server, as the image runs it (a pool: Django refuses persistent connections
    beside one), with the bench's load settings and the `--server-env` overrides last."""
    from bench.run import LOAD_ENV
    from tests.system import servers

    return servers.base_env(
        database_url,
        **LOAD_ENV,
        REDIS_URL=redis_url,
        CHANNEL_LAYER_PREFIX=channel_prefix,
        **{
            "DB_CONN_MAX_AGE": "0",
            "DB_POOL_MAX_SIZE": str(db_pool),
            **extra,
            **dict(item.split("=", 1) for item in overrides),
        },
    )


# --- The sockets (one process) -----------------------------------------------------------------------


async def open_socket(port: int, access: str, timeout: float):  # -> a websockets ClientConnection
    """One client socket on /ws/v1/, authenticated by subprotocol, once its hello frame has arrived."""
    from websockets.asyncio.client import connect

    ws = await connect(
        f"ws://127.0.0.1:{port}/ws/v1/",
        subprotocols=["cybermed.v1", f"cybermed.bearer.{access}"],
        open_timeout=timeout,
        ping_interval=None,
        max_queue=None,
    )
    await asyncio.wait_for(ws.recv(), timeout)  # hello
    return ws


def receiver(
    ports: list[int], users: list[dict], ready: mp.Event, stop: mp.Event, out: mp.Queue, per_user: int
) -> None:
    received: list[tuple[int, int, float]] = []
    failures: list[str] = []

    async def one(i: int, user: dict, gate: asyncio.Semaphore, connected: list) -> None:
        port = ports[i % len(ports)]
        async with gate:
            try:
                ws = await open_socket(port, user["access"], 60)
            except Exception as exc:  # noqa: BLE001 - counted and reported
                failures.append(f"connect: {type(exc).__name__}: {exc}")
                return
        connected.append(ws)
        try:
            async for raw in ws:
                now = time.time()
                frame = json.loads(raw)
                if frame["type"] == "message.created":
                    received.append((frame["data"]["message"]["id"], user["id"], now))
        except Exception as exc:  # noqa: BLE001
            if not stop.is_set():
                failures.append(f"socket: {type(exc).__name__}: {exc}")

    async def main() -> None:
        gate = asyncio.Semaphore(50)
        connected: list = []
        sockets = [(user, k) for user in users for k in range(per_user)]
        started = time.monotonic()
        tasks = [asyncio.create_task(one(i, user, gate, connected)) for i, (user, _) in enumerate(sockets)]
        while len(connected) + len(failures) < len(sockets):
            await asyncio.sleep(0.1)
        out.put(("connected", len(connected), len(failures), time.monotonic() - started))
        ready.set()
        while not stop.is_set():
            await asyncio.sleep(0.1)
        for ws in connected:
            await ws.close()
        for task in tasks:
            task.cancel()
        out.put(("done", received, failures[:20], len(failures)))

    uvloop.run(main())  # the event loop uvicorn runs on: the load generator takes less of the CPU it shares


# --- The poster (threads with keep-alive connections, paced to a steady rate) -------------------------


def post_at_rate(
    ports: list[int], threads: list[list[int]], tokens: dict[int, str], rate: float, duration: float, workers: int
) -> list[dict]:
    total = int(rate * duration)
    schedule_start = time.time() + 0.5
    lock = threading.Lock()
    counter = iter(range(total))
    posted: list[dict] = []

    def work(w: int) -> None:
        conns = {port: http.client.HTTPConnection("127.0.0.1", port, timeout=30) for port in ports}
        rng = random.Random(w)
        while True:
            with lock:
                k = next(counter, None)
            if k is None:
                break
            due = schedule_start + k / rate
            delay = due - time.time()
            if delay > 0:
                time.sleep(delay)
            thread_id, patient_id, doctor_id = rng.choice(threads)
            port = ports[k % len(ports)]
            body = json.dumps({"body": f"bench message {k}"})
            headers = {"Content-Type": "application/json", "Authorization": f"Bearer {tokens[doctor_id]}"}
            sent = time.time()
            try:
                try:
                    conns[port].request("POST", f"/api/threads/{thread_id}/messages/", body=body, headers=headers)
                except (BrokenPipeError, ConnectionResetError):
                    # The server closed an idle keep-alive connection; the request never left: send it again.
                    conns[port] = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
                    conns[port].request("POST", f"/api/threads/{thread_id}/messages/", body=body, headers=headers)
                response = conns[port].getresponse()
                payload = response.read()
                status = response.status
            except (OSError, http.client.HTTPException) as exc:
                conns[port] = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
                posted.append({"status": 0, "error": type(exc).__name__, "sent": sent, "due": due})
                continue
            answered = time.time()
            entry = {"status": status, "sent": sent, "due": due, "answered": answered, "port": port}
            if status == 201:
                entry |= {"id": json.loads(payload)["id"], "recipients": [patient_id, doctor_id]}
            with lock:
                posted.append(entry)

    pool = [threading.Thread(target=work, args=(w,), daemon=True) for w in range(workers)]
    for t in pool:
        t.start()
    for t in pool:
        t.join(timeout=duration + 120)
    return posted


def percentile(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(p / 100 * (len(ordered) - 1))))]


def rss_kib(server) -> int:
    """Resident memory of a server's process and its worker processes (uvicorn --workers > 1)."""
    total = 0
    for pid in [server.process.pid, *server.worker_pids()]:
        try:
            lines = Path(f"/proc/{pid}/status").read_text().splitlines()
        except FileNotFoundError:
            continue
        total += next((int(line.split()[1]) for line in lines if line.startswith("VmRSS:")), 0)
    return total


def process_cpu_seconds(pid: int) -> float:
    """User + system CPU time of one process so far (0 once it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (FileNotFoundError, ProcessLookupError):
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime, stime (fields 14, 15 of proc(5))


def cpu_seconds(server) -> float:
    """CPU time of a server's process and its worker processes so far."""
    return sum(process_cpu_seconds(pid) for pid in [server.process.pid, *server.worker_pids()])


def service_pids() -> dict[str, list[int]]:
    """The PostgreSQL and Redis server processes on this machine, by their command lines."""
    found: dict[str, list[int]] = {"postgres": [], "redis": []}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            command = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        if command.startswith((b"postgres", b"/usr/lib/postgresql")):
            found["postgres"].append(int(entry.name))
        elif b"redis-server" in command:
            found["redis"].append(int(entry.name))
    return found


def cpu_by_part(servers_list, generator_pids: list[int]) -> dict[str, float]:
    """CPU seconds so far of each part sharing the machine: the app servers, PostgreSQL, Redis, the load."""
    services = service_pids()
    return {
        "servers": sum(cpu_seconds(s) for s in servers_list),
        "postgres": sum(process_cpu_seconds(pid) for pid in services["postgres"]),
        "redis": sum(process_cpu_seconds(pid) for pid in services["redis"]),
        "load": sum(process_cpu_seconds(pid) for pid in generator_pids),
    }


def measure(ports, seeded, rate, duration, workers, sockets_per_user, servers_list) -> dict:
    users = seeded["users"]
    tokens = {u["id"]: u["access"] for u in users}
    ctx = mp.get_context("spawn")
    ready, stop, out = ctx.Event(), ctx.Event(), ctx.Queue()
    rss_before = [rss_kib(s) for s in servers_list]
    proc = ctx.Process(target=receiver, args=(ports, users, ready, stop, out, sockets_per_user), daemon=True)
    proc.start()
    _, connected, connect_failures, connect_seconds = out.get(timeout=600)
    ready.wait(timeout=60)
    time.sleep(2)
    rss_idle = [rss_kib(s) for s in servers_list]
    started = time.time()
    # The servers' pools hold their PostgreSQL backends for the whole window (a backend that started meanwhile counts
    # in full, one that ended would be missed).
    generator = [os.getpid(), proc.pid]
    cpu_before = cpu_by_part(servers_list, generator)
    posted = post_at_rate(ports, seeded["threads"], tokens, rate, duration, workers)
    time.sleep(3)  # grace for the last deliveries
    cpu_after = cpu_by_part(servers_list, generator)
    cpu_used = cpu_after["servers"] - cpu_before["servers"]
    stop.set()
    _, received, failures, failure_count = out.get(timeout=120)
    proc.join(timeout=30)
    if proc.is_alive():
        proc.kill()

    by_id = {p["id"]: p for p in posted if p.get("status") == 201}
    got: dict[tuple[int, int], float] = {}
    for message_id, user_id, at in received:
        got.setdefault((message_id, user_id), at)
    latencies, after_response, lost = [], [], 0
    for message_id, p in by_id.items():
        for user_id in p["recipients"]:
            at = got.get((message_id, user_id))
            if at is None:
                lost += 1
            else:
                latencies.append((at - p["sent"]) * 1000)
                # The fan-out alone: negative when the push beat the HTTP response back to the poster.
                after_response.append((at - p["answered"]) * 1000)
    post_ms = [(p["answered"] - p["sent"]) * 1000 for p in posted if "answered" in p]
    answered = [p["answered"] for p in posted if "answered" in p]
    answered_span = (max(answered) - min(p["sent"] for p in posted)) if answered else 0.0
    lag_ms = [(p["sent"] - p["due"]) * 1000 for p in posted]
    deliveries = len(latencies)
    last = max((at for (_, _), at in got.items()), default=started)
    return {
        "rate_target": rate,
        "duration": duration,
        "sockets": connected,
        "connect_failures": connect_failures,
        "connect_seconds": round(connect_seconds, 1),
        "posted_ok": len(by_id),
        "post_errors": sum(1 for p in posted if p.get("status") != 201),
        "rate_achieved": round(len(by_id) / max(0.001, answered_span), 1),
        "post_p50_ms": round(percentile(post_ms, 50), 1),
        "post_p95_ms": round(percentile(post_ms, 95), 1),
        "schedule_lag_p95_ms": round(percentile(lag_ms, 95), 1),
        "deliveries": deliveries,
        "deliveries_per_s": round(deliveries / max(0.001, last - started), 1),
        "lost": lost,
        # Both servers' CPU (all their processes) from the first POST to 3 s after the last, per message stored:
        # steadier than the ceiling on a shared machine, and it includes the fan-out to both recipients' sockets.
        "server_cpu_ms_per_message": round(cpu_used * 1000 / max(1, len(by_id)), 2),
        # The same for each part that shares the machine's two cores: at R messages/s, R x their sum must stay
        # well under 2,000 ms/s, or requests queue for the CPU.
        "cpu_ms_per_message": {
            part: round((cpu_after[part] - cpu_before[part]) * 1000 / max(1, len(by_id)), 2) for part in cpu_after
        },
        "p50_ms": round(percentile(latencies, 50), 1),
        "p95_ms": round(percentile(latencies, 95), 1),
        "p99_ms": round(percentile(latencies, 99), 1),
        "max_ms": round(max(latencies, default=float("nan")), 1),
        "after_response_p50_ms": round(percentile(after_response, 50), 1),
        "after_response_p95_ms": round(percentile(after_response, 95), 1),
        "post_error_kinds": sorted({str(p.get("error") or p["status"]) for p in posted if p.get("status") != 201}),
        "rss_before_kib": rss_before,
        "rss_idle_kib": rss_idle,
        "kib_per_idle_socket": round((sum(rss_idle) - sum(rss_before)) / max(1, connected), 1),
        "socket_failures": failure_count,
        "socket_failure_samples": failures[:5],
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--database-url", default=os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/postgres")
    )
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/13")
    parser.add_argument("--sockets", type=int, default=1000, help="users connected (one socket each by default)")
    parser.add_argument("--doctors", type=int, default=50)
    parser.add_argument("--rates", default="50,100,200", help="messages per second, one run each")
    parser.add_argument("--duration", type=float, default=10)
    parser.add_argument("--workers", type=int, default=32, help="posting threads")
    parser.add_argument("--server-workers", type=int, default=1, help="uvicorn workers per server")
    parser.add_argument(
        "--db-pool",
        type=int,
        default=8,
        help="DB_POOL_MAX_SIZE of each server (as in the image); 0: a connection per request",
    )
    add_server_env_argument(parser)
    parser.add_argument("--output", default="")
    args = parser.parse_args()

    from tests.system import servers

    prefix = f"bench-{secrets.token_hex(4)}"
    patients = args.sockets - args.doctors
    with servers.scratch_database(args.database_url, prefix="bench_rt") as url:
        env = server_environment(
            url, redis_url=args.redis_url, channel_prefix=prefix, db_pool=args.db_pool, overrides=args.server_env
        )
        done = subprocess.run(
            [sys.executable, __file__, "--seed-only", str(patients), str(args.doctors)],
            cwd=ROOT,
            env=env,
            check=True,
            capture_output=True,
            text=True,
            timeout=600,
        )
        seeded = json.loads(done.stdout.strip().splitlines()[-1])
        log_dir = Path(os.environ.get("TMPDIR", "/tmp")) / prefix
        log_dir.mkdir(parents=True, exist_ok=True)
        started = []
        try:
            for _ in range(2):
                started.append(servers.start_uvicorn(env, log_dir, workers=args.server_workers))
            ports = [s.port for s in started]
            rows = []
            for rate in [float(r) for r in args.rates.split(",")]:
                row = measure(ports, seeded, rate, args.duration, args.workers, 1, started)
                rows.append(row)
                print(json.dumps(row), flush=True)
        finally:
            for server in started:
                server.stop()
    print()
    print(
        "| target msg/s | achieved | sockets | deliveries/s | p50 ms | p95 ms | p99 ms | lost | POST p95 ms "
        "| server CPU ms/message | CPU ms/message: servers / PostgreSQL / Redis / load | KiB/idle socket |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(
            f"| {r['rate_target']:g} | {r['rate_achieved']} | {r['sockets']} | {r['deliveries_per_s']} | {r['p50_ms']} "
            f"| {r['p95_ms']} | {r['p99_ms']} | {r['lost']} | {r['post_p95_ms']} | {r['server_cpu_ms_per_message']} "
            f"| {' / '.join(str(v) for v in r['cpu_ms_per_message'].values())} | {r['kib_per_idle_socket']} |"
        )
    RESULTS.mkdir(exist_ok=True)
    output = Path(args.output) if args.output else RESULTS / f"realtime-{time.strftime('%Y%m%dT%H%M%S')}.json"
    output.write_text(json.dumps(rows, indent=2))
    return 0


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "--seed-only":
        seed(int(sys.argv[2]), int(sys.argv[3]))
        sys.exit(0)
    sys.exit(main())
