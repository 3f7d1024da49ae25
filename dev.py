#!/usr/bin/env python3
"""Zero-setup developer entry point; needs only Python 3.11+.

python3 dev.py run     # virtualenv + install + migrate + demo data, then serve on 127.0.0.1:8000
python3 dev.py test    # virtualenv + install, then the whole test suite (extra args go to pytest)
"""

import contextlib
import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
PYTHON = VENV / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
STAMP = VENV / ".requirements.sha256"
REQUIREMENTS = ("requirements.txt", "requirements-dev.txt")


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


def manage(*args: str, env: dict[str, str]) -> None:
    subprocess.run([PYTHON, ROOT / "manage.py", *args], check=True, env=env, cwd=ROOT)


def run() -> int:
    env = {**os.environ, "DEBUG": os.environ.get("DEBUG", "true")}
    manage("migrate", "--noinput", env=env)
    manage("seed_demo", env=env)
    with contextlib.suppress(KeyboardInterrupt):
        manage("runserver", "127.0.0.1:8000", env=env)
    return 0


def test(extra: list[str]) -> int:
    return subprocess.run([PYTHON, "-m", "pytest", *extra], cwd=ROOT).returncode


def main() -> int:
    if sys.version_info < (3, 11):  # noqa: UP036 - this file must explain itself on an older Python
        sys.exit("CyberMed needs Python 3.11 or newer.")
    command, *extra = sys.argv[1:] or ["help"]
    if command not in {"run", "test"}:
        print(__doc__)
        return 2
    ensure_virtualenv()
    return run() if command == "run" else test(extra)


if __name__ == "__main__":
    sys.exit(main())
