"""The kernel layer's boundaries: what imports what, and the engine's one chunk check."""

from __future__ import annotations

import ast
from pathlib import Path

import numpy as np
import pytest

import geoclusters
from geoclusters import _engine
from geoclusters._kernels import contiguity, permutation
from geoclusters.errors import InputError

PACKAGE = Path(geoclusters.__file__).parent


def _imports(path: Path) -> list[tuple[str, list[str]]]:
    """(module, names) imported by a file, relative imports resolved inside geoclusters."""
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            module = node.module or ""
            if node.level:
                package = path.parent.relative_to(PACKAGE.parent).parts
                base = ".".join(package[: len(package) - node.level + 1])
                module = f"{base}.{module}" if module else base
            found.append((module, [alias.name for alias in node.names]))
        elif isinstance(node, ast.Import):
            found.extend((alias.name, []) for alias in node.names)
    return found


def test_kernels_import_nothing_from_geoclusters():
    for path in (PACKAGE / "_kernels").glob("*.py"):
        for module, _ in _imports(path):
            assert not module.startswith("geoclusters") or module.startswith(
                "geoclusters._kernels"
            ), f"{path.name} imports {module}"


@pytest.mark.parametrize("name", ["graph", "stats", "distributed", "_engine"])
def test_no_private_names_from_public_modules(name):
    for module, names in _imports(PACKAGE / f"{name}.py"):
        if not module.startswith("geoclusters."):
            continue
        last = module.split(".")[-1]
        if last.startswith("_"):
            continue  # shared private modules are fine
        private = [n for n in names if n.startswith("_")]
        assert not private, f"{name} takes {private} from public module {module}"


def test_graph_and_stats_do_not_import_distributed_and_distributed_not_them():
    for name in ("graph", "stats"):
        modules = [m for m, _ in _imports(PACKAGE / f"{name}.py")]
        assert "geoclusters.distributed" not in modules
    modules = [m for m, _ in _imports(PACKAGE / "distributed.py")]
    assert not {"geoclusters.graph", "geoclusters.stats"} & set(modules)


def test_the_chunk_size_is_checked_in_one_place():
    with pytest.raises(InputError, match="chunk_size only applies"):
        _engine.chunk_size(None, 100, 10)
    assert _engine.chunk_size(None, 100, None) is None
    assert _engine.map_chunks(lambda a, b: a + b, [(1,), (2,)], shared=(10,)) == [11, 12]


def test_sorted_unique_and_tie_counts():
    keys = np.array([5, 3, 5, 1, 3], dtype=np.int64)
    np.testing.assert_array_equal(contiguity.sorted_unique(keys), [1, 3, 5])
    # one unit with two neighbours valued 0.1 and 0.2 in a triangle: every draw gives them
    # back, summed in either order; both tails count every simulation
    y = np.array([0.7, 0.1, 0.2])
    draws = permutation.neighbour_draws(0, 3, 2, 50)
    larger, smaller, done = permutation.conditional_counts(
        y, draws, permutation.BOTH, 0, np.array([0, 2]), np.array([1, 2]), np.array([0.5, 0.5]),
        0, np.array([1], dtype=np.int8),
    )  # fmt: skip
    assert larger[0] == smaller[0] == done[0] == 50
