"""Helpers for system tests: a throwaway PostgreSQL or SQLite database, gunicorn or uvicorn servers on loopback,
a TCP proxy.

Everything binds to 127.0.0.1, every wait is bounded, and every process started here is killed by the
fixture that started it (its own process group, created with start_new_session).
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import selectors
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg
import requests

ROOT = Path(__file__).resolve().parents[2]
PYTHON = sys.executable
GUNICORN = str(Path(sys.executable).with_name("gunicorn"))
UVICORN = str(Path(sys.executable).with_name("uvicorn"))
REDIS_URL = os.environ.get("SYSTEM_REDIS_URL", "redis://127.0.0.1:6379/5")
SECRET_KEY = "system-test-" + secrets.token_urlsafe(40)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def database_url_with_name(url: str, name: str, *, port: int | None = None) -> str:
    """`url` with its database name (and optionally its port) replaced."""
    parts = urlsplit(url)
    userinfo, _, _ = parts.netloc.rpartition("@")
    host = parts.hostname or "127.0.0.1"
    netloc = f"{userinfo + '@' if userinfo else ''}{host}:{port or parts.port or 5432}"
    return urlunsplit((parts.scheme, netloc, f"/{name}", parts.query, parts.fragment))


def redis_reachable() -> bool:
    import redis

    try:
        return bool(redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1, socket_timeout=1).ping())
    except redis.RedisError:
        return False


def base_env(database_url: str, **overrides: str) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("THROTTLE_", "DJANGO_", "PYTEST_")) and key not in {"DATABASE_URL", "REDIS_URL"}
    }
    env.update(
        DEBUG="false",
        SECRET_KEY=SECRET_KEY,
        DATABASE_URL=database_url,
        REDIS_URL=REDIS_URL,
        ALLOWED_HOSTS="127.0.0.1,localhost",
        EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend",
        ACCOUNT_ACTIVATION_REQUIRED="true",
        DOCTOR_VERIFICATION_REQUIRED="true",
        DJANGO_SETTINGS_MODULE="cybermed.settings",
        LOG_LEVEL="WARNING",
        PYTHONPATH=str(ROOT),
    )
    env.update(overrides)
    return env


@contextlib.contextmanager
def scratch_database(base_url: str, prefix: str = "h_sec_srv") -> Iterator[str]:
    """Create a fresh database next to `base_url`'s, migrate it, yield its URL, drop it afterwards."""
    name = f"{prefix}_{os.getpid()}_{secrets.token_hex(3)}"
    admin_url = database_url_with_name(base_url, "postgres")
    with psycopg.connect(admin_url, autocommit=True, connect_timeout=5) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = database_url_with_name(base_url, name)
    try:
        subprocess.run(
            [PYTHON, "manage.py", "migrate", "--noinput", "-v", "0"],
            cwd=ROOT,
            env=base_env(url),
            check=True,
            timeout=180,
        )
        yield url
    finally:
        with psycopg.connect(admin_url, autocommit=True, connect_timeout=5) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def sqlite_database(directory: Path) -> str:
    """A migrated SQLite file in `directory`, named by a `sqlite://` DATABASE_URL as a container would name it.

    Needs no Redis: with REDIS_URL empty the servers use a per-process cache, fine while throttles are off.
    """
    url = f"sqlite:///{directory / 'db.sqlite3'}"
    subprocess.run(
        [PYTHON, "manage.py", "migrate", "--noinput", "-v", "0"],
        cwd=ROOT,
        env=base_env(url, REDIS_URL=""),
        check=True,
        timeout=180,
    )
    return url


def run_seed(database_url: str, spec: dict, **env: str) -> dict:
    """Run tests/system/seed.py in a subprocess against `database_url`; returns what it prints (JSON)."""
    done = subprocess.run(
        [PYTHON, "-m", "tests.system.seed", json.dumps(spec)],
        cwd=ROOT,
        env=base_env(database_url, **env),
        check=True,
        timeout=120,
        capture_output=True,
        text=True,
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


@dataclass
class Server:
    port: int
    process: subprocess.Popen
    log_path: Path
    session: requests.Session = field(default_factory=requests.Session)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def get(self, path: str, **kwargs) -> requests.Response:
        kwargs.setdefault("timeout", 30)
        return self.session.get(self.url + path, **kwargs)

    def post(self, path: str, **kwargs) -> requests.Response:
        kwargs.setdefault("timeout", 30)
        return self.session.post(self.url + path, **kwargs)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def worker_pids(self) -> list[int]:
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        return [int(pid) for pid in children.read_text().split()] if children.exists() else []

    def stop(self) -> None:
        if self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=10)
        self.session.close()


def _start_server(name: str, argv: list[str], env: dict[str, str], log_dir: Path, port: int) -> Server:
    """Start `argv` in its own process group, logging to `log_dir`, and wait until it answers /api/health/."""
    log_path = log_dir / f"{name}-{port}.log"
    with log_path.open("wb") as log_file:
        process = subprocess.Popen(
            argv, cwd=ROOT, env=env, stdout=log_file, stderr=subprocess.STDOUT, start_new_session=True
        )
    server = Server(port=port, process=process, log_path=log_path)
    try:
        wait_healthy(server)
    except Exception:
        server.stop()
        raise
    return server


def start_gunicorn(env: dict[str, str], log_dir: Path, *, workers: int = 2, threads: int = 1) -> Server:
    port = free_port()
    argv = [GUNICORN, "cybermed.wsgi:application", "--bind", f"127.0.0.1:{port}"]
    argv += ["--workers", str(workers), "--threads", str(threads), "--timeout", "60", "--graceful-timeout", "3"]
    return _start_server("gunicorn", argv, env, log_dir, port)


