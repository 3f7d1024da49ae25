"""Fuzz the live API with schemathesis against its own OpenAPI schema: `python -m tests.system.fuzz`.

Creates a scratch PostgreSQL database next to DATABASE_URL's, seeds a patient, a doctor and an appointment
between them, starts gunicorn on loopback with every throttle off, logs both users in through the API, then
runs `schemathesis run` once per user (both at once, as separate processes) with the checks `not_a_server_error` and
`response_schema_conformance`. Bounded: a few examples per operation, a timeout per request and per run.
Exits non-zero if either run fails. Extra arguments go to `schemathesis run`.
"""

import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from cybermed import throttle_rates
from tests.system import servers

THROTTLES_OFF = throttle_rates.all_off()
MAX_EXAMPLES = os.environ.get("FUZZ_MAX_EXAMPLES", "8")
CHECKS = os.environ.get("FUZZ_CHECKS", "not_a_server_error,response_schema_conformance")
RUN_TIMEOUT = int(os.environ.get("FUZZ_RUN_TIMEOUT", "600"))
SCHEMATHESIS = str(Path(sys.executable).with_name("schemathesis"))


def login(server: servers.Server, email: str, password: str) -> str:
    r = server.post("/api/auth/login/", json={"email": email, "password": password})
    r.raise_for_status()
    return r.json()["access"]


def schemathesis_command(
    server: servers.Server, role: str, token: str, report_dir: Path, extra: list[str]
) -> list[str]:
    return [
        SCHEMATHESIS,
        "run",
        f"{server.url}/api/schema/",
        "--url",
        server.url,
        "--checks",
        CHECKS,
        "--header",
        f"Authorization: Bearer {token}",
        "--max-examples",
        MAX_EXAMPLES,
        "--seed",
        os.environ.get("FUZZ_SEED", "20260101"),
        # One thread per run: CPython 3.11.7 keeps the AST converter's recursion counter per process, so two
        # threads in hypothesis' lambda descriptions (ast.parse) race on it and crash the run with
        # "SystemError: AST constructor recursion depth mismatch". The roles run as parallel processes instead.
        "--workers",
        "1",
        "--request-timeout",
        "20",
        "--no-shrink",
        "--continue-on-failure",
        "--report",
        "junit",
        "--report-junit-path",
        str(report_dir / f"fuzz-{role}.xml"),
        *extra,
    ]


def run_schemathesis_in_parallel(runs: dict[str, list[str]], work_dir: Path) -> list[dict]:
    """Start one schemathesis process per role at once, wait for all, print each output; one result per role."""
    started = time.monotonic()
    processes = {}
    for role, command in runs.items():
        shown = " ".join("Authorization: Bearer ***" if "Bearer" in part else part for part in command)
        print(f"\n--- schemathesis as {role}: {shown}", flush=True)
        role_dir = work_dir / role  # schemathesis and hypothesis keep caches in the working directory
        role_dir.mkdir()
        processes[role] = subprocess.Popen(
            command,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env={**os.environ, "NO_COLOR": "1"},
            cwd=role_dir,
        )
    results = []
    for role, process in processes.items():
        try:
            output, _ = process.communicate(timeout=max(1, RUN_TIMEOUT - (time.monotonic() - started)))
        except subprocess.TimeoutExpired:
            process.kill()
            output, _ = process.communicate()
            output += f"\nfuzz: schemathesis as {role} killed after {RUN_TIMEOUT}s"
        print(f"\n--- schemathesis as {role} (exit {process.returncode}):")
        print(output[-12000:])
        cases = re.search(r"Test cases:\s*(.+)", output)
        results.append(
            {
                "role": role,
                "returncode": process.returncode,
                "cases": cases.group(1).strip() if cases else "unknown",
                "seconds": round(time.monotonic() - started),
            }
        )
    return results


def main() -> int:
    base_url = os.environ.get("DATABASE_URL", "")
    if not base_url.startswith(("postgres://", "postgresql://")):
        print("fuzz: set DATABASE_URL to a PostgreSQL server (postgres://user@127.0.0.1:5432/name)", file=sys.stderr)
        return 2
    if not servers.redis_reachable():
        print(f"fuzz: Redis is not reachable at {servers.REDIS_URL}", file=sys.stderr)
        return 2
    results: list[dict] = []
    with servers.scratch_database(base_url, prefix="h_sec_fuzz") as url, tempfile.TemporaryDirectory() as tmp:
        seeded = servers.run_seed(url, {"patients": 1, "appointment": True})
        env = servers.base_env(url, JWT_ACCESS_MINUTES="60", **THROTTLES_OFF)
        server = servers.start_gunicorn(env, Path(tmp), workers=2)
        try:
            report_dir = Path(os.environ.get("FUZZ_REPORT_DIR", tmp)).resolve()
            report_dir.mkdir(parents=True, exist_ok=True)
            runs = {
                role: schemathesis_command(
                    server, role, login(server, user["email"], seeded["password"]), report_dir, sys.argv[1:]
                )
                for role, user in (("patient", seeded["patients"][0]), ("doctor", seeded["doctor"]))
            }
            results = run_schemathesis_in_parallel(runs, Path(tmp))
            server_errors = [line for line in server.log().splitlines() if "Traceback" in line or " 500 " in line]
        finally:
            server.stop()
    print("\n=== fuzz summary ===")
    for result in results:
        verdict = "PASS" if result["returncode"] == 0 else "FAIL"
        print(f"{result['role']:8} {verdict}  test cases: {result['cases']}  ({result['seconds']}s)")
    if server_errors:
        print(f"server log: {len(server_errors)} error lines")
    return 0 if all(r["returncode"] == 0 for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
