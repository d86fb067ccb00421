"""The package's import graph, read from the source with ast: data flows one way through the
layers, and no module imports itself back through others (imports inside functions count)."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# Lowest first: a module may import from its own layer and the ones before it, never after.
LAYERS = ["root", "asr", "analysis", "outputs", "review", "run", "tasks", "entry"]
ENTRY_POINTS = {"pipeline.run.cli", "pipeline.run.worker"}  # the command and its worker processes
SKIPPED = "pipeline.data"  # data files and their offline generator, outside the pipeline


def module_names() -> dict[str, Path]:
    names = {"tasks": ROOT / "tasks.py"}
    for path in sorted((ROOT / "pipeline").rglob("*.py")):
        parts = path.relative_to(ROOT).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        if not name.startswith(SKIPPED):
            names[name] = path
    return names


def layer(module: str) -> str:
    if module in ENTRY_POINTS:
        return "entry"
    if module == "tasks":
        return "tasks"
    parts = module.split(".")
    return parts[1] if len(parts) > 2 or (len(parts) == 2 and parts[1] in LAYERS) else "root"


def imports(name: str, path: Path, known: dict[str, Path]) -> set[str]:
    """The project modules ``name`` imports, anywhere in its source."""
    found = set()
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(
                    package.split(".")[: len(package.split(".")) - node.level + 1] + ([base] if base else [])
                )
            for alias in node.names:  # a submodule when there is one, else the module itself
                found.add(f"{base}.{alias.name}" if f"{base}.{alias.name}" in known else base)
    return {m for m in found if m in known and m != name}


def graph() -> dict[str, set[str]]:
    known = module_names()
    return {name: imports(name, path, known) for name, path in known.items()}


def test_the_layers_are_known():
    assert {layer(m) for m in graph()} == set(LAYERS)
    assert layer("pipeline.schema") == "root" and layer("pipeline.asr") == "asr"
    assert layer("pipeline.outputs.report") == "outputs" and layer("pipeline.run.runner") == "run"
    assert layer("pipeline.review.server") == "review"


def test_no_module_imports_from_a_later_layer():
    upward = [
        f"{a} ({layer(a)}) imports {b} ({layer(b)})"
        for a, targets in graph().items()
        for b in sorted(targets)
        if LAYERS.index(layer(b)) > LAYERS.index(layer(a))
    ]
    assert upward == []


def test_no_import_cycles():
    edges = graph()
    cycles: list[list[str]] = []
    state: dict[str, str] = {}

    def visit(node: str, path: list[str]) -> None:
        state[node] = "open"
        for nxt in sorted(edges[node]):
            if state.get(nxt) == "open":
                cycles.append(path[path.index(nxt) :] + [nxt])
            elif nxt not in state:
                visit(nxt, path + [nxt])
        state[node] = "done"

    for node in sorted(edges):
        if node not in state:
            visit(node, [node])
    assert cycles == []


def test_the_checker_sees_what_it_must(tmp_path):
    """The graph includes function-level imports (the cycle this test replaced hid in one)."""
    edges = graph()
    assert "pipeline.run.stages" in edges["tasks"]
    assert "pipeline.analysis.analyze" in edges["pipeline.run.stages"]  # imported inside analyze()
