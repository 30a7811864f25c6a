"""The scale table: geoclusters against libpysal, esda, pygeoda and the floor kernel.

Run from the repository root (by hand; nothing here is timed in the tests)::

    python benchmarks/bench_scale.py --sizes 10000 100000 [--repeat 3]
    python benchmarks/bench_scale.py --sizes 1000000 --repeat 1 --skip-slow
    python benchmarks/bench_scale.py --table   # rewrite the table in README.md

Maps (``benchmarks/_maps.py``, cached outside the repository): clipped
Voronoi cells of uniform random points, and a regular grid of squares. The
variable is smooth plus seeded noise, non-negative (so G* applies).

Every task runs in this one process, one tool after the other, with the same
inputs. Times are medians of ``--repeat`` runs in seconds; *ratio* is the
tool's time over geoclusters' (above 1: geoclusters is faster). *Peak MB* is
the largest rise of this process's resident memory during the call, sampled
every 5 ms. Results are appended to ``benchmarks/results/scale.jsonl``;
``--table`` turns the latest line per (map, size, task, tool) into the table.

Tools:

- queen / rook contiguity: ``geoclusters.contiguity``;
  ``libpysal.graph.Graph.build_contiguity``; pygeoda ``open`` + ``queen_weights``
  (``rook_weights``), the two steps reported apart;
- local Moran and local G*, 999 permutations: ``geoclusters.local_moran`` /
  ``local_g`` (from a Graph and a Series to the full result: alignment,
  moments, p-values, FDR, labels, provenance); the *floor kernel* (below);
  ``esda.Moran_Local`` / ``esda.G_Local`` with numba (the compile, paid once
  per process, timed apart on 100 units); ``pygeoda.local_moran`` /
  ``local_gstar`` with the default ``complete`` method and with
  ``permutation_method="lookup-table"``, two threads;
- global Moran and Geary, 99 permutations: ``geoclusters.moran`` / ``geary``
  and ``esda.Moran`` / ``esda.Geary``.

The floor kernel is the plainest compiled loop that computes the same local
Moran pseudo p-values: numba, parallel over units, one shared table of random
neighbour draws (drawn as geoclusters draws it), the observed lag compared
with each simulated lag. It has no alignment, no moments, no correction, no
labels: what is left when everything but the arithmetic is taken away.
"""

# every lambda below is called at once by measure(), inside its loop iteration
# ruff: noqa: B023
from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import threading
import time
import warnings
from pathlib import Path

import _maps
import numba
import numpy as np

RESULTS = Path(__file__).with_name("results") / "scale.jsonl"
README = Path(__file__).with_name("README.md")
PERMUTATIONS = 999
GLOBAL_PERMUTATIONS = 99


# ---------------------------------------------------------------------------
# measuring


def _rss() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def measure(func, repeat: int) -> tuple[float, float, object]:
    """Median seconds, peak resident-memory rise (MB) and the last result."""
    times, peaks, result = [], [], None
    for _ in range(repeat):
        result = None
        base = _rss()
        peak = [base]
        running = [True]

        def sample():
            while running[0]:
                peak[0] = max(peak[0], _rss())
                time.sleep(0.005)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        start = time.perf_counter()
        result = func()
        times.append(time.perf_counter() - start)
        running[0] = False
        sampler.join()
        peaks.append((max(peak[0], _rss()) - base) / 1e6)
    return statistics.median(times), max(peaks), result


# ---------------------------------------------------------------------------
# the floor kernel


@numba.njit(parallel=True, cache=True)
def _floor_counts(z, indptr, indices, data, draws):
    n = len(indptr) - 1
    permutations = draws.shape[0]
    out = np.zeros(n)
    for i in numba.prange(n):
        a, b = indptr[i], indptr[i + 1]
        k = b - a
        if k == 0:
            continue
        observed = 0.0
        for t in range(k):
            observed += data[a + t] * z[indices[a + t]]
        above = 0
        for p in range(permutations):
            lag = 0.0
            for t in range(k):
                d = draws[p, t]
                if d >= i:
                    d += 1
                lag += data[a + t] * z[d]
            if lag >= observed:
                above += 1
        out[i] = (min(above, permutations - above) + 1.0) / (permutations + 1.0)
    return out


