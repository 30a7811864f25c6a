"""The package's import structure: no import cycles, no private names taken from public modules.

Every ``import`` and ``from ... import`` inside ``src/geoclusters`` counts, at module
level or inside a function (a function-local import is a cycle deferred, not removed);
imports under ``if TYPE_CHECKING:`` do not run and are left out.
"""

from __future__ import annotations

import ast
from pathlib import Path

import networkx as nx

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "geoclusters"


def module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def is_private(module: str) -> bool:
    return any(part.startswith("_") and part != "__init__" for part in module.split(".")[1:])


def _type_checking_lines(tree: ast.Module) -> set[int]:
    lines = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            for child in node.body:
                lines.update(range(child.lineno, (child.end_lineno or child.lineno) + 1))
    return lines


def imports(path: Path) -> list[tuple[str, str, int]]:
    """``(imported module, imported name or "", line)`` for every import in a file."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    skip = _type_checking_lines(tree)
    here = module_name(path)
    package = here if path.name == "__init__.py" else here.rpartition(".")[0]
    found = []
    for node in ast.walk(tree):
        if getattr(node, "lineno", None) in skip:
            continue
        if isinstance(node, ast.Import):
            found += [(alias.name, "", node.lineno) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = package.split(".")
            if node.level:
                base = base[: len(base) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            for alias in node.names:
                found.append((target, alias.name, node.lineno))
    return [(t, n, line) for t, n, line in found if t.split(".")[0] == "geoclusters"]


def modules() -> dict[str, Path]:
    return {module_name(p): p for p in PACKAGE.rglob("*.py")}


def import_graph() -> nx.DiGraph:
    known = modules()
    graph = nx.DiGraph()
    graph.add_nodes_from(known)
    for name, path in known.items():
        for target, imported, _ in imports(path):
            # "from . import taxonomy" imports the submodule geoclusters.taxonomy
            if imported and f"{target}.{imported}" in known:
                target = f"{target}.{imported}"
            if target in known and target != name and target != "geoclusters":
                graph.add_edge(name, target)
    return graph


def test_the_walker_sees_function_local_and_relative_imports():
    found = imports(PACKAGE / "pipeline.py")
    pairs = {(target, name) for target, name, _ in found}
    # pipeline imports contiguity inside run(), and measures at the top, relatively
    assert ("geoclusters.graph", "contiguity") in pairs
    assert ("geoclusters.measures", "prepare") in pairs
    assert is_private("geoclusters._fields") and not is_private("geoclusters.maps")


def test_a_private_submodule_is_not_a_private_name(tmp_path, monkeypatch):
    package = tmp_path / "geoclusters"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "_labels.py").write_text("HOT = 'hot spot'\n")
    (package / "stats.py").write_text("from . import _labels\nfrom .maps import _colour\n")
    (package / "maps.py").write_text("_colour = 'red'\n")
    monkeypatch.setitem(globals(), "PACKAGE", package)
    offences = private_name_offences()
    assert offences == ["geoclusters.stats:2 imports _colour from geoclusters.maps"]


def test_no_import_cycles():
    cycles = sorted(sorted(cycle) for cycle in nx.simple_cycles(import_graph()))
    assert cycles == [], f"import cycles: {cycles}"


def test_no_private_name_taken_from_a_public_module():
    assert private_name_offences() == []


def private_name_offences() -> list[str]:
    known = modules()
    offences = []
    for name, path in known.items():
        for target, imported, line in imports(path):
            if not imported.startswith("_") or imported.startswith("__"):
                continue
            if f"{target}.{imported}" in known:
                continue  # "from . import _labels" takes a private module, not a module's name
            if target in known and not is_private(target):
                owner = target.rpartition(".")[0] if target.endswith(".__init__") else target
                # a module may use its own package's private helpers only from a private module
                if owner != name:
                    offences.append(f"{name}:{line} imports {imported} from {target}")
    return offences