def start_uvicorn(env: dict[str, str], log_dir: Path, *, workers: int = 1) -> Server:
    """The production ASGI server (HTTP and /ws/v1/), as the image runs it (DB_CONN_MAX_AGE=0 and a connection pool)."""
    env = {
        **env,
        "DB_CONN_MAX_AGE": env.get("DB_CONN_MAX_AGE") or "0",
        "DB_POOL_MAX_SIZE": env.get("DB_POOL_MAX_SIZE") or "4",
    }
    port = free_port()
    argv = [UVICORN, *uvicorn_args(port), "--workers", str(workers)]
    return _start_server("uvicorn", argv, env, log_dir, port)


def uvicorn_args(port: int) -> list[str]:
    """uvicorn's arguments as the image runs it (Dockerfile, WEB_COMMAND), on loopback and with a short grace."""
    return [
        *("cybermed.asgi:application", "--host", "127.0.0.1", "--port", str(port), "--ws-max-size", "65536"),
        *("--ws-per-message-deflate", "false", "--timeout-graceful-shutdown", "3", "--no-access-log"),
    ]


def wait_healthy(server: Server, timeout: float = 45) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(f"server exited with {server.process.returncode}:\n{server.log()}")
        with contextlib.suppress(requests.RequestException):
            if server.get("/api/health/", timeout=2).status_code == 200:
                return
        time.sleep(0.2)
    raise TimeoutError(f"server on port {server.port} not healthy after {timeout}s:\n{server.log()}")


CELERY = str(Path(sys.executable).with_name("celery"))


@dataclass
class CeleryProcess:
    """A `celery -A cybermed worker|beat` process in its own process group."""

    process: subprocess.Popen
    log_path: Path

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def kill(self) -> None:
        """SIGKILL the whole group (main process and pool children): a machine that dies mid-task."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        """SIGTERM (Celery's warm shutdown), then SIGKILL after 10 s."""
        if self.process.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.kill()


def start_celery(role: str, env: dict[str, str], log_dir: Path, *extra: str) -> CeleryProcess:
    """Start a Celery worker (one pool process, no prefetching beyond the task it runs) or a beat."""
    log_path = log_dir / f"celery-{role}-{secrets.token_hex(3)}.log"
    if role == "worker":
        args = ["worker", "--pool", "prefork", "--concurrency", "1", "--without-gossip", "--without-mingle"]
        args += ["--hostname", f"sys-{secrets.token_hex(3)}@%h"]
    else:
        args = ["beat", "--schedule", str(log_dir / f"beat-{secrets.token_hex(3)}")]
    with log_path.open("wb") as log_file:
        process = subprocess.Popen(
            [CELERY, "-A", "cybermed", *args, "--loglevel", "INFO", *extra],
            cwd=ROOT,
            env=env,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    return CeleryProcess(process=process, log_path=log_path)


class TCPProxy:
    """A loopback TCP proxy to `target` that can be closed (refusing and cutting connections) and reopened."""

    def __init__(self, target_host: str, target_port: int) -> None:
        self.target = (target_host, target_port)
        self.port = free_port()
        self._listener: socket.socket | None = None
        self._pairs: list[tuple[socket.socket, socket.socket]] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def open(self) -> None:
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(64)
        self._listener = listener
        self._stop.clear()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def close(self) -> None:
        """Stop listening (new connections are refused) and cut every open connection."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None
        if self._listener is not None:
            self._listener.close()
            self._listener = None
        with self._lock:
            for client, upstream in self._pairs:
                for sock in (client, upstream):
                    with contextlib.suppress(OSError):
                        sock.shutdown(socket.SHUT_RDWR)
                    sock.close()
            self._pairs.clear()

    def _serve(self) -> None:
        selector = selectors.DefaultSelector()
        assert self._listener is not None
        self._listener.setblocking(False)
        selector.register(self._listener, selectors.EVENT_READ, None)
        peers: dict[socket.socket, socket.socket] = {}
        try:
            while not self._stop.is_set():
                for key, _ in selector.select(timeout=0.1):
                    sock = key.fileobj
                    if sock is self._listener:
                        self._accept(selector, peers)
                        continue
                    other = peers.get(sock)
                    try:
                        data = sock.recv(65536)
                    except OSError:
                        data = b""
                    if not data or other is None:
                        self._drop(selector, peers, sock)
                        continue
                    try:
                        other.sendall(data)
                    except OSError:
                        self._drop(selector, peers, sock)
        finally:
            selector.close()

    def _accept(self, selector: selectors.BaseSelector, peers: dict) -> None:
        assert self._listener is not None
        try:
            client, _ = self._listener.accept()
        except BlockingIOError:
            return
        try:
            upstream = socket.create_connection(self.target, timeout=5)
        except OSError:
            client.close()
            return
        client.setblocking(True)
        upstream.setblocking(True)
        peers[client], peers[upstream] = upstream, client
        with self._lock:
            self._pairs.append((client, upstream))
        selector.register(client, selectors.EVENT_READ, None)
        selector.register(upstream, selectors.EVENT_READ, None)

    def _drop(self, selector: selectors.BaseSelector, peers: dict, sock: socket.socket) -> None:
        other = peers.pop(sock, None)
        for s in (sock, other):
            if s is None:
                continue
            peers.pop(s, None)
            with contextlib.suppress(KeyError, ValueError):
                selector.unregister(s)
            s.close()