def floor_kernel(z, matrix, seed=0):
    from geoclusters._kernels.permutation import neighbour_draws

    degree = np.diff(matrix.indptr)
    draws = neighbour_draws(seed, len(z), int(degree.max()), PERMUTATIONS)
    return _floor_counts(
        z, matrix.indptr.astype(np.int64), matrix.indices.astype(np.int64), matrix.data, draws
    )


# ---------------------------------------------------------------------------
# the run


def agreement(esda_0, esda_1, ours_0, ours_1, alpha: float = 0.05) -> str:
    """How often two runs agree on significance at ``alpha`` (esda's folded pseudo p).

    esda against itself with another seed is the yardstick: Monte Carlo error
    alone makes two runs disagree on areas near the threshold. Ours against
    esda is the mean over the four pairs of seeds, which halves its noise.
    """

    def same(a, b) -> float:
        return 100 * np.mean((np.asarray(a) < alpha) == (np.asarray(b) < alpha))

    across = np.mean([same(o, e) for o in (ours_0, ours_1) for e in (esda_0, esda_1)])
    return (
        f"significant (p < {alpha}, directed) in both or neither: esda seeds 0/1 "
        f"{same(esda_0, esda_1):.2f} %; ours/esda (4 pairs of seeds) {across:.2f} %; "
        f"ours seeds 0/1 {same(ours_0, ours_1):.2f} %"
    )


