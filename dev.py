#!/usr/bin/env python3
"""Zero-setup developer entry point; needs only Python 3.11+.

python3 dev.py run [--host HOST] [--port PORT]   # virtualenv + install + migrate + demo data, then serve
python3 dev.py test [pytest args]                # virtualenv + install, then the test suite (args go to pytest)
"""

import argparse
import contextlib
import errno
import hashlib
import os
import socket
import subprocess
import sys
import venv
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
PYTHON = VENV / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
STAMP = VENV / ".requirements.sha256"
# Pinned by pip-compile from requirements.in / requirements-dev.in; the dev file includes the runtime pins.
REQUIREMENTS = ("requirements.txt", "requirements-dev.txt")
DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8000


def ensure_virtualenv() -> None:
    if not PYTHON.exists():
        print("Creating .venv ...", flush=True)
        venv.EnvBuilder(with_pip=True).create(VENV)
    digest = hashlib.sha256(b"".join((ROOT / name).read_bytes() for name in REQUIREMENTS)).hexdigest()
    if STAMP.exists() and STAMP.read_text() == digest:
        return
    print("Installing requirements ...", flush=True)
    subprocess.run([PYTHON, "-m", "pip", "install", "--quiet", "--upgrade", "pip"], check=True)
    subprocess.run([PYTHON, "-m", "pip", "install", "--quiet", "-r", ROOT / "requirements-dev.txt"], check=True)
    STAMP.write_text(digest)


def port_problem(host: str, port: int) -> str | None:
    """A one-line reason why runserver could not listen on host:port, or None if it can."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        return f"Cannot use host {host!r}: {exc.strerror}"
    family, _, _, _, address = infos[0]
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        # Same option runserver sets, so a port left in TIME_WAIT by the previous run still counts as free.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(address)
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                return f"Port {port} on {host} is in use; try python3 dev.py run --port {port + 1}"
            return f"Cannot listen on {host}:{port}: {exc.strerror}"
    return None


def postgres_hint(database_url: str) -> str:
    url = urlsplit(database_url)
    command = f"createdb -h {url.hostname or '127.0.0.1'} -p {url.port or 5432} -U {url.username or 'postgres'}"
    return f"If PostgreSQL said the database does not exist, create it: {command} {url.path.lstrip('/') or 'cybermed'}"


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python3 dev.py", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    run_parser = commands.add_parser("run", help="migrate, load demo data and serve the API")
    run_parser.add_argument("--host", default=DEFAULT_HOST, help=f"address to listen on (default {DEFAULT_HOST})")
    run_parser.add_argument(
        "--port", type=int, default=DEFAULT_PORT, help=f"port to listen on, 1-65535 (default {DEFAULT_PORT})"
    )
    commands.add_parser("test", help="run pytest; every further argument is passed to it", add_help=False)
    # `test` hands everything after it to pytest untouched, including options such as -k or --help.
    if argv[:1] == ["test"]:
        return argparse.Namespace(command="test", pytest_args=argv[1:])
    args = parser.parse_args(argv)
    if not 1 <= args.port <= 65535:
        parser.error(f"--port must be between 1 and 65535, not {args.port}")
    return args


def manage(*args: str, env: dict[str, str]) -> None:
    subprocess.run([PYTHON, ROOT / "manage.py", *args], check=True, env=env, cwd=ROOT)


def server_env(*, host: str, port: int, environ: dict[str, str]) -> dict[str, str]:
    """The environment for the dev server: DEBUG on and email links pointing at this very server, unless set."""
    # A wildcard address is where the server listens, not one a browser can open.
    browsable = {"0.0.0.0": "127.0.0.1", "::": "[::1]"}.get(host, f"[{host}]" if ":" in host else host)
    defaults = {"DEBUG": "true", "SITE_URL": f"http://{browsable}:{port}"}
    return {**environ, **{name: value for name, value in defaults.items() if not environ.get(name)}}


def run(*, host: str, port: int) -> int:
    env = server_env(host=host, port=port, environ=dict(os.environ))
    try:
        manage("migrate", "--noinput", env=env)
    except subprocess.CalledProcessError:
        if env.get("DATABASE_URL", "").startswith(("postgres://", "postgresql://")):
            print(postgres_hint(env["DATABASE_URL"]), file=sys.stderr)
        raise
    manage("seed_demo", env=env)
    print(f"Emails (activation, password reset, notifications) are printed here; their links use {env['SITE_URL']}.")
    address = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    with contextlib.suppress(KeyboardInterrupt):
        manage("runserver", address, env=env)
    return 0


def test(extra: list[str]) -> int:
    return subprocess.run([PYTHON, "-m", "pytest", *extra], cwd=ROOT).returncode


def main(argv: list[str] | None = None) -> int:
    if sys.version_info < (3, 11):  # noqa: UP036 - this file must explain itself on an older Python
        sys.exit("CyberMed needs Python 3.11 or newer.")
    args = parse_args(sys.argv[1:] if argv is None else argv)
    if args.command == "run":
        # Checked before installing or migrating, so a busy port costs a second, not a traceback at the end.
        problem = port_problem(args.host, args.port)
        if problem:
            print(problem, file=sys.stderr)
            return 1
        ensure_virtualenv()
        try:
            return run(host=args.host, port=args.port)
        except subprocess.CalledProcessError as exc:  # manage.py has said why; a traceback of ours adds nothing
            return exc.returncode
    ensure_virtualenv()
    return test(args.pytest_args)


if __name__ == "__main__":
    sys.exit(main())
