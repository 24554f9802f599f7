"""The package's layout rules, checked on its source: no import cycle (function-
level imports included), arrows only downwards (commands -> batch/serving/ops ->
model/files -> config), the environment read in config alone, small files."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "sentiment"

# Higher layers may import lower ones, never the reverse.
LAYERS = {
    "config": 0,
    "files": 1,
    "model": 2,
    "ops": 3,
    "batch": 4,
    "serving": 5,
    "command": 6,  # sentiment/<name>.py: cli, train, predict, api, ...
}


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def all_modules() -> dict[str, Path]:
    return {module_name(p): p for p in PACKAGE.rglob("*.py")}


def imported_modules(path: Path, modules: set[str]) -> set[str]:
    """Every ``sentiment`` module that ``path`` imports, anywhere in the file."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name in modules)
        elif isinstance(node, ast.ImportFrom) and node.module:
            if node.level:
                raise AssertionError(f"{path}: relative import")
            for alias in node.names:
                candidate = f"{node.module}.{alias.name}"
                if candidate in modules:
                    found.add(candidate)
                elif node.module in modules:
                    found.add(node.module)
    return found - {"sentiment"}


def import_graph() -> dict[str, set[str]]:
    modules = all_modules()
    names = set(modules)
    return {
        name: imported_modules(path, names) - {name} for name, path in modules.items()
    }


def layer(module: str) -> int:
    parts = module.split(".")
    if len(parts) == 2 and parts[1] == "config":
        return LAYERS["config"]
    if len(parts) >= 3 or (len(parts) == 2 and parts[1] in LAYERS):
        return LAYERS[parts[1]]
    return LAYERS["command"]


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle as a list of modules, or None."""
    state: dict[str, int] = {}  # 1 = on the current path, 2 = done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for target in sorted(graph.get(node, ())):
            if state.get(target) == 1:
                return path[path.index(target) :] + [target]
            if target not in state and (cycle := visit(target)):
                return cycle
        path.pop()
        state[node] = 2
        return None

    for start in sorted(graph):
        if start not in state and (cycle := visit(start)):
            return cycle
    return None


def test_find_cycle_sees_a_cycle_through_three_modules():
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert find_cycle(graph) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None


def test_the_import_graph_sees_function_level_imports(tmp_path):
    source = tmp_path / "m.py"
    source.write_text("def f():\n    from sentiment.model import predictor\n")
    assert imported_modules(source, {"sentiment.model.predictor"}) == {
        "sentiment.model.predictor"
    }


def test_no_import_cycle():
    assert find_cycle(import_graph()) is None


def test_imports_point_down_the_layers():
    upward = [
        f"{source} -> {target}"
        for source, targets in import_graph().items()
        for target in targets
        if source != "sentiment" and layer(target) > layer(source)
    ]
    assert upward == []


def test_only_config_reads_the_environment():
    readers = [
        str(path.relative_to(ROOT))
        for path in [*PACKAGE.rglob("*.py"), ROOT / "app.py"]
        if path.name != "config.py"
        and any(s in path.read_text() for s in ("os.environ", "os.getenv"))
    ]
    assert readers == []


@pytest.mark.parametrize(
    "path",
    sorted(p for s in ("*.py", "*.pyx", "*.pxd") for p in PACKAGE.rglob(s)),
    ids=str,
)
def test_files_stay_small(path):  # the compiled cores' sources too
    assert len(path.read_text().splitlines()) <= 420