def run(kinds, sizes, repeat: int, skip_slow: bool, only: str | None = None) -> list[dict]:
    only_local = only == "local"
    import esda
    import pygeoda
    from libpysal.graph import Graph

    import geoclusters as gc

    rows = []
    stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())

    def record(kind, n, task, tool, seconds, peak, note=""):
        row = dict(
            stamp=stamp, map=kind, n=n, task=task, tool=tool, seconds=round(seconds, 4),
            peak_mb=round(peak, 1), note=note, repeat=repeat,
        )  # fmt: skip
        print(json.dumps(row), flush=True)
        rows.append(row)
        RESULTS.parent.mkdir(exist_ok=True)
        with RESULTS.open("a") as f:
            f.write(json.dumps(row) + "\n")

    # compile costs, paid once per process (not again for a partial run)
    if only is None:
        tiny = _maps.load("grid", 10_000).iloc[:100]
        tiny_graph = gc.contiguity(tiny)
        tiny_y = _maps.variable(tiny)
        start = time.perf_counter()
        esda.Moran_Local(tiny_y.to_numpy(), tiny_graph, permutations=99, n_jobs=2, seed=0)
        esda_compile = time.perf_counter() - start
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            esda.G_Local(
                tiny_y.to_numpy(), tiny_graph, star=True, permutations=99, n_jobs=2, seed=0
            )
        start = time.perf_counter()
        gc.local_moran(tiny_y, tiny_graph, permutations=99, seed=0)
        ours_first = time.perf_counter() - start
        floor_kernel(np.asarray(tiny_y, float), tiny_graph.transform("r").sparse.tocsr())
        record("grid", 100, "compile (first call in a process)", "esda.Moran_Local (numba)",
               esda_compile, 0.0)  # fmt: skip
        record("grid", 100, "compile (first call in a process)", "geoclusters.local_moran",
               ours_first, 0.0, "numba cache=True: loads compiled code")  # fmt: skip

    for n in sizes:
        for kind in kinds:
            areas = _maps.load(kind, n)
            y = _maps.variable(areas)
            big = n >= 1_000_000
            reps = 1 if big else repeat
            frame = areas.to_frame("geometry")
            plain = frame.reset_index(drop=True)

            if only_local:
                queen = gc.contiguity(areas)
            for rook in () if only_local else (False, True):
                task = "rook contiguity" if rook else "queen contiguity"
                t, m, graph = measure(lambda: gc.contiguity(areas, rook=rook), reps)
                record(kind, n, task, "geoclusters.contiguity", t, m, f"{graph.n_edges} pairs")
                t, m, ref = measure(lambda: Graph.build_contiguity(frame, rook=rook), reps)
                same = ref.equals(graph)
                record(kind, n, task, "libpysal Graph.build_contiguity", t, m,
                       f"{ref.n_edges} pairs, equal: {same}")  # fmt: skip
                t_open, m_open, gda = measure(lambda: pygeoda.open(plain), reps)
                build = pygeoda.rook_weights if rook else pygeoda.queen_weights
                t, m, _ = measure(lambda: build(gda), reps)
                record(kind, n, task, "pygeoda open + weights", t_open + t, max(m, m_open),
                       f"open {t_open:.2f} s + build {t:.2f} s")  # fmt: skip
                if not rook:
                    queen = graph

            if only == "graph":
                continue
            matrix = queen.transform("r").sparse.tocsr()
            values = y.to_numpy()
            z = (values - values.mean()) / values.std()
            t, m, ours = measure(
                lambda: gc.local_moran(y, queen, permutations=PERMUTATIONS, seed=0), reps
            )
            record(kind, n, "local Moran, 999 perm.", "geoclusters.local_moran", t, m,
                   f"{int(ours.significant.sum())} significant (two-sided, fdr)")  # fmt: skip
            t, m, floor = measure(lambda: floor_kernel(z, matrix), reps)
            directed = gc.local_moran(
                y, queen, permutations=PERMUTATIONS, seed=0, alternative="directed"
            )
            agree = np.nanmax(np.abs(directed.p_value - floor)) if n < 1_000_000 else float("nan")
            record(kind, n, "local Moran, 999 perm.", "floor kernel (numba)", t, m,
                   f"max |p - geoclusters directed p| = {agree:.3g}")  # fmt: skip
            if not (skip_slow and (big or only_local)):
                t, m, ref = measure(
                    lambda: esda.Moran_Local(
                        values, queen, permutations=PERMUTATIONS, n_jobs=2, seed=0,
                        keep_simulations=False,
                    ),
                    reps,
                )  # fmt: skip
                diff = np.nanmax(np.abs(ref.Is - ours.statistic))
                record(kind, n, "local Moran, 999 perm.", "esda.Moran_Local (numba, 2 jobs)", t,
                       m, f"max |I - ours| = {diff:.1e}")  # fmt: skip
                t, m, again = measure(
                    lambda: esda.Moran_Local(
                        values, queen, permutations=PERMUTATIONS, n_jobs=2, seed=1,
                        keep_simulations=False,
                    ),
                    reps,
                )  # fmt: skip
                other_seed = gc.local_moran(
                    y, queen, permutations=PERMUTATIONS, seed=1, alternative="directed"
                )
                record(kind, n, "local Moran, 999 perm.", "esda.Moran_Local, seed 1", t, m,
                       agreement(ref.p_sim, again.p_sim, directed.p_value,
                                 other_seed.p_value))  # fmt: skip
            gda = pygeoda.open(plain)
            wq = pygeoda.queen_weights(gda)
            data = list(values)
            geoda = {"permutations": PERMUTATIONS, "cpu_threads": 2, "seed": 1}
            if not (skip_slow and (big or only_local)):
                t, m, _ = measure(
                    lambda: pygeoda.local_moran(wq, data, permutations=PERMUTATIONS,
                                                cpu_threads=2, seed=1), reps)  # fmt: skip
                record(kind, n, "local Moran, 999 perm.", "pygeoda.local_moran (complete)", t, m)
            t, m, _ = measure(
                lambda: pygeoda.local_moran(wq, data, permutation_method="lookup-table", **geoda),
                reps,
            )
            record(kind, n, "local Moran, 999 perm.", "pygeoda.local_moran (lookup)", t, m)

            t, m, ours = measure(
                lambda: gc.local_g(y, queen, permutations=PERMUTATIONS, seed=0), reps
            )
            record(kind, n, "local G*, 999 perm.", "geoclusters.local_g", t, m,
                   f"{int(ours.significant.sum())} significant (two-sided, fdr)")  # fmt: skip
            star = gc.local_g(y, queen, permutations=0)
            t, m, _ = measure(lambda: floor_kernel(values, matrix), reps)
            record(kind, n, "local G*, 999 perm.", "floor kernel (numba)", t, m)
            if not (skip_slow and (big or only_local)):
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    t, m, ref = measure(
                        lambda: esda.G_Local(
                            values, queen, star=True, permutations=PERMUTATIONS, n_jobs=2,
                            seed=0, keep_simulations=False,
                        ),
                        reps,
                    )  # fmt: skip
                diff = np.nanmax(np.abs(ref.Gs - star.statistic))
                record(kind, n, "local G*, 999 perm.", "esda.G_Local(star) (numba, 2 jobs)", t, m,
                       f"max |G* - ours| = {diff:.1e}")  # fmt: skip
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    t, m, again = measure(
                        lambda: esda.G_Local(
                            values, queen, star=True, permutations=PERMUTATIONS, n_jobs=2,
                            seed=1, keep_simulations=False,
                        ),
                        reps,
                    )  # fmt: skip
                ours_p = [
                    gc.local_g(
                        y, queen, permutations=PERMUTATIONS, seed=seed, alternative="directed"
                    ).p_value
                    for seed in (0, 1)
                ]
                record(kind, n, "local G*, 999 perm.", "esda.G_Local(star), seed 1", t, m,
                       agreement(ref.p_sim, again.p_sim, *ours_p))  # fmt: skip
                t, m, _ = measure(
                    lambda: pygeoda.local_gstar(wq, data, permutations=PERMUTATIONS,
                                                cpu_threads=2, seed=1), reps)  # fmt: skip
                record(kind, n, "local G*, 999 perm.", "pygeoda.local_gstar (complete)", t, m)
            t, m, _ = measure(
                lambda: pygeoda.local_gstar(wq, data, permutation_method="lookup-table", **geoda),
                reps,
            )
            record(kind, n, "local G*, 999 perm.", "pygeoda.local_gstar (lookup)", t, m)

            for name, ref_func in (
                () if only_local else (("moran", esda.Moran), ("geary", esda.Geary))
            ):
                task = f"global {name.title()}, 99 perm."
                func = getattr(gc, name)
                t, m, ours = measure(
                    lambda: func(y, queen, permutations=GLOBAL_PERMUTATIONS, seed=0), reps
                )
                record(kind, n, task, f"geoclusters.{name}", t, m, f"p = {ours.p_value:.3g}")
                if not (skip_slow and (big or only_local)):
                    t, m, _ = measure(
                        lambda: ref_func(values, queen, permutations=GLOBAL_PERMUTATIONS), reps
                    )
                    record(kind, n, task, f"esda.{name.title()}", t, m)
    return rows


