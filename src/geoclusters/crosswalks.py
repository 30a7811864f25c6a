"""Move counts from one geography to another through a lookup.

Counts are often published for one geography (local authorities, LSOAs) and
wanted on another (Travel to Work Areas). A lookup lists ``source → target``
pairs, optionally with a weight: the share of the source's count that goes to
the target (for example the share of its population, businesses or area).

- :func:`read_lookup` reads a lookup CSV (a byte-order mark is harmless);
- :func:`crosswalk` moves a tidy counts table through a lookup, conserving
  totals over the matched codes and reporting the codes the lookup lacks;
- :func:`areal_lookup` builds an area-weighted lookup from two sets of
  polygons.

``geoclusters.crosswalk`` is both this module and, because the module is
callable, the :func:`crosswalk` function: ``geoclusters.crosswalk(counts, ...)``
works whichever way the name was imported.
"""

from __future__ import annotations

import os
import warnings
from typing import Literal

import numpy as np
import pandas as pd
import shapely

from .counts import KEY, sum_counts, validate_counts
from .errors import InputError, check_choice

_SHOWN = 20


def read_lookup(path: str | os.PathLike, **read_csv_kwargs) -> pd.DataFrame:
    """Read a lookup table from CSV.

    Every column is read as text (so codes keep leading zeros), surrounding
    spaces are stripped from names and cells, and a UTF-8 byte-order mark, as
    in many ONS downloads, is dropped instead of becoming part of the first
    column's name.

    Parameters
    ----------
    path : str or path-like
        The CSV file.
    **read_csv_kwargs
        Passed on to :func:`pandas.read_csv`.

    Returns
    -------
    pandas.DataFrame
        The lookup, all columns as strings.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (folder / "lookup.csv").write_bytes(b"\\xef\\xbb\\xbfLSOA11CD,TTWA11CD\\nE01000001,E30000234\\n")
    >>> read_lookup(folder / "lookup.csv").columns.tolist()
    ['LSOA11CD', 'TTWA11CD']
    """  # noqa: E501
    if not os.path.exists(path):
        raise InputError(f"lookup file not found: {path}")
    options = {"dtype": str, "encoding": "utf-8-sig", "keep_default_na": False}
    options.update(read_csv_kwargs)
    table = pd.read_csv(path, **options)
    table.columns = [str(c).strip() for c in table.columns]
    text = table.select_dtypes(include=["object", "string"]).columns
    table[text] = table[text].apply(lambda column: column.str.strip())
    return table


