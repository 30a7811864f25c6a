"""A synthetic demo region with planted clusters — SYNTHETIC DATA, not a real place.

The region is a deterministic patchwork of Voronoi cells (relaxed so that they
look like administrative areas), placed in the North Sea off East Anglia in
the British National Grid so that it can never be mistaken for real areas on a
basemap. Each area has business and employment counts for the nine DCMS
creative sub-sectors and the all-industry total, every year 2007–2014, so
that the Nesta 2016 rule runs on it with its defaults.

Planted, on top of modest random variation:

- a *conurbation*: four touching areas highly concentrated in architecture,
  ringed by small areas so that nothing else joins it;
- *concentrated* areas: specialised in creative services (advertising,
  design, IT), unchanged between the periods;
- *growing* areas: content (film, music, publishing) more than doubles its
  share between 2007–2010 and 2011–2014, from a low level;
- *both* areas: creative services high and rising.

Planted areas are far apart (at least three steps in the contiguity graph),
and every planted area other than the growing ones keeps exactly the same
sector shares in every year, so noise elsewhere cannot make them look like
growth.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from .counts import TOTAL, validate_counts

SYNTHETIC_LABEL = "SYNTHETIC DEMO DATA"
YEARS = tuple(range(2007, 2015))
_FIRST_PERIOD = (2007, 2008, 2009, 2010)

# national shares of each sub-sector in all businesses and all jobs
_SHARES = {
    "Advertising and marketing": (0.008, 0.006),
    "Architecture": (0.005, 0.004),
    "Crafts": (0.001, 0.0005),
    "Design and designer fashion": (0.006, 0.003),
    "Film, TV, video, radio and photography": (0.007, 0.008),
    "IT, software and computer services": (0.040, 0.025),
    "Museums, galleries and libraries": (0.0005, 0.003),
    "Music, performing and visual arts": (0.010, 0.005),
    "Publishing": (0.004, 0.007),
}
_SERVICES = (
    "Advertising and marketing",
    "Design and designer fashion",
    "IT, software and computer services",
)
_CONTENT = (
    "Film, TV, video, radio and photography",
    "Music, performing and visual arts",
    "Publishing",
)

_FIRST = [
    "Ash",
    "Bram",
    "Cal",
    "Dun",
    "El",
    "Fen",
    "Gil",
    "Har",
    "Ick",
    "Kel",
    "Lang",
    "Mar",
    "Nor",
    "Oak",
    "Pen",
    "Ros",
    "Stan",
    "Tal",
    "Ul",
    "Wes",
]
_SECOND = [
    "ford",
    "ham",
    "ton",
    "by",
    "wick",
    "mouth",
    "field",
    "bury",
    "ley",
    "stow",
    "combe",
    "dale",
    "minster",
    "haven",
    "thorpe",
]


@dataclass(frozen=True)
class DemoRegion:
    """The synthetic demo region and what was planted in it.

    Attributes
    ----------
    areas : geopandas.GeoDataFrame
        Areas indexed by code (``DEMO001``, …) with ``name``, ``data`` (the
        synthetic label) and geometry in EPSG:27700.
    counts : pandas.DataFrame
        Tidy counts (``businesses`` and ``employment``, DCMS sub-sectors and
        totals, 2007–2014).
    planted : mapping
        ``"conurbation"``, ``"concentration"``, ``"growth"`` and ``"both"``
        → tuples of area codes.
    seed : int
        The seed that generated it.
    """

    areas: gpd.GeoDataFrame
    counts: pd.DataFrame
    planted: Mapping[str, tuple[str, ...]]
    seed: int


def demo_region(seed: int = 0, n_areas: int = 220) -> DemoRegion:
    """Generate the synthetic demo region (SYNTHETIC DATA, clearly labelled).

    Parameters
    ----------
    seed : int, default 0
        The same seed gives the same region, counts and planted areas.
    n_areas : int, default 220
        Number of areas, between 60 and 300.

    Returns
    -------
    DemoRegion

    Examples
    --------
    >>> region = demo_region(seed=0)
    >>> len(region.areas), region.areas.attrs["synthetic"], len(region.planted["conurbation"])
    (220, True, 4)
    """
    if not 60 <= n_areas <= 300:
        raise ValueError("n_areas must be between 60 and 300")
    rng = np.random.default_rng(seed)
    cells = _cells(rng, n_areas)
    codes = [f"DEMO{i + 1:03d}" for i in range(n_areas)]
    names = _names(rng, n_areas)
    areas = gpd.GeoDataFrame(
        {"name": names, "data": SYNTHETIC_LABEL},
        geometry=cells,
        index=pd.Index(codes, name="area"),
        crs="EPSG:27700",
    )
    neighbours = _neighbours(cells)
    planted = _plant(rng, neighbours, n_areas)
    counts = _counts(rng, codes, neighbours, planted)
    areas.attrs["synthetic"] = True
    counts.attrs["synthetic"] = True
    planted_codes = {k: tuple(codes[i] for i in v) for k, v in planted.items() if k != "ring"}
    return DemoRegion(areas=areas, counts=counts, planted=planted_codes, seed=seed)


def _cells(rng, n) -> np.ndarray:
    region = shapely.box(700_000, 250_000, 820_000, 340_000)
    points = np.column_stack([rng.uniform(700_000, 820_000, n), rng.uniform(250_000, 340_000, n)])
    # Lloyd relaxation: moving points to their cell centroids evens out sizes
    for _ in range(3):
        cells = _voronoi(points, region)
        points = shapely.get_coordinates(shapely.centroid(cells))
    return _voronoi(points, region)


def _voronoi(points, region) -> np.ndarray:
    diagram = shapely.voronoi_polygons(shapely.multipoints(points), extend_to=region, ordered=True)
    return shapely.intersection(np.asarray(shapely.get_parts(diagram)), region)


def _names(rng, n) -> list[str]:
    combos = [a + b for a in _FIRST for b in _SECOND]
    order = rng.permutation(len(combos))[:n]
    return [combos[i] for i in order]


def _neighbours(cells) -> list[set[int]]:
    tree = shapely.STRtree(cells)
    left, right = tree.query(cells, predicate="intersects")
    neighbours = [set() for _ in cells]
    for a, b in zip(left, right, strict=True):
        if a != b:
            neighbours[a].add(int(b))
    return neighbours


def _distances(neighbours, sources) -> np.ndarray:
    distance = np.full(len(neighbours), np.iinfo(np.int64).max)
    queue = deque()
    for s in sources:
        distance[s] = 0
        queue.append(s)
    while queue:
        here = queue.popleft()
        for there in neighbours[here]:
            if distance[there] > distance[here] + 1:
                distance[there] = distance[here] + 1
                queue.append(there)
    return distance


def _plant(rng, neighbours, n) -> dict[str, list[int]]:
    centre = int(np.argmax([len(nb) for nb in neighbours[: n // 10]]))
    conurbation = [centre]
    for candidate in sorted(neighbours[centre]):
        if len(conurbation) == 4:
            break
        conurbation.append(candidate)
    ring = sorted(set().union(*(neighbours[i] for i in conurbation)) - set(conurbation))
    taken = conurbation + ring
    chosen: dict[str, list[int]] = {"concentration": [], "growth": [], "both": []}
    wanted = [("concentration", 4), ("growth", 4), ("both", 2)]
    for i in rng.permutation(n):
        kind = next((k for k, size in wanted if len(chosen[k]) < size), None)
        if kind is None:
            break
        if _distances(neighbours, taken)[i] >= 3:
            chosen[kind].append(int(i))
            taken.append(int(i))
    return {"conurbation": conurbation, "ring": ring, **chosen}


def _counts(rng, codes, neighbours, planted) -> pd.DataFrame:
    n = len(codes)
    typical = 8000.0
    businesses = typical * np.exp(rng.normal(0, 0.5, n))
    for i in planted["conurbation"] + planted["concentration"]:
        businesses[i] = typical * rng.uniform(2.5, 3.0)
    for i in planted["growth"] + planted["both"]:
        businesses[i] = typical * rng.uniform(4.5, 5.5)
    for i in planted["ring"]:
        businesses[i] = typical * rng.uniform(0.25, 0.35)
    jobs_per_business = rng.uniform(5, 9, n)
    steady = set(planted["conurbation"] + planted["concentration"] + planted["ring"])
    steady |= set(planted["growth"] + planted["both"])
    sectors = list(_SHARES)
    base = np.exp(rng.normal(0, 0.15, (n, len(sectors))))
    change = np.exp(rng.normal(0, 0.08, (n, len(sectors))))
    first = np.ones((n, len(sectors)))
    column = {s: j for j, s in enumerate(sectors)}
    for i in steady:
        base[i] = 1.0
        change[i] = 1.0
    for i in planted["conurbation"]:
        base[i, column["Architecture"]] = 3.5
    for i in planted["concentration"]:
        for s in _SERVICES:
            base[i, column[s]] = 2.5
    for i in planted["growth"]:
        for s in _CONTENT:
            first[i, column[s]] = 0.45
    for i in planted["both"]:
        for s in _SERVICES:
            first[i, column[s]] = 1.5
            change[i, column[s]] = 3.5
    records = []
    for year in YEARS:
        economy = 1.0 + 0.02 * (year - YEARS[0])
        yearly = np.exp(rng.normal(0, 0.03, (n, len(sectors))))
        for i in steady:
            yearly[i] = 1.0
        factor = base * (first if year in _FIRST_PERIOD else change) * yearly
        for m, measure in enumerate(("businesses", "employment")):
            total = businesses * economy * (1.0 if m == 0 else jobs_per_business)
            shares = np.array([_SHARES[s][m] for s in sectors])
            values = np.round(total[:, None] * shares[None, :] * factor)
            for i, code in enumerate(codes):
                records.append((code, TOTAL, str(year), measure, float(np.round(total[i]))))
                records.extend(
                    (code, sector, str(year), measure, float(values[i, j]))
                    for j, sector in enumerate(sectors)
                )
    frame = pd.DataFrame(records, columns=["area", "sector", "period", "measure", "value"])
    return validate_counts(frame)