# ---------------------------------------------------------------------------
# the table


def table() -> str:
    latest = {}
    for line in RESULTS.read_text().splitlines():
        row = json.loads(line)
        latest[(row["map"], row["n"], row["task"], row["tool"])] = row
    rows = sorted(latest.values(), key=lambda r: (r["n"], r["map"], r["task"]))
    ours = {
        (r["map"], r["n"], r["task"]): r["seconds"]
        for r in rows
        if r["tool"].startswith("geoclusters")
    }
    lines = [
        "| map | areas | task | tool | median s | ratio to geoclusters | peak MB | note |",
        "|---|---:|---|---|---:|---:|---:|---|",
    ]
    for r in rows:
        base = ours.get((r["map"], r["n"], r["task"]))
        ratio = f"{r['seconds'] / base:.2f}" if base else ""
        lines.append(
            f"| {r['map']} | {r['n']:,} | {r['task']} | {r['tool']} | {r['seconds']:.3f} | "
            f"{ratio} | {r['peak_mb']:.0f} | {r['note']} |"
        )
    return "\n".join(lines)


def write_table() -> None:
    text = README.read_text()
    begin, end = "<!-- scale table begin -->", "<!-- scale table end -->"
    machine = (
        f"Machine: {platform.machine()}, {os.cpu_count()} cores shared with other jobs, "
        f"Python {platform.python_version()}, numba {numba.__version__}."
    )
    block = f"{begin}\n{machine}\n\n{table()}\n{end}"
    if begin in text:
        text = text[: text.index(begin)] + block + text[text.index(end) + len(end) :]
    else:
        text += "\n" + block + "\n"
    README.write_text(text)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="*", default=[10_000, 100_000])
    parser.add_argument("--maps", nargs="*", default=["voronoi", "grid"])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--skip-slow", action="store_true", help="no esda/pygeoda-complete at 1M")
    parser.add_argument("--table", action="store_true", help="only rewrite the README table")
    parser.add_argument(
        "--only",
        choices=["graph", "local"],
        help="only contiguity, or only the local statistics (graph untimed)",
    )
    args = parser.parse_args()
    if not args.table:
        run(args.maps, args.sizes, args.repeat, args.skip_slow, args.only)
    write_table()


if __name__ == "__main__":
    main()
