"""dev.py's command line and its busy-port check; nothing here installs or starts a server."""

import importlib.util
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

_spec = importlib.util.spec_from_file_location("dev", Path(__file__).resolve().parents[1] / "dev.py")
dev = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(dev)


@pytest.fixture
def busy_port() -> Iterator[int]:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        yield listener.getsockname()[1]


@pytest.fixture
def no_install(monkeypatch) -> list[tuple]:
    """Record what main() would run instead of creating a virtualenv, migrating or serving."""
    calls: list[tuple] = []

    def refuse_install() -> None:
        calls.append(("install",))

    monkeypatch.setattr(dev, "ensure_virtualenv", refuse_install)
    monkeypatch.setattr(dev, "run", lambda *, host, port: calls.append(("run", host, port)) or 0)
    monkeypatch.setattr(dev, "test", lambda extra: calls.append(("test", extra)) or 0)
    return calls


def test_run_defaults_to_localhost_8000():
    args = dev.parse_args(["run"])
    assert (args.command, args.host, args.port) == ("run", "127.0.0.1", 8000)


def test_run_accepts_host_and_port():
    args = dev.parse_args(["run", "--host", "0.0.0.0", "--port", "8001"])
    assert (args.host, args.port) == ("0.0.0.0", 8001)


@pytest.mark.parametrize("port", ["0", "65536", "-1", "eighty"])
def test_run_rejects_bad_port(port, capsys):
    with pytest.raises(SystemExit) as exc:
        dev.parse_args(["run", f"--port={port}"])
    assert exc.value.code == 2
    assert "--port" in capsys.readouterr().err


@pytest.mark.parametrize(
    "extra", [[], ["-q", "-x", "users"], ["users", "-k", "login"], ["--help"], ["--port", "1"], ["--version"]]
)
def test_test_passes_every_argument_to_pytest(extra, no_install):
    assert dev.main(["test", *extra]) == 0
    assert no_install == [("install",), ("test", extra)]


def test_unknown_command_is_a_usage_error():
    with pytest.raises(SystemExit) as exc:
        dev.parse_args(["serve"])
    assert exc.value.code == 2


def test_port_problem_none_for_a_free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        free = probe.getsockname()[1]
    assert dev.port_problem("127.0.0.1", free) is None


def test_port_problem_names_the_busy_port_and_the_next_one(busy_port):
    assert dev.port_problem("127.0.0.1", busy_port) == (
        f"Port {busy_port} on 127.0.0.1 is in use; try python3 dev.py run --port {busy_port + 1}"
    )


def test_port_problem_unknown_host_is_one_line():
    problem = dev.port_problem("no-such-host.invalid", 8000)
    assert problem.startswith("Cannot use host 'no-such-host.invalid'")
    assert "\n" not in problem


def test_run_on_a_busy_port_exits_1_before_installing(busy_port, no_install, capsys):
    assert dev.main(["run", "--port", str(busy_port)]) == 1
    assert no_install == []
    assert (
        capsys.readouterr().err
        == f"Port {busy_port} on 127.0.0.1 is in use; try python3 dev.py run --port {busy_port + 1}\n"
    )


def test_run_on_a_free_port_installs_then_serves_there(no_install):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        free = probe.getsockname()[1]
    assert dev.main(["run", "--port", str(free)]) == 0
    assert no_install == [("install",), ("run", "127.0.0.1", free)]


@pytest.mark.parametrize(
    ("host", "port", "site_url"),
    [
        ("127.0.0.1", 8000, "http://127.0.0.1:8000"),
        ("0.0.0.0", 8001, "http://127.0.0.1:8001"),
        ("::", 9000, "http://[::1]:9000"),
        ("::1", 9000, "http://[::1]:9000"),
        ("localhost", 8080, "http://localhost:8080"),
    ],
)
def test_server_env_points_email_links_at_the_served_port(host, port, site_url):
    env = dev.server_env(host=host, port=port, environ={"PATH": "/bin"})
    assert env == {"PATH": "/bin", "DEBUG": "true", "SITE_URL": site_url}


def test_server_env_keeps_what_the_environment_sets():
    environ = {"DEBUG": "false", "SITE_URL": "https://dev.clinic.example"}
    assert dev.server_env(host="127.0.0.1", port=8001, environ=environ) == environ


def test_run_ends_with_the_failing_step_exit_code_not_a_traceback(no_install, monkeypatch):
    def migrate_fails(*, host: str, port: int) -> int:
        raise dev.subprocess.CalledProcessError(3, ["manage.py", "migrate"])

    monkeypatch.setattr(dev, "run", migrate_fails)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        free = probe.getsockname()[1]
    assert dev.main(["run", "--port", str(free)]) == 3


def test_failed_migration_on_postgres_says_how_to_create_the_database(monkeypatch, capsys):
    def manage(*args: str, env: dict[str, str]) -> None:
        raise dev.subprocess.CalledProcessError(1, ["manage.py", *args])

    monkeypatch.setattr(dev, "manage", manage)
    monkeypatch.setenv("DATABASE_URL", "postgres://clinic:secret@db.local:5433/cybermed_dev")
    with pytest.raises(dev.subprocess.CalledProcessError):
        dev.run(host="127.0.0.1", port=8000)
    assert "create it: createdb -h db.local -p 5433 -U clinic cybermed_dev\n" in capsys.readouterr().err
