"""The layout shows the design: which part of the code may import which, read from the source (ast).

- ``ann/``'s root (the network, its configuration, training, model files) imports only the root;
- ``ann/data`` imports the root and itself;
- ``ann/lab``, ``ann/experiments`` and ``ann/service`` import the root and ``ann/data`` (and themselves);
- ``ann/cli`` is the command line over all of them; nothing in ``ann`` imports Streamlit or the dashboard;
- no import circle anywhere in ``ann/``, ``ui/`` or ``pages/``, counting imports inside functions too;
- no module over 750 lines; ``import ann.network`` and ``ann.train`` load neither sqlite3 nor streamlit.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LAYERS = ("data", "lab", "experiments", "service", "cli")
ALLOWED = {  # the part of ann a module is in -> the parts it may import
    "root": {"root"},
    "data": {"root", "data"},
    "lab": {"root", "data", "lab"},
    "experiments": {"root", "data", "experiments"},
    "service": {"root", "data", "service"},
    "cli": {"root", "data", "lab", "experiments", "service", "cli"},
}
MAX_LINES = 750


def modules() -> dict[str, Path]:
    """Every module of ann/, ui/, pages/ and app.py by its dotted name."""
    found = {}
    for path in sorted([*ROOT.glob("ann/**/*.py"), *ROOT.glob("ui/*.py"), *ROOT.glob("pages/*.py"), ROOT / "app.py"]):
        parts = list(path.relative_to(ROOT).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        found[".".join(parts)] = path
    return found


def imports_of(path: Path, known: set[str]) -> set[str]:
    """The project modules ``path`` imports, anywhere in the file (a package import counts as its module)."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return {name for name in names if name in known}


def part_of(module: str) -> str:
    if module == "ann.__main__":  # ``python -m ann``: the command line's door
        return "cli"
    parts = module.split(".")
    return parts[1] if len(parts) > 2 and parts[1] in LAYERS else ("cli" if module == "ann.cli" else "root")


@pytest.fixture(scope="module")
def graph() -> dict[str, set[str]]:
    found = modules()
    return {name: imports_of(path, set(found)) - {name} for name, path in found.items()}


def test_each_part_of_ann_imports_only_the_parts_below_it(graph):
    wrong = []
    for module, targets in graph.items():
        if not module.startswith("ann"):
            continue
        for target in targets:
            if target == "ann" or not target.startswith("ann"):
                continue
            if part_of(target) not in ALLOWED[part_of(module)]:
                wrong.append(f"{module} ({part_of(module)}) imports {target} ({part_of(target)})")
    assert not wrong, "\n".join(wrong)


def test_nothing_in_ann_imports_streamlit_or_the_dashboard():
    wrong = []
    for path in ROOT.glob("ann/**/*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            names = ([alias.name for alias in node.names] if isinstance(node, ast.Import)
                     else [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            wrong += [f"{path.relative_to(ROOT)}: {name}" for name in names
                      if name.split(".")[0] in ("streamlit", "streamlit_drawable_canvas", "ui", "pages")]
    assert not wrong, "\n".join(wrong)


def test_no_import_circle_anywhere(graph):
    circles = []
    state: dict[str, int] = {}  # 1: on the current path, 2: done

    def visit(module: str, path: list[str]) -> None:
        state[module] = 1
        for target in sorted(graph[module]):
            if state.get(target) == 1:
                circles.append(" -> ".join([*path[path.index(target):], target]))
            elif target not in state:
                visit(target, [*path, target])
        state[module] = 2

    for module in sorted(graph):
        if module not in state:
            visit(module, [module])
    assert not circles, "\n".join(circles)


def test_no_module_is_too_long_to_read():
    long = {str(path.relative_to(ROOT)): n for path in modules().values()
            if (n := len(path.read_text().splitlines())) > MAX_LINES}
    assert not long, long


def test_the_network_loads_without_the_service_or_the_dashboard():
    script = ("import sys, ann, ann.network, ann.train, ann.config, ann.model_io\n"
              "print(sorted(m for m in ('sqlite3', 'streamlit') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_the_layer_test_sees_a_wrong_import(tmp_path):
    """The rule itself: a root module importing the service is caught (so the tests above can fail)."""
    bad = tmp_path / "bad.py"
    bad.write_text("from ann.service.store import RunStore\n")
    assert imports_of(bad, {"ann.service.store"}) == {"ann.service.store"}
    assert "service" not in ALLOWED[part_of("ann.network")]
