#!/usr/bin/env python
"""Instructions one app server executes per chat message (the POST and the push to both participants' sockets),
counted by valgrind's callgrind: a figure that does not move with the machine's load, unlike CPU time.

    .venv/bin/python bench/realtime_instructions.py --messages 30,230
    .venv/bin/python bench/realtime_instructions.py --tree /path/to/another/checkout   # the same, for a before/after

One uvicorn server runs under callgrind (as the image runs it: a connection pool, the Redis channel layer and
cache, the database task backend) on a scratch database next to --database-url. Every seeded user connects one
socket to it; messages are then posted one at a time, each waiting until both participants' sockets have it.
A run's total minus a shorter run's total, divided by the extra messages, leaves out start-up, seeding and
connecting. Runs two counts side by side (two processes); about two minutes on this machine.

Every message of the run lands in one of 40 threads, so most arrive while their recipient's email check is
already queued (messaging.services._claim_email_check): one task is queued per thread and recipient, not one
per message.
"""

import argparse
import asyncio
import concurrent.futures
import http.client
import json
import os
import random
import secrets
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PATIENTS, DOCTORS = 40, 10
STARTUP_TIMEOUT = 600  # Django's start-up under callgrind takes a minute or more


def wait_for_health(port: int, process: subprocess.Popen) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the server exited with {process.returncode}")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            conn.request("GET", "/api/health/")
            response = conn.getresponse()
            response.read()
            if response.status == 200:
                return
        except OSError:
            pass
        time.sleep(1)
    raise TimeoutError(f"the server on port {port} did not answer in {STARTUP_TIMEOUT} s")


async def chat(port: int, seeded: dict, messages: int) -> None:
    """Connect every user, then post `messages` messages one at a time, each delivered before the next."""
    from bench.realtime import open_socket

    sockets = {user["id"]: await open_socket(port, user["access"], 120) for user in seeded["users"]}
    tokens = {user["id"]: user["access"] for user in seeded["users"]}
    rng = random.Random(7)  # the same threads in the same order on every run
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    for k in range(messages):
        thread_id, patient_id, doctor_id = rng.choice(seeded["threads"])
        headers = {"Content-Type": "application/json", "Authorization": f"Bearer {tokens[doctor_id]}"}
        conn.request("POST", f"/api/threads/{thread_id}/messages/", body=json.dumps({"body": f"m{k}"}), headers=headers)
        response = conn.getresponse()
        payload = response.read()
        if response.status != 201:
            raise RuntimeError(f"POST answered {response.status}: {payload[:200]!r}")
        message_id = json.loads(payload)["id"]
        for user_id in (patient_id, doctor_id):
            while True:
                frame = json.loads(await asyncio.wait_for(sockets[user_id].recv(), 120))
                if frame["type"] == "message.created" and frame["data"]["message"]["id"] == message_id:
                    break
    for ws in sockets.values():
        await ws.close()


def count(tree: Path, database_url: str, redis_url: str, messages: int, server_env: list[str]) -> int:
    """Total instructions of one server that served `messages` messages (start-up and connections included)."""
    from bench.realtime import server_environment
    from tests.system import servers

    python = sys.executable
    with servers.scratch_database(database_url, prefix="bench_instr") as url, tempfile.TemporaryDirectory() as tmp:
        env = server_environment(
            url,
            redis_url=redis_url,
            channel_prefix=f"bench-instr-{secrets.token_hex(4)}",
            db_pool=8,
            overrides=server_env,
            PYTHONPATH=str(tree),
        )
        seed = subprocess.run(
            [python, str(ROOT / "bench" / "realtime.py"), "--seed-only", str(PATIENTS), str(DOCTORS)],
            cwd=tree,
            env=env,
            check=True,
            capture_output=True,
            text=True,
            timeout=600,
        )
        seeded = json.loads(seed.stdout.strip().splitlines()[-1])
        port = servers.free_port()
        out = Path(tmp) / "callgrind.out"
        argv = ["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}", python, "-m", "uvicorn"]
        argv += servers.uvicorn_args(port)
        with open(Path(tmp) / "server.log", "w") as log:
            process = subprocess.Popen(argv, cwd=tree, env=env, stdout=log, stderr=subprocess.STDOUT)
        try:
            wait_for_health(port, process)
            asyncio.run(chat(port, seeded, messages))
        finally:
            process.send_signal(signal.SIGTERM)
            process.wait(timeout=300)
        for line in out.read_text().splitlines():
            if line.startswith(("summary:", "totals:")):
                return int(line.split()[1])
    raise RuntimeError("callgrind wrote no total")


def main() -> int:
    from bench.realtime import add_server_env_argument

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--database-url", default=os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/postgres")
    )
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/13")
    parser.add_argument("--messages", default="30,230", help="two message counts: the difference is measured")
    parser.add_argument("--tree", default=str(ROOT), help="the checkout whose server is measured (default: this one)")
    add_server_env_argument(parser)
    args = parser.parse_args()
    fewer, more = sorted(int(n) for n in args.messages.split(","))
    tree = Path(args.tree).resolve()
    with concurrent.futures.ThreadPoolExecutor(2) as pool:
        counts = pool.map(lambda n: count(tree, args.database_url, args.redis_url, n, args.server_env), [fewer, more])
        totals = list(counts)
    per_message = (totals[1] - totals[0]) / (more - fewer)
    result = {
        "tree": str(tree),
        "server_env": args.server_env,
        "messages": [fewer, more],
        "totals": totals,
        "per_message": round(per_message),
    }
    print(json.dumps(result))
    print(f"{per_message / 1e6:.2f} M instructions per message (server: POST + push to 2 sockets)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
