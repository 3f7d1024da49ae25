"""Dependencies point down only: cybermed <- users <- appointments <- consultations <- notifications <- payments
<- messaging <- fhir_api.

Every module of each app, its tests and migrations included, is parsed (imports inside functions count
too): an app may import the apps below it, never one above. The project's shared plumbing (cybermed)
imports no app at all, except where the project is composed (URLs, project-level commands, its tests).
"""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LAYERS = ["cybermed", "users", "appointments", "consultations", "notifications", "payments", "messaging", "fhir_api"]
# Where the project composes the apps: these look at every layer by design.
COMPOSITION = ["cybermed/urls.py", "cybermed/asgi.py", "cybermed/settings.py", "cybermed/management", "cybermed/tests"]


def imported_top_packages(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


def modules_of(app: str) -> list[Path]:
    modules = sorted((ROOT / app).rglob("*.py"))
    return [m for m in modules if not any(m.relative_to(ROOT).as_posix().startswith(c) for c in COMPOSITION)]


def upward_imports(app: str) -> list[str]:
    above = set(LAYERS[LAYERS.index(app) + 1 :])
    return [
        f"{module.relative_to(ROOT)} imports {name}"
        for module in modules_of(app)
        for name in sorted(imported_top_packages(module) & above)
    ]


@pytest.mark.parametrize("app", LAYERS)
def test_app_imports_only_the_layers_below_it(app):
    assert modules_of(app), app
    assert upward_imports(app) == []


def test_the_check_sees_imports_anywhere_in_a_module(tmp_path):
    module = tmp_path / "m.py"
    module.write_text("import os\nfrom users.models import User\n\ndef f():\n    import appointments.demo as d\n")

    assert imported_top_packages(module) == {"os", "users", "appointments"}