def crosswalk(
    counts: pd.DataFrame,
    lookup: pd.DataFrame | str | os.PathLike,
    source: str,
    target: str,
    weight: str | None = None,
    unmatched: Literal["raise", "report"] = "raise",
    normalise: bool = False,
    skipna: bool = False,
    tolerance: float = 1e-9,
) -> pd.DataFrame:
    """Move counts from source areas to target areas through a lookup.

    Each count is multiplied by the weight of each of its ``source → target``
    pairs and the products are summed by target, sector, period and measure.

    Parameters
    ----------
    counts : pandas.DataFrame
        Tidy counts (:mod:`geoclusters.counts`) whose ``area`` codes are
        source codes.
    lookup : pandas.DataFrame, str or path-like
        The lookup, or a CSV file read with :func:`read_lookup`.
    source, target : str
        The lookup's columns of source and target codes.
    weight : str, optional
        The lookup's column of weights. Without it every source code must map
        to exactly one target. With it, the weights of each source must sum to
        1 (within ``tolerance``); zero-weight pairs are ignored.
    unmatched : {"raise", "report"}
        Count area codes that are not in the lookup: ``"raise"`` an
        InputError naming them, or ``"report"``: warn, keep their rows out of
        the result, and record them (see Returns).
    normalise : bool, default False
        Divide each source's weights by their sum instead of raising when
        they do not sum to 1.
    skipna : bool, default False
        By default a target that receives any suppressed or missing (NaN)
        contribution is NaN with status ``"suppressed"``, because a partial
        sum would understate it. With ``skipna=True`` NaN contributions are
        left out and the target holds the sum of the known ones (a lower
        bound, still flagged ``"suppressed"``); it is NaN only when every
        contribution is.
    tolerance : float, default 1e-9
        Allowed absolute difference of a source's weight sum from 1.

    Returns
    -------
    pandas.DataFrame
        Tidy counts on the target codes, with the counts columns. Totals over
        the matched source codes are conserved: for weights, each source's
        rounding residual is put on its largest piece and sums use pandas'
        compensated summation, so the national total agrees to ~1e-15
        relative. Weighted values are fractional even when the counts were
        rounded; ``rounded_to`` keeps the largest rounding base of the
        contributions, as a reminder of the precision of the inputs.
        ``.attrs`` holds ``"unmatched"`` (sorted source codes kept out),
        ``"unmatched_value"`` (the sum of their values, NaN ignored) and
        ``"crosswalk"`` (the parameters used). Targets that receive no count
        are absent.

    Raises
    ------
    InputError
        For missing lookup columns, blank codes, a source split across targets
        without weights, bad or non-normalised weights, duplicate pairs, or
        unmatched codes with ``unmatched="raise"``.

    Examples
    --------
    >>> import pandas as pd
    >>> counts = pd.DataFrame({"area": ["lad1", "lad2"], "sector": "film",
    ...                        "period": "2015", "measure": "businesses",
    ...                        "value": [10.0, 30.0]})
    >>> lookup = pd.DataFrame({"lad": ["lad1", "lad2", "lad2"],
    ...                        "ttwa": ["T1", "T1", "T2"], "w": [1.0, 0.5, 0.5]})
    >>> moved = crosswalk(counts, lookup, "lad", "ttwa", weight="w")
    >>> moved[["area", "value"]].to_dict("records")
    [{'area': 'T1', 'value': 25.0}, {'area': 'T2', 'value': 15.0}]
    """
    check_choice("unmatched", unmatched, ("raise", "report"))
    if not isinstance(lookup, pd.DataFrame):
        lookup = read_lookup(lookup)
    pairs = _lookup_pairs(lookup, source, target, weight, normalise, tolerance)
    counts = validate_counts(counts)

    is_matched = counts["area"].isin(pairs["source"])
    unmatched_codes = sorted(counts.loc[~is_matched, "area"].unique())
    if unmatched_codes:
        problem = f"count areas that are not in the lookup's {source!r} column"
        if unmatched == "raise":
            raise InputError(
                problem,
                rows=unmatched_codes,
                fix="add them to the lookup, check the code vintage, or pass "
                "unmatched='report' to keep them out with a warning",
            )
        warnings.warn(
            f"{problem}, kept out of the result (listed in .attrs['unmatched']): "
            + _shown(unmatched_codes),
            UserWarning,
            stacklevel=2,
        )
    matched = counts[is_matched]

    moved = matched.reset_index(drop=True).rename_axis("row").reset_index()
    moved = moved.merge(pairs, left_on="area", right_on="source", how="inner")
    moved["value"] = moved["value"] * moved["weight"]
    if weight is not None:
        moved = _put_residual_on_largest(moved, matched["value"].to_numpy())
    moved["area"] = moved["target"]

    out = sum_counts(moved, KEY, skipna=skipna)
    out = validate_counts(out)
    out.attrs["unmatched"] = unmatched_codes
    out.attrs["unmatched_value"] = float(counts.loc[~is_matched, "value"].sum())
    out.attrs["crosswalk"] = {
        "source": source,
        "target": target,
        "weight": weight,
        "normalise": normalise,
        "skipna": skipna,
    }
    return out


def _lookup_pairs(lookup, source, target, weight, normalise, tolerance) -> pd.DataFrame:
    wanted = [source, target] + ([weight] if weight is not None else [])
    absent = [c for c in wanted if c not in lookup.columns]
    if absent:
        raise InputError(
            f"the lookup lacks the columns {absent}",
            fix=f"use its columns: {list(lookup.columns)}",
        )
    pairs = pd.DataFrame(
        {
            "source": lookup[source].astype("string").str.strip(),
            "target": lookup[target].astype("string").str.strip(),
        }
    )
    blank = pairs.isna().any(axis=1) | (pairs == "").any(axis=1)
    if blank.any():
        raise InputError(
            "lookup rows with a blank source or target code",
            rows=lookup.index[blank],
            fix="fill in or drop those rows",
        )
    if weight is None:
        pairs = pairs.drop_duplicates()
        split = pairs["source"][pairs["source"].duplicated()].unique()
        if len(split):
            raise InputError(
                "source codes map to more than one target and the lookup has no weights",
                rows=sorted(split),
                fix="pass weight='<column>' giving the share of each source in each target",
            )
        return pairs.assign(weight=1.0).astype({"source": str, "target": str})

    raw = lookup[weight]
    weights = pd.to_numeric(raw, errors="coerce")
    bad = weights.isna() | ~np.isfinite(weights) | (weights < 0)
    if bad.any():
        raise InputError(
            f"lookup weights in {weight!r} that are not finite non-negative numbers",
            rows=lookup.index[bad],
            fix="correct those weights",
        )
    pairs["weight"] = weights.astype(float).to_numpy()
    twice = pairs.duplicated(["source", "target"], keep=False)
    if twice.any():
        raise InputError(
            "the lookup lists the same source and target more than once",
            rows=lookup.index[twice],
            fix="sum the weights of each pair into one row",
        )
    sums = pairs.groupby("source")["weight"].sum()
    zero = sums.index[sums <= 0]
    if len(zero):
        raise InputError(
            "source codes whose weights are all zero",
            rows=sorted(zero),
            fix="give them positive weights or drop them from the lookup",
        )
    off = sums[(sums - 1).abs() > tolerance]
    if len(off):
        if not normalise:
            raise InputError(
                "lookup weights that do not sum to 1 for these source codes "
                f"(sums from {off.min():.6g} to {off.max():.6g})",
                rows=sorted(off.index),
                fix="correct the weights, or pass normalise=True to divide each source's "
                "weights by their sum",
            )
        pairs["weight"] = pairs["weight"] / pairs["source"].map(sums)
    pairs = pairs[pairs["weight"] > 0]
    return pairs.astype({"source": str, "target": str}).reset_index(drop=True)


