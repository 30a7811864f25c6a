"""Time the local path against the Dask engine for contiguity and local Moran.

Run from the repository root::

    python benchmarks/bench_distributed.py [--repeat 3] [--side 300] [--workers 2]

Inputs: the 7,201 MSOAs of England and Wales (real boundaries from
``GEOCLUSTERS_DATA``, default ``../shared/data``, projected to EPSG:27700) and a
synthetic ``side x side`` grid of 1 km squares with a smooth, autocorrelated
variable plus noise (seeded). Each task runs on the local path and on a Dask
``LocalCluster`` of ``--workers`` worker processes with one thread each,
started once beforehand (its start-up time is reported apart). Each timing is
the best of ``--repeat`` runs, in seconds; "ratio" is the local time over the
Dask time (above 1: Dask is faster). Every Dask result is checked to be
identical to the local one before it is reported.
"""

from __future__ import annotations

import argparse
import os
import platform
import time
import warnings
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from _timing import best, data_dir

import geoclusters as gc
from geoclusters.distributed import client

PERMUTATIONS = 999


def msoa_areas(data: Path) -> tuple[gpd.GeoDataFrame, pd.Series]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # four MSOAs are repaired, and named
        areas = gc.read_areas(
            data / "msoa2011" / "msoa_2011_ew_vsimple_wgs84.gpkg",
            code="msoa11cd",
            name="msoa11nm",
            crs="EPSG:27700",
            repair=True,
        )
    return areas, np.log(areas.geometry.area)


def grid_areas(side: int) -> tuple[gpd.GeoSeries, pd.Series]:
    col, row = np.divmod(np.arange(side * side), side)
    cells = shapely.box(col * 1000.0, row * 1000.0, (col + 1) * 1000.0, (row + 1) * 1000.0)
    codes = [f"g{r}_{c}" for r, c in zip(row, col, strict=True)]
    areas = gpd.GeoSeries(cells, index=codes, crs="EPSG:27700")
    noise = np.random.default_rng(0).normal(size=side * side)
    smooth = np.sin(col / side * 6) + np.cos(row / side * 4)
    return areas, pd.Series(smooth + noise, index=codes)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--side", type=int, default=300, help="grid side (cells per row)")
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()

    inputs = {"MSOA (7,201)": msoa_areas(data_dir())}
    inputs[f"grid ({args.side**2:,})"] = grid_areas(args.side)

    started = time.perf_counter()
    dask_client = client(n_workers=args.workers, dashboard_address=":0")
    startup = time.perf_counter() - started
    rows = []
    try:
        for label, (areas, values) in inputs.items():
            for task, build in [
                ("queen contiguity", lambda a, **kw: gc.contiguity(a, **kw)),
                ("rook contiguity", lambda a, **kw: gc.contiguity(a, rook=True, **kw)),
            ]:
                local_time, local = best(lambda b=build, a=areas: b(a), args.repeat)
                dask_time, on_dask = best(
                    lambda b=build, a=areas: b(a, client=dask_client), args.repeat
                )
                assert on_dask.equals(local), f"{label} {task}: graphs differ"
                rows.append((label, task, local_time, dask_time, f"{local.n_edges // 2} pairs"))
                if task == "queen contiguity":
                    graph = local
            local_time, local = best(
                lambda v=values, g=graph: gc.local_moran(v, g, PERMUTATIONS, seed=1), args.repeat
            )
            dask_time, on_dask = best(
                lambda v=values, g=graph: gc.local_moran(
                    v, g, PERMUTATIONS, seed=1, client=dask_client
                ),
                args.repeat,
            )
            pd.testing.assert_frame_equal(on_dask.to_frame(), local.to_frame(), check_exact=True)
            chunk = on_dask.params["chunk_size"]
            rows.append(
                (label, f"local Moran, {PERMUTATIONS} perm.", local_time, dask_time, f"{chunk=}")
            )
    finally:
        dask_client.close()

    print(
        f"Machine: {os.cpu_count()} cores, {platform.machine()}, Python "
        f"{platform.python_version()}; Dask LocalCluster of {args.workers} worker processes "
        f"x 1 thread, started in {startup:.2f} s (not included below)\n"
    )
    print("| areas | task | local s | Dask s | ratio local/Dask | note |")
    print("|---|---|---:|---:|---:|---|")
    for label, task, local_time, dask_time, note in rows:
        ratio = local_time / dask_time
        print(f"| {label} | {task} | {local_time:.3f} | {dask_time:.3f} | {ratio:.2f} | {note} |")


if __name__ == "__main__":
    main()
