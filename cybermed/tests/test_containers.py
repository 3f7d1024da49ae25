"""The Dockerfile, docker-compose.yml and CI workflow: linted by their own tools, and shaped as docs/production.md says.

This machine cannot pull images, so the containers are checked statically: hadolint (a dev requirement),
`docker-compose config` (Debian's docker-compose, installed by .ci/run) and actionlint when it is on PATH.
"""

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = (ROOT / "Dockerfile").read_text()
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
APP_SERVICES = ("migrate", "web", "worker", "beat")


def test_hadolint_passes():
    hadolint = Path(sys.executable).with_name("hadolint")
    result = subprocess.run([hadolint, "Dockerfile"], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr


def test_dockerfile_is_multi_stage_slim_non_root_with_collectstatic_and_healthcheck():
    stages = re.findall(r"^FROM (\S+)", DOCKERFILE, flags=re.MULTILINE)
    assert len(stages) == 2
    assert "slim" in re.search(r"^ARG PYTHON_IMAGE=(\S+)", DOCKERFILE, flags=re.MULTILINE).group(1)
    assert "collectstatic --noinput" in DOCKERFILE
    assert re.search(r"^USER 10001", DOCKERFILE, flags=re.MULTILINE)
    assert re.search(r"^HEALTHCHECK .*cybermed\.healthcheck", DOCKERFILE, flags=re.MULTILINE)
    final_stage = DOCKERFILE.split("\nFROM ${PYTHON_IMAGE}\n")[1]
    assert "apt-get" not in final_stage
    assert "build-essential" not in DOCKERFILE
    assert 'CMD ["sh", "-c", "exec $WEB_COMMAND"]' in DOCKERFILE


def test_the_system_tests_run_uvicorn_with_the_images_flags():
    from tests.system.servers import uvicorn_args

    web_command = re.search(r'^ENV WEB_COMMAND="([^"]+)"', DOCKERFILE, flags=re.MULTILINE).group(1).split()
    ours = uvicorn_args(8000)
    # The same flags, but for where to listen and how long a shutdown may take (short in the tests).
    differ = {"--host", "--port", "--timeout-graceful-shutdown", "--proxy-headers"}

    def flags(argv: list[str]) -> dict[str, str]:
        pairs, i = {}, 0
        while i < len(argv):
            if argv[i].startswith("--") and argv[i] not in differ:
                has_value = i + 1 < len(argv) and not argv[i + 1].startswith("--")
                pairs[argv[i]] = argv[i + 1] if has_value else ""
            i += 1
        return pairs

    assert web_command[:2] == ["uvicorn", ours[0]]
    assert flags(web_command) == flags(ours)
    assert flags(ours)["--ws-per-message-deflate"] == "false"


def test_compose_runs_web_worker_beat_postgres_redis_with_health_checks_and_named_volumes():
    services = COMPOSE["services"]
    assert set(services) == {"postgres", "redis", "migrate", "web", "worker", "beat"}
    for name in ("postgres", "redis", "worker"):
        assert services[name]["healthcheck"]["test"], name
    for name in APP_SERVICES:
        assert services[name]["env_file"] == ".env"
        assert services[name]["environment"]["TASKS_BACKEND"] == "cybermed.celery_backend.CeleryBackend"
    assert services["worker"]["command"][:4] == ["celery", "-A", "cybermed", "worker"]
    assert services["beat"]["command"][:4] == ["celery", "-A", "cybermed", "beat"]
    assert services["web"]["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
    assert set(COMPOSE["volumes"]) == {"postgres-data", "redis-data", "media"}


def docker_compose() -> list[str] | None:
    if shutil.which("docker-compose"):
        return ["docker-compose"]
    if shutil.which("docker") and subprocess.run(["docker", "compose", "version"], capture_output=True).returncode == 0:
        return ["docker", "compose"]
    return None


@pytest.mark.skipif(docker_compose() is None, reason="neither docker-compose nor docker compose is installed")
def test_compose_config_is_valid(tmp_path):
    for name in ("docker-compose.yml", "Dockerfile"):
        shutil.copy(ROOT / name, tmp_path / name)
    (tmp_path / ".env").write_text((ROOT / ".env.example").read_text() + "\nPOSTGRES_PASSWORD=test\n")
    result = subprocess.run(
        [*docker_compose(), "config", "--quiet"], cwd=tmp_path, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.skipif(docker_compose() is None, reason="neither docker-compose nor docker compose is installed")
def test_compose_refuses_to_start_without_a_database_password(tmp_path):
    shutil.copy(ROOT / "docker-compose.yml", tmp_path / "docker-compose.yml")
    (tmp_path / ".env").write_text("SECRET_KEY=x\n")
    result = subprocess.run([*docker_compose(), "config"], cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert result.returncode != 0
    assert "POSTGRES_PASSWORD" in result.stdout + result.stderr


@pytest.mark.skipif(shutil.which("actionlint") is None, reason="actionlint is not on PATH")
def test_ci_workflow_passes_actionlint():
    result = subprocess.run(
        ["actionlint", ".github/workflows/ci.yml"], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stdout + result.stderr
