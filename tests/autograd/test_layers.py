"""The engine's modules form layers whose imports point one way (DESIGN.md, "Second phase").

From the bottom: the graph's data types and per-thread state, the Tensor, primitives, the
op table and the ops, backward, the transforms and friends, pictures. A module imports only
from layers below its own (or from its own, without a cycle), at the top of the file, so
any submodule can be imported first.
"""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "autograd"

#: Layer of each module (a dotted name relative to ``autograd``; ``ops.*`` for a whole
#: sub-package), bottom first.
LAYERS: list[tuple[str, ...]] = [
    ("node", "mode", "files"),
    ("random",),  # draws that a compiled function records: it asks mode for the tracer
    ("tensor",),
    ("primitive",),
    ("optable",),
    ("ops", "ops.*"),
    ("backward",),
    ("creation", "anomaly", "function", "transforms", "gradcheck"),
    ("compile", "compile.*"),
    ("onnx_export",),  # the forward, traced by compile, as ONNX
    ("viz", "viz.*"),
    ("__init__",),
]


def module_names() -> list[str]:
    """Every module of the package as a dotted name relative to it (``ops.shape``)."""
    names = []
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = list(path.relative_to(PACKAGE).with_suffix("").parts)
        if parts[-1] == "__init__" and len(parts) > 1:
            parts.pop()
        names.append(".".join(parts))
    return names


def layer_of(name: str) -> int:
    for depth, members in enumerate(LAYERS):
        for member in members:
            if name == member or (member.endswith(".*") and name.startswith(member[:-1])):
                return depth
    raise AssertionError(f"autograd.{name} is in no layer: add it to LAYERS in {__file__}")


def source_of(name: str) -> Path:
    path = PACKAGE.joinpath(*name.split("."))
    return path / "__init__.py" if path.is_dir() else path.with_suffix(".py")


def package_imports(name: str) -> list[tuple[str, int, bool]]:
    """``(imported module, line, at top level)`` for each import of the package in ``name``."""
    path = source_of(name)
    tree = ast.parse(path.read_text(encoding="utf-8"))
    top_level = {id(stmt) for stmt in tree.body}
    package = [] if name == "__init__" else name.split(".")
    if path.name != "__init__.py":
        package = package[:-1]
    found = []
    for stmt in ast.walk(tree):
        if isinstance(stmt, ast.Import | ast.ImportFrom) and not getattr(stmt, "level", 0):
            names = [alias.name for alias in stmt.names]
            modules = [stmt.module] if isinstance(stmt, ast.ImportFrom) else names
            assert not any(m and m.split(".")[0] == "autograd" for m in modules), (
                f"autograd.{name} imports the package absolutely (line {stmt.lineno}): use ."
            )
            continue
        if not isinstance(stmt, ast.ImportFrom):
            continue
        base = package[: len(package) - stmt.level + 1]
        if stmt.module:
            targets = [base + stmt.module.split(".")]
        else:
            targets = [base + [alias.name] for alias in stmt.names]
        found += [(resolve(".".join(t)), stmt.lineno, id(stmt) in top_level) for t in targets]
    return found


def resolve(target: str) -> str:
    """The module an import names: ``ops.elementwise``, or the package holding a name
    (``ops`` for a function defined in ``ops/__init__.py``; ``__init__`` for the root)."""
    names = set(module_names())
    while target and target not in names:
        target = target.rpartition(".")[0]
    return target or "__init__"


def test_every_module_imports_only_from_layers_below_it_or_its_own():
    graph: dict[str, set[str]] = {}
    for name in module_names():
        depth = layer_of(name)
        graph[name] = set()
        for target, line, top in package_imports(name):
            if target == name:
                continue
            assert top, f"autograd/{source_of(name).name}:{line} imports {target} inside code"
            assert layer_of(target) <= depth, (
                f"autograd.{name} (layer {depth}) imports autograd.{target} "
                f"(layer {layer_of(target)}) at line {line}: imports must point down"
            )
            graph[name].add(target)
    # within a layer, no cycles: a depth-first search finds none
    state: dict[str, int] = {}

    def visit(name: str, path: list[str]) -> None:
        state[name] = 1
        for target in graph[name]:
            if state.get(target) == 1:
                raise AssertionError(f"import cycle: {' -> '.join(path + [name, target])}")
            if target not in state:
                visit(target, path + [name])
        state[name] = 2

    for name in graph:
        if name not in state:
            visit(name, [])


def test_the_bottom_layer_imports_nothing_from_the_package():
    for name in LAYERS[0]:
        assert package_imports(name) == [], f"autograd.{name} must not import the package"


def test_no_import_waits_for_the_end_of_a_module():
    for name in module_names():
        text = source_of(name).read_text(encoding="utf-8")
        assert "noqa: E402" not in text, f"autograd.{name} imports after code (E402)"


FIRST_IMPORT_CHECK = """
import importlib, pathlib, sys
init = pathlib.Path(sys.argv[1]) / "autograd" / "__init__.py"
original = init.read_text(encoding="utf-8")
failed = []
for first in sys.argv[2:]:
    parent, _, leaf = first.rpartition(".")
    init.write_text(f"from .{parent} import {leaf}  # noqa\\n" + original, encoding="utf-8")
    for name in [m for m in sys.modules if m == "autograd" or m.startswith("autograd.")]:
        del sys.modules[name]
    try:
        ag = importlib.import_module("autograd")
        x = ag.tensor([1.0, 2.0], requires_grad=True)
        (x * x).sum().backward()
        assert x.grad.tolist() == [2.0, 4.0]
    except Exception as exc:
        failed.append(f"{first}: {type(exc).__name__}: {exc}")
print("\\n".join(failed))
"""


def test_any_submodule_can_be_imported_first(tmp_path: Path):
    # a copy of the package whose __init__ imports one submodule before anything else
    shutil.copytree(PACKAGE, tmp_path / "autograd", ignore=shutil.ignore_patterns("__pycache__"))
    firsts = [name for name in module_names() if name != "__init__"]
    done = subprocess.run(
        [sys.executable, "-B", "-c", FIRST_IMPORT_CHECK, str(tmp_path), *firsts],
        cwd=tmp_path,
        env={"PYTHONPATH": str(tmp_path), "PATH": ""},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "", f"importing these first failed:\n{done.stdout}"
