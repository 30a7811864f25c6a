"""``geoclusters.run`` on a million areas: time and peak memory per stage.

Run from the repository root::

    python benchmarks/bench_run_scale.py [--side 1000] [--workers 0]

The map is a ``side x side`` grid of 1 km squares (a million areas by
default). The counts have 6 sectors (each its own group), the all-industry
total, 2 periods and one measure (businesses): about 14 million rows. Planted
clusters: 400 blocks of 5 x 5 cells where one sector is three times as
concentrated in both periods, and 200 blocks where one sector doubles between
the periods. Everything else is noise around equal shares.

Stages are timed from ``run``'s progress messages; *peak MB* is the largest
rise of resident memory over the process's level when the stage began,
sampled every 10 ms. Input generation is reported apart.
"""

from __future__ import annotations

import argparse
import os
import threading
import time

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

import geoclusters as gc
from geoclusters.counts import TOTAL

SECTORS = [f"sector{k}" for k in range(1, 7)]
PERIODS = ["2019", "2023"]


def _rss() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def inputs(side: int, seed: int = 0) -> tuple[gpd.GeoDataFrame, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    n = side * side
    row, col = np.divmod(np.arange(n), side)
    codes = np.array([f"G{i:07d}" for i in range(n)], dtype=object)
    cells = shapely.box(col * 1000.0, row * 1000.0, (col + 1) * 1000.0, (row + 1) * 1000.0)
    areas = gpd.GeoDataFrame(
        {"name": codes}, geometry=cells, crs="EPSG:27700", index=pd.Index(codes, name="area")
    )
    total = np.round(200 * np.exp(rng.normal(0, 0.4, n)))
    share = np.full((len(PERIODS), n, len(SECTORS)), 0.08)
    share *= np.exp(rng.normal(0, 0.15, share.shape))
    for kind, blocks, factor in (("concentration", 400, 3.0), ("growth", 200, 2.0)):
        r0 = rng.integers(0, side - 5, blocks)
        c0 = rng.integers(0, side - 5, blocks)
        sector = rng.integers(0, len(SECTORS), blocks)
        for r, c, s in zip(r0, c0, sector, strict=True):
            cells_in = ((np.arange(r, r + 5)[:, None]) * side + np.arange(c, c + 5)).ravel()
            if kind == "concentration":
                share[:, cells_in, s] *= factor
            else:
                share[1, cells_in, s] *= factor
    pieces = []
    for p, period in enumerate(PERIODS):
        values = np.round(total[:, None] * share[p])
        # the other industries: half the base, so a total is never below its sectors
        everything = values.sum(axis=1) + np.round(total / 2)
        for s, sector in enumerate([*SECTORS, TOTAL]):
            column = values[:, s] if s < len(SECTORS) else everything
            pieces.append(
                pd.DataFrame({"area": codes, "sector": sector, "period": period, "value": column})
            )
    counts = pd.concat(pieces, ignore_index=True)
    counts["measure"] = "businesses"
    counts["status"] = "ok"
    counts["rounded_to"] = 1
    return areas, counts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--side", type=int, default=1000)
    parser.add_argument("--workers", type=int, default=0, help="local Dask workers (0: none)")
    args = parser.parse_args()

    start = time.perf_counter()
    areas, counts = inputs(args.side)
    print(f"inputs: {len(areas):,} areas, {len(counts):,} count rows, "
          f"{time.perf_counter() - start:.1f} s")  # fmt: skip

    stages: list[list] = []
    peak = [0]
    running = [True]

    def sample():
        while running[0]:
            peak[0] = max(peak[0], _rss())
            time.sleep(0.01)

    def progress(message: str) -> None:
        now = time.perf_counter()
        if stages:
            stages[-1][1] = now - stages[-1][1]
            stages[-1][2] = (max(peak[0], _rss()) - stages[-1][2]) / 1e6
        print(f"  {message}", flush=True)
        stages.append([message, now, _rss()])
        peak[0] = _rss()

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    options = {"workers": args.workers} if args.workers else {}
    begin = time.perf_counter()
    result = gc.run(areas, counts, progress=progress, **options)
    progress("done")
    running[0] = False
    stages.pop()
    total = time.perf_counter() - begin
    print(f"\n{len(areas):,} areas, 6 sectors, 2 periods; run {total:.1f} s; "
          f"{int(result.areas['is_cluster'].sum())} cluster areas\n")  # fmt: skip
    print("| stage | s | peak MB |")
    print("|---|---:|---:|")
    for message, seconds, memory in stages:
        print(f"| {message} | {seconds:.1f} | {memory:.0f} |")


if __name__ == "__main__":
    main()
