"""A hand-made 4 × 4 grid of 1 km squares with known cluster types, for map and report tests.

Row r (south to north) × column c, code "G{r}{c}"; one 3-square conurbation. Every
expected colour, count and label can be read off the tables below.
"""

from __future__ import annotations

import geopandas as gpd
import pandas as pd
from shapely.geometry import box

TYPES = [
    ["both", "both", "none", "high growth"],  # r = 0
    ["none", "both", "none", "none"],  # r = 1
    ["high concentration", "none", "none", "high growth"],  # r = 2
    ["high concentration", "none", "both", "none"],  # r = 3
]
CONURBATION = ["G00", "G01", "G11"]
CON_NAME = "Area 00 – Area 01 – Area 11"
SIDE = 1000.0
ORIGIN = (560_000.0, 140_000.0)  # near Hastings, in EPSG:27700
CODES = [f"G{r}{c}" for r in range(4) for c in range(4)]


CONTENT = {
    "count": [100.0 * (i + 1) for i in range(16)],
    "lq": [0.5 + 0.1 * i for i in range(16)],
    "lq_change": [0.01 * (i - 8) for i in range(16)],
}


def grid_metrics(extra=None, codes=None) -> pd.DataFrame:
    """The long metrics table of the grid: businesses content (``CONTENT``) and ``extra``.

    ``extra`` is ``{(measure, group): {metric: values following codes}}``.
    """
    codes = codes or CODES
    series = {("businesses", "content"): CONTENT, **(extra or {})}
    rows = [
        (code, measure, group, metric, value)
        for (measure, group), metrics in series.items()
        for metric, values in metrics.items()
        for code, value in zip(codes, values, strict=True)
    ]
    return pd.DataFrame(rows, columns=["area", "measure", "group", "metric", "value"])


def grid_lisa(lisa, measure="businesses", group="content") -> pd.DataFrame:
    """LISA labels following ``CODES``, in the long form ``area, measure, group, label``."""
    return pd.DataFrame({"area": CODES, "measure": measure, "group": group, "label": lisa})


def grid_areas(lisa, names=None, extra=None, synthetic: bool = True) -> gpd.GeoDataFrame:
    """The grid as pipeline-shaped areas; ``lisa`` and ``names`` follow ``CODES``.

    ``lisa_businesses_content`` is a plain label column for :func:`geoclusters.lisa_map`;
    the metrics and LISA tables come from :func:`grid_metrics` and :func:`grid_lisa`.
    """
    types = [TYPES[int(code[1])][int(code[2])] for code in CODES]
    columns = {
        "name": names or [f"Area {code[1:]}" for code in CODES],
        "cluster_type": types,
        "conurbation": [CON_NAME if code in CONURBATION else "" for code in CODES],
        "concentration_groups": [
            "businesses:content" if t in ("high concentration", "both") else "" for t in types
        ],
        "growth_groups": [
            "businesses:content" if t in ("high growth", "both") else "" for t in types
        ],
        **(extra or {}),
        "lisa_businesses_content": lisa,
    }
    geometry = [
        box(ORIGIN[0] + c * SIDE, ORIGIN[1] + r * SIDE, ORIGIN[0] + (c + 1) * SIDE,
            ORIGIN[1] + (r + 1) * SIDE)
        for r in range(4)
        for c in range(4)
    ]  # fmt: skip
    areas = gpd.GeoDataFrame(
        columns, geometry=geometry, crs=27700, index=pd.Index(CODES, name="area")
    )
    if synthetic:
        areas.attrs["synthetic"] = True
    return areas