def _put_residual_on_largest(moved: pd.DataFrame, values: np.ndarray) -> pd.DataFrame:
    """Make each count's pieces add back to the count, up to one rounding."""
    moved = moved.sort_values(["row", "weight"], ascending=[True, False], kind="stable")
    pieces = moved.groupby("row")["value"].sum().reindex(range(len(values))).to_numpy()
    residual = values - pieces
    largest = ~moved["row"].duplicated().to_numpy()
    adjusted = moved["value"].to_numpy(copy=True)
    rows = moved["row"].to_numpy()[largest]
    adjusted[largest] += np.nan_to_num(residual[rows])
    return moved.assign(value=adjusted)


def areal_lookup(
    source_areas,
    target_areas,
    min_share: float = 1e-6,
    unmatched: Literal["raise", "report"] = "raise",
    source_code: str | None = None,
    target_code: str | None = None,
) -> pd.DataFrame:
    """Area-weighted lookup from the intersections of two sets of polygons.

    The weight of ``source → target`` is the area of their intersection
    divided by the source's area, renormalised so that each source's weights
    sum to 1. The share of the source covered by the targets (before
    renormalisation) is kept in ``coverage``: below 1 where a coastline or a
    generalised boundary leaves part of the source outside every target.

    Parameters
    ----------
    source_areas, target_areas : geopandas.GeoDataFrame
        Polygons in the same projected CRS (areas in a geographic CRS are not
        areas), with valid geometries; the codes are the index unless
        ``source_code``/``target_code`` name a column. Targets should not
        overlap each other (a partition such as TTWAs).
    min_share : float, default 1e-6
        Intersections smaller than this fraction of the source's area are
        dropped before renormalising: they are slivers from boundaries drawn
        at different generalisations, not real overlaps.
    unmatched : {"raise", "report"}
        Sources that intersect no target: ``"raise"`` an InputError naming
        them, or ``"report"``: warn and list them in ``.attrs["unmatched"]``.
    source_code, target_code : str, optional
        Columns holding the codes, when not the index.

    Returns
    -------
    pandas.DataFrame
        Columns ``source, target, weight, coverage``, sorted by source and
        target; ``.attrs`` holds ``"unmatched"`` and ``"min_share"``. Pass it
        to :func:`crosswalk` with ``source="source", target="target",
        weight="weight"``.

    Raises
    ------
    InputError
        For a missing, geographic or differing CRS, duplicate codes, invalid,
        empty or zero-area source geometries, or unmatched sources with
        ``unmatched="raise"``.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely.geometry import box
    >>> lads = gpd.GeoDataFrame(geometry=[box(0, 0, 2, 2)], index=["L"], crs=27700)
    >>> ttwas = gpd.GeoDataFrame(geometry=[box(0, 0, 1, 2), box(1, 0, 3, 2)],
    ...                          index=["T1", "T2"], crs=27700)
    >>> areal_lookup(lads, ttwas).to_dict("records")  # doctest: +NORMALIZE_WHITESPACE
    [{'source': 'L', 'target': 'T1', 'weight': 0.5, 'coverage': 1.0},
     {'source': 'L', 'target': 'T2', 'weight': 0.5, 'coverage': 1.0}]
    """
    check_choice("unmatched", unmatched, ("raise", "report"))
    if not 0 <= min_share < 1:
        raise InputError(f"min_share must be in [0, 1), not {min_share!r}")
    _check_crs(source_areas, target_areas)
    source_ids = _codes(source_areas, source_code, "source")
    target_ids = _codes(target_areas, target_code, "target")
    sources = _polygons(source_areas, source_ids, "source")
    targets = _polygons(target_areas, target_ids, "target")
    source_area = shapely.area(sources)
    flat = source_area <= 0
    if flat.any():
        raise InputError(
            "source areas with no area (empty or degenerate geometries)",
            rows=source_ids[flat],
            fix="drop them or give them polygons",
        )

    tree = shapely.STRtree(targets)
    si, ti = tree.query(sources, predicate="intersects")
    shapely.prepare(sources)
    share = shapely.area(shapely.intersection(sources[si], targets[ti])) / source_area[si]
    keep = (share > 0) & (share >= min_share)
    table = pd.DataFrame(
        {"source": source_ids[si[keep]], "target": target_ids[ti[keep]], "share": share[keep]}
    )
    coverage = table.groupby("source")["share"].sum()
    table["coverage"] = table["source"].map(coverage)
    table["weight"] = table["share"] / table["coverage"]
    table = table[["source", "target", "weight", "coverage"]]
    table = table.sort_values(["source", "target"], kind="stable").reset_index(drop=True)

    overlapping = coverage.index[coverage > 1 + 1e-6]
    if len(overlapping):
        warnings.warn(
            "target areas overlap inside these sources (coverage above 1), so the "
            "weights split them in proportion to overlapping areas: " + _shown(overlapping),
            UserWarning,
            stacklevel=2,
        )
    missing = sorted(set(source_ids) - set(table["source"]))
    if missing:
        problem = "source areas that intersect no target area"
        if unmatched == "raise":
            raise InputError(
                problem,
                rows=missing,
                fix="check both layers cover the same territory, or pass unmatched='report' "
                "and handle them yourself (for example with a nearest-target lookup)",
            )
        warnings.warn(f"{problem}: {_shown(missing)}", UserWarning, stacklevel=2)
    table.attrs["unmatched"] = missing
    table.attrs["min_share"] = min_share
    return table


