"""Early stopping (Besag-Clifford) against the full run: time and agreement.

Run from the repository root::

    python benchmarks/bench_early_stop.py [--n 100000] [--stop 10]

Local Moran with 999 permutations on both synthetic maps, once in full and
once with ``early_stop``; same seed, so units that run to the end see the
same draws. Reports the time of each, the share of units stopped early, the
mean number of simulations, and how often the two runs agree on
``significant`` and on the ``cluster`` label (two-sided test, FDR at 0.05,
the defaults) and, without correction, on ``p <= 0.05``.
"""

from __future__ import annotations

import argparse
import time

import _maps
import numpy as np

import geoclusters as gc


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--stop", type=int, default=10)
    args = parser.parse_args()
    print(
        "| map | areas | full s | early s | stopped early | mean simulations | "
        "same `significant` (fdr) | same label | same p <= 0.05 (no correction) |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for kind in ("voronoi", "grid"):
        areas = _maps.load(kind, args.n)
        values = _maps.variable(areas)
        graph = gc.contiguity(areas)
        gc.local_moran(values, graph, permutations=9, seed=0, early_stop=1)  # load kernels
        start = time.perf_counter()
        full = gc.local_moran(values, graph, permutations=999, seed=3)
        full_s = time.perf_counter() - start
        start = time.perf_counter()
        early = gc.local_moran(values, graph, permutations=999, seed=3, early_stop=args.stop)
        early_s = time.perf_counter() - start
        stopped = early.simulations < 999
        raw = np.mean((full.p_value <= 0.05) == (early.p_value <= 0.05))
        print(
            f"| {kind} | {len(areas):,} | {full_s:.2f} | {early_s:.2f} | {stopped.mean():.1%} | "
            f"{early.simulations.mean():.0f} | "
            f"{np.mean(full.significant == early.significant):.4%} | "
            f"{np.mean(full.cluster == early.cluster):.4%} | {raw:.4%} |"
        )


if __name__ == "__main__":
    main()
