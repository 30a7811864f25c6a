"""Synthetic maps for the scale benchmarks: clipped Voronoi cells and a regular grid.

Both are seeded and cached (pickled) under ``GEOCLUSTERS_BENCH_CACHE``
(default ``/tmp/geoclusters-bench``), outside the repository, because the
million-cell Voronoi map takes about a minute to build.
"""

from __future__ import annotations

import os
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely


def cache_dir() -> Path:
    path = Path(os.environ.get("GEOCLUSTERS_BENCH_CACHE", "/tmp/geoclusters-bench"))
    path.mkdir(parents=True, exist_ok=True)
    return path


def voronoi(n: int, seed: int = 0) -> gpd.GeoSeries:
    """``n`` Voronoi cells of uniform random points, clipped to their square (1 km spacing)."""
    side = np.sqrt(n) * 1000.0
    points = np.random.default_rng(seed).uniform(0, side, size=(n, 2))
    frame = shapely.box(0, 0, side, side)
    cells = shapely.get_parts(
        shapely.voronoi_polygons(shapely.multipoints(points), extend_to=frame)
    )
    cells = shapely.intersection(cells, frame)
    # voronoi_polygons does not return the cells in the points' order: put them back
    tree = shapely.STRtree(cells)
    found = tree.query(shapely.points(points), predicate="intersects")
    order = np.full(n, -1)
    order[found[0]] = found[1]
    cells = cells[order]
    codes = pd.Index([f"v{i:07d}" for i in range(n)], name="area")
    return gpd.GeoSeries(cells, index=codes, crs="EPSG:27700")


def grid(n: int) -> gpd.GeoSeries:
    """A ``sqrt(n) x sqrt(n)`` grid of 1 km squares, row by row."""
    side = round(np.sqrt(n))
    row, col = np.divmod(np.arange(side * side), side)
    cells = shapely.box(col * 1000.0, row * 1000.0, (col + 1) * 1000.0, (row + 1) * 1000.0)
    codes = pd.Index([f"g{i:07d}" for i in range(side * side)], name="area")
    return gpd.GeoSeries(cells, index=codes, crs="EPSG:27700")


def load(kind: str, n: int) -> gpd.GeoSeries:
    """The cached map ``kind`` ("voronoi" or "grid") of about ``n`` areas."""
    path = cache_dir() / f"{kind}_{n}.pickle"
    if path.exists():
        return pd.read_pickle(path)
    areas = voronoi(n) if kind == "voronoi" else grid(n)
    areas.to_pickle(path)
    return areas


def variable(areas: gpd.GeoSeries, seed: int = 0) -> pd.Series:
    """A smooth, autocorrelated, non-negative variable plus seeded noise."""
    xy = shapely.get_coordinates(shapely.centroid(areas.to_numpy()))
    span = max(np.ptp(xy[:, 0]), 1.0)
    smooth = np.sin(xy[:, 0] / span * 6) + np.cos(xy[:, 1] / span * 4)
    noise = np.random.default_rng(seed).normal(size=len(areas))
    return pd.Series(smooth + noise + 10.0, index=areas.index)