def _check_crs(source_areas, target_areas) -> None:
    for role, frame in (("source", source_areas), ("target", target_areas)):
        if not hasattr(frame, "geometry"):
            raise InputError(f"the {role} areas are not a GeoDataFrame")
        crs = frame.crs
        if crs is None:
            raise InputError(
                f"the {role} areas have no CRS",
                fix="set it with .set_crs(...) (EPSG:4326 for plain longitude/latitude)",
            )
        if not crs.is_projected:
            raise InputError(
                f"the {role} areas are in a geographic CRS ({crs.to_string()}); "
                "areas need a projected CRS",
                fix="project both layers, e.g. .to_crs(27700) for Great Britain",
            )
    if not source_areas.crs.equals(target_areas.crs):
        raise InputError(
            f"the source CRS ({source_areas.crs.to_string()}) differs from the target CRS "
            f"({target_areas.crs.to_string()})",
            fix="project one layer onto the other's CRS with .to_crs(...)",
        )


def _codes(frame, column: str | None, role: str) -> np.ndarray:
    if column is None:
        codes = pd.Index(frame.index).astype(str)
    else:
        if column not in frame.columns:
            raise InputError(f"the {role} areas have no column {column!r}")
        codes = pd.Index(frame[column]).astype(str)
    if codes.has_duplicates:
        raise InputError(
            f"duplicate {role} area codes",
            rows=sorted(codes[codes.duplicated()].unique()),
            fix="dissolve the duplicates into one geometry per code",
        )
    return codes.to_numpy(dtype=object)


def _polygons(frame, codes: np.ndarray, role: str) -> np.ndarray:
    geometries = np.asarray(frame.geometry.array, dtype=object)
    invalid = ~shapely.is_valid(geometries) | shapely.is_missing(geometries)
    if invalid.any():
        raise InputError(
            f"invalid or missing {role} geometries",
            rows=codes[invalid],
            fix="repair them, e.g. geoclusters.read_areas(..., repair=True) or shapely.make_valid",
        )
    return geometries


def _shown(codes) -> str:
    codes = list(codes)
    more = f" and {len(codes) - _SHOWN} more" if len(codes) > _SHOWN else ""
    return ", ".join(map(str, codes[:_SHOWN])) + more
