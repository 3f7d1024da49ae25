"""The ASGI server's garbage collector settings (cybermed/garbage_collection.py)."""

import os
import subprocess
import sys
from pathlib import Path

from cybermed.garbage_collection import THRESHOLDS


def test_the_server_process_freezes_its_loaded_heap_and_collects_young_objects_less_often():
    """cybermed/garbage_collection.py: checked in a fresh interpreter, as uvicorn loads the application."""
    code = "import gc, cybermed.asgi; print(gc.get_freeze_count(), *gc.get_threshold())"
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "cybermed.settings"}
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=Path(__file__).resolve().parents[2],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    frozen, *thresholds = (int(n) for n in result.stdout.split())

    assert frozen > 50_000  # Django, the URLconf and the models, at least
    assert tuple(thresholds) == THRESHOLDS == (50_000, 20, 10)
