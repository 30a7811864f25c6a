"""The local path against the Dask engine with 1 and 2 workers, results checked identical.

Run from the repository root::

    python benchmarks/bench_distributed.py [--n 1000000] [--map grid] [--repeat 1]

Input: a synthetic map from ``benchmarks/_maps.py`` (cached outside the
repository) and its smooth, seeded variable. Each task runs on the local path
(numba threads over both cores) and on a Dask ``LocalCluster`` of 1 and then 2
worker processes with one thread each (``geoclusters.distributed.client``),
started beforehand (start-up reported apart). Medians of ``--repeat`` runs, in
seconds; *ratio* is local time over Dask time (above 1: Dask is faster).
Every Dask result is checked to be identical to the local one before it is
reported: the same graph, and every local Moran column (p-values included)
and the global Moran p-value bit for bit.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import time

import _maps
import pandas as pd

import geoclusters as gc
from geoclusters.distributed import client

PERMUTATIONS = 999


def median_time(func, repeat: int):
    times, result = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        result = func()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--map", default="grid", choices=["grid", "voronoi"])
    parser.add_argument("--repeat", type=int, default=1)
    args = parser.parse_args()

    areas = _maps.load(args.map, args.n)
    values = _maps.variable(areas)
    tasks = {
        "queen contiguity": lambda **kw: gc.contiguity(areas, **kw),
    }
    local = {}
    rows = []
    for task, func in tasks.items():
        local[task] = median_time(func, args.repeat)
    graph = local["queen contiguity"][1]
    stat_tasks = {
        f"local Moran, {PERMUTATIONS} perm.": lambda **kw: gc.local_moran(
            values, graph, PERMUTATIONS, seed=1, **kw
        ),
        "global Moran, 99 perm.": lambda **kw: gc.moran(values, graph, 99, seed=1, **kw),
    }
    for task, func in stat_tasks.items():
        local[task] = median_time(func, args.repeat)
    tasks.update(stat_tasks)

    for workers in (1, 2):
        started = time.perf_counter()
        dask_client = client(n_workers=workers, dashboard_address=":0")
        startup = time.perf_counter() - started
        try:
            for task, func in tasks.items():
                seconds, result = median_time(
                    lambda f=func, c=dask_client: f(client=c), args.repeat
                )
                reference = local[task][1]
                if task == "queen contiguity":
                    assert result.equals(reference), "graphs differ"
                elif task.startswith("local"):
                    pd.testing.assert_frame_equal(
                        result.to_frame(), reference.to_frame(), check_exact=True
                    )
                else:
                    assert result == reference, "global results differ"
                rows.append((workers, startup, task, local[task][0], seconds))
        finally:
            dask_client.close()

    print(
        f"{args.map}, {len(areas):,} areas; machine: {os.cpu_count()} cores (shared), "
        f"{platform.machine()}, Python {platform.python_version()}\n"
    )
    print("| workers (x 1 thread) | task | local s | Dask s | ratio local/Dask | cluster start s |")
    print("|---:|---|---:|---:|---:|---:|")
    for workers, startup, task, local_time, dask_time in rows:
        print(
            f"| {workers} | {task} | {local_time:.2f} | {dask_time:.2f} | "
            f"{local_time / dask_time:.2f} | {startup:.1f} |"
        )


if __name__ == "__main__":
    main()
