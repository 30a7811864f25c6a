"""Move counts from one geography to another through a lookup.

Counts are often published for one geography (local authorities, LSOAs) and
wanted on another (Travel to Work Areas). A lookup lists ``source → target``
pairs, optionally with a weight: the share of the source's count that goes to
the target (for example the share of its population, businesses or area).

- :func:`read_lookup` reads a lookup CSV (a byte-order mark is harmless);
- :func:`crosswalk` moves a tidy counts table through a lookup, conserving
  totals over the matched codes and reporting the codes the lookup lacks;
- :func:`areal_lookup` builds an area-weighted lookup from two sets of
  polygons;
- :func:`population_lookup` builds a population-proxy lookup (local
  authority -> TTWA) from the official LSOA -> TTWA lookup: LSOAs hold
  roughly equal populations, so the share of an authority's LSOAs in a TTWA
  approximates the share of its people (and businesses) there, where area
  weights hand rural land most of a split authority's count. LSOAs are
  assigned to authorities by name, with :data:`LSOA_ALIASES` for the
  authorities whose LSOAs carry other names (the former districts of the 2009
  unitary authorities), and an authority matching fewer LSOAs than their
  names imply is refused rather than weighted on a stray few.

Every lookup these functions return has a ``weighting`` column saying how it
was weighted (``"area"``, ``"population proxy (LSOA count)"``), so that
outputs can say which weighting was used.

``geoclusters.crosswalk`` is both this module and, because the module is
callable, the :func:`crosswalk` function: ``geoclusters.crosswalk(counts, ...)``
works whichever way the name was imported.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping, Sequence
from importlib import resources
from types import MappingProxyType
from typing import Literal

import numpy as np
import pandas as pd
import shapely

from ._accounting import InputAccount, Ledger, SetAside, record
from ._keywords import options_were_positional
from ._readers import read_table, source_name
from ._tidy import code_hint
from ._warn import warn_user
from .counts import KEY, sum_counts, validate_counts
from .errors import CodesError, CRSError, GeometryError, InputError, check_policy

_SHOWN = 20


def read_lookup(
    path: str | os.PathLike,
    *,
    sep: str | None = None,
    encoding: str | None = None,
    ledger: Ledger | None = None,
    **read_csv_kwargs,
) -> pd.DataFrame:
    """Read a lookup table from CSV.

    Every column is read as text (so codes keep leading zeros), surrounding
    spaces are stripped from names and cells, the encoding (UTF-8 with or
    without the byte-order mark many ONS downloads start with, UTF-16,
    Windows-1252/Latin-1 with a warning) and the delimiter (comma, semicolon,
    tab, pipe) are detected.

    Parameters
    ----------
    path : str or path-like
        The CSV file.
    sep, encoding : str, optional
        Force the delimiter or the encoding instead of detecting them.
    ledger : Ledger, optional
        Receives an account of the rows read, the encoding and delimiter.
    **read_csv_kwargs
        Deprecated (removed in 0.3): options for :func:`pandas.read_csv`,
        used instead of the detection when given.

    Returns
    -------
    pandas.DataFrame
        The lookup, all columns as strings.

    Raises
    ------
    ReadError
        For a missing, empty, binary or header-only file, or ragged rows.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (folder / "lookup.csv").write_bytes(b"\\xef\\xbb\\xbfLSOA11CD,TTWA11CD\\nE01000001,E30000234\\n")
    >>> read_lookup(folder / "lookup.csv").columns.tolist()
    ['LSOA11CD', 'TTWA11CD']
    """  # noqa: E501
    if read_csv_kwargs:
        warn_user(
            "passing pandas.read_csv options to read_lookup is deprecated and will be removed "
            "in 0.3; the encoding and delimiter are detected (or pass sep=, encoding=)",
            DeprecationWarning,
        )
    table, info = read_table(path, "lookup", sep=sep, encoding=encoding, **read_csv_kwargs)
    stripped = table.apply(lambda column: column.str.strip())
    padded = int((stripped != table).to_numpy().sum())
    repairs = [f"decoded as {info.encoding}"] if info.encoding not in ("utf-8", "utf-8-sig") else []
    if padded:
        repairs.append(f"stripped surrounding spaces from {padded} cells")
    record(
        ledger,
        InputAccount(
            "lookup",
            source_name(path),
            len(table),
            len(table),
            repairs=tuple(repairs),
            encoding=info.encoding,
            delimiter=info.delimiter,
        ),
    )
    return stripped


@options_were_positional(
    "source", "target", "weight", "unmatched", "normalise", "skipna", "tolerance"
)
def crosswalk(
    counts: pd.DataFrame,
    lookup: pd.DataFrame | str | os.PathLike,
    *,
    source: str,
    target: str,
    weight: str | None = None,
    unmatched: Literal["raise", "warn"] = "raise",
    normalise: bool = False,
    skipna: bool = False,
    tolerance: float = 1e-9,
    ledger: Ledger | None = None,
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
    unmatched : {"raise", "warn"}
        Count area codes that are not in the lookup: ``"raise"`` a
        CodesError naming them, or ``"warn"``: warn, keep their rows out of
        the result, and record them (see Returns, and the ledger). The old
        spelling ``"report"`` still works until 0.3, with a DeprecationWarning.
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
    ledger : Ledger, optional
        Receives an account: count rows in, target rows out, codes set aside.

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
    >>> moved = crosswalk(counts, lookup, source="lad", target="ttwa", weight="w")
    >>> moved[["area", "value"]].to_dict("records")
    [{'area': 'T1', 'value': 25.0}, {'area': 'T2', 'value': 15.0}]
    """
    unmatched = check_policy("unmatched", unmatched, ("raise", "warn"))
    lookup_name = source_name(lookup)
    if not isinstance(lookup, pd.DataFrame):
        lookup = read_lookup(lookup)
    pairs = _lookup_pairs(lookup, source, target, weight, normalise, tolerance)
    counts = validate_counts(counts)

    is_matched = counts["area"].isin(pairs["source"])
    unmatched_codes = sorted(counts.loc[~is_matched, "area"].unique())
    if unmatched_codes:
        problem = f"count areas that are not in the lookup's {source!r} column" + code_hint(
            pd.Index(unmatched_codes), pd.Index(pairs["source"].unique())
        )
        if unmatched == "raise":
            raise CodesError(
                problem,
                rows=unmatched_codes,
                fix="add them to the lookup, check the code vintage, or pass "
                "unmatched='warn' to keep them out with a warning",
            )
        warn_user(
            f"{problem}, kept out of the result (listed in .attrs['unmatched']): "
            + _shown(unmatched_codes),
            UserWarning,
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
        "weighting": _weighting(lookup, weight),
    }
    set_aside = ()
    if unmatched_codes:
        reason = "areas not in the lookup (unmatched='warn')"
        set_aside = (SetAside(reason, tuple(unmatched_codes)),)
    record(
        ledger,
        InputAccount("crosswalk", lookup_name, len(counts), len(out), set_aside=set_aside),
    )
    return out


def _weighting(lookup: pd.DataFrame, weight: str | None) -> str:
    """How the lookup was weighted, from its ``weighting`` column when it has one."""
    if weight is None:
        return "none (one target per source)"
    if "weighting" in lookup.columns:
        return "; ".join(sorted(lookup["weighting"].astype(str).unique()))
    return f"column {weight!r}"


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


@options_were_positional("min_share", "unmatched", "source_code", "target_code")
def areal_lookup(
    source_areas,
    target_areas,
    *,
    min_share: float = 1e-6,
    unmatched: Literal["raise", "warn"] = "raise",
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
    unmatched : {"raise", "warn"}
        Sources that intersect no target: ``"raise"`` a CodesError naming
        them, or ``"warn"``: warn and list them in ``.attrs["unmatched"]``
        (``"report"``, the old spelling, works until 0.3 with a
        DeprecationWarning).
    source_code, target_code : str, optional
        Columns holding the codes, when not the index.

    Returns
    -------
    pandas.DataFrame
        Columns ``source, target, weight, coverage, weighting`` (``"area"``),
        sorted by source and target; ``.attrs`` holds ``"unmatched"`` and
        ``"min_share"``. Pass it to :func:`crosswalk` with
        ``source="source", target="target", weight="weight"``.

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
    [{'source': 'L', 'target': 'T1', 'weight': 0.5, 'coverage': 1.0, 'weighting': 'area'},
     {'source': 'L', 'target': 'T2', 'weight': 0.5, 'coverage': 1.0, 'weighting': 'area'}]
    """
    unmatched = check_policy("unmatched", unmatched, ("raise", "warn"))
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
        raise GeometryError(
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
    table = table[["source", "target", "weight", "coverage"]].assign(weighting="area")
    table = table.sort_values(["source", "target"], kind="stable").reset_index(drop=True)

    overlapping = coverage.index[coverage > 1 + 1e-6]
    if len(overlapping):
        warn_user(
            "target areas overlap inside these sources (coverage above 1), so the "
            "weights split them in proportion to overlapping areas: " + _shown(overlapping),
            UserWarning,
        )
    missing = sorted(set(source_ids) - set(table["source"]))
    if missing:
        problem = "source areas that intersect no target area"
        if unmatched == "raise":
            raise CodesError(
                problem,
                rows=missing,
                fix="check both layers cover the same territory, or pass unmatched='warn' "
                "and handle them yourself (for example with a nearest-target lookup)",
            )
        warn_user(f"{problem}: {_shown(missing)}", UserWarning)
    table.attrs["unmatched"] = missing
    table.attrs["min_share"] = min_share
    return table


def _check_crs(source_areas, target_areas) -> None:
    for role, frame in (("source", source_areas), ("target", target_areas)):
        if not hasattr(frame, "geometry"):
            raise InputError(f"the {role} areas are not a GeoDataFrame")
        crs = frame.crs
        if crs is None:
            raise CRSError(
                f"the {role} areas have no CRS",
                fix="set it with .set_crs(...) (EPSG:4326 for plain longitude/latitude)",
            )
        if not crs.is_projected:
            raise CRSError(
                f"the {role} areas are in a geographic CRS ({crs.to_string()}); "
                "areas need a projected CRS",
                fix="project both layers, e.g. .to_crs(27700) for Great Britain",
            )
    if not source_areas.crs.equals(target_areas.crs):
        raise CRSError(
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
        raise CodesError(
            f"duplicate {role} area codes",
            rows=sorted(codes[codes.duplicated()].unique()),
            fix="dissolve the duplicates into one geometry per code",
        )
    return codes.to_numpy(dtype=object)


def _polygons(frame, codes: np.ndarray, role: str) -> np.ndarray:
    geometries = np.asarray(frame.geometry.array, dtype=object)
    invalid = ~shapely.is_valid(geometries) | shapely.is_missing(geometries)
    if invalid.any():
        raise GeometryError(
            f"invalid or missing {role} geometries",
            rows=codes[invalid],
            fix="repair them, e.g. geoclusters.read_areas(..., repair=True) or shapely.make_valid",
        )
    return geometries


def _shown(codes) -> str:
    codes = list(codes)
    more = f" and {len(codes) - _SHOWN} more" if len(codes) > _SHOWN else ""
    return ", ".join(map(str, codes[:_SHOWN])) + more


POPULATION_PROXY = "population proxy (LSOA count)"
"""The ``weighting`` of :func:`population_lookup` rows."""

# "Tunbridge Wells 001A": the local authority's name, a three-digit MSOA
# number and a letter (England and Wales LSOA names, 2011 and 2021).
_LSOA_NAME = re.compile(r"^(?P<authority>.*\S)\s+(?P<msoa>\d{3})[A-Z]$")


def _load_lsoa_aliases() -> dict[str, tuple[str, ...]]:
    with (
        resources.files("geoclusters")
        .joinpath("data/lsoa_authority_names.csv")
        .open(encoding="utf-8") as handle
    ):
        table = pd.read_csv(handle, dtype=str, keep_default_na=False)
    return {name: tuple(rows["lsoa_name"]) for name, rows in table.groupby("authority", sort=False)}


LSOA_ALIASES: Mapping[str, tuple[str, ...]] = MappingProxyType(_load_lsoa_aliases())
"""The LSOA name prefixes of authorities whose LSOAs are not all named after them.

Shipped as ``data/lsoa_authority_names.csv`` (columns ``authority,
lsoa_name, kind``) and applied by :func:`population_lookup` by default:

- the unitary authorities of 1 April 2009 (Cornwall, County Durham,
  Northumberland, Shropshire, Wiltshire, Central Bedfordshire, Cheshire East,
  Cheshire West and Chester), whose 2011 LSOAs kept the names of the
  districts they replaced ("Caradon 001A", "Restormel 004B"); only the LSOAs
  created in 2011 carry the new name. The districts are those abolished by
  the structural change orders of 2008 made under the Local Government and
  Public Involvement in Health Act 2007 (ONS, "Local government restructuring
  2009");
- spellings of the ONS LSOA (2011) -> TTWA (2011) lookup that differ from
  ONS's authority names beyond case, punctuation and a ", City of" suffix:
  "The Vale of Glamorgan", and the four spellings of Rhondda Cynon Taf.

Authorities are named as in ONS's local authority district names of 2014 to
2023 (matched ignoring case, punctuation, "&"/"and", a leading "The" and a
", City of" or ", County of" suffix).
"""


def population_lookup(
    lsoa_lookup: pd.DataFrame | str | os.PathLike,
    *,
    source_names: Mapping[str, str] | pd.Series | None = None,
    lsoa: str = "LSOA11CD",
    lsoa_name: str = "LSOA11NM",
    target: str = "TTWA11CD",
    authority: str | None = None,
    aliases: Mapping[str, Sequence[str]] | None = None,
    fallback: pd.DataFrame | None = None,
    unmatched: Literal["raise", "warn"] = "raise",
    few: Literal["raise", "warn", "ignore", "fallback"] = "raise",
) -> pd.DataFrame:
    """Population-proxy lookup local authority -> target, from an LSOA lookup.

    LSOAs are drawn to hold roughly equal populations (about 1,500 people),
    so the share of a local authority's LSOAs that lie in a target area is a
    proxy for the share of its people, and of its businesses, there. Area
    weights (:func:`areal_lookup`) instead give a split rural authority's
    count mostly to whichever target holds most of its land. In England and
    Wales an LSOA's name is its local authority's name and a number
    (``"Tunbridge Wells 001A"``), which is how LSOAs are assigned to
    authorities here; the LSOAs of the 2009 unitary authorities carry the
    names of the districts they replaced, and a few authorities are spelled
    otherwise, which the built-in table :data:`LSOA_ALIASES` covers.

    Parameters
    ----------
    lsoa_lookup : pandas.DataFrame or path
        One row per LSOA with its code, name and target, such as the ONS
        LSOA (2011) -> TTWA (2011) lookup (read with :func:`read_lookup`).
    source_names : mapping or pandas.Series, optional
        ``{authority code: authority name}``, for example the ``name``
        column of local-authority areas from :func:`geoclusters.read_areas`.
        Names are matched ignoring case, punctuation and "&"/"and". Without
        it the sources are the authority names themselves (former districts
        and other spellings folded into the authority by the aliases).
    lsoa, lsoa_name, target : str
        Columns of ``lsoa_lookup``: LSOA code, LSOA name, target code.
    authority : str, optional
        A column of ``lsoa_lookup`` holding each LSOA's local authority
        (code or name), as ONS's LSOA -> LAD lookups and Scotland's data zone
        -> council lookups have; then LSOA names are not parsed, and it works
        for data zones too.
    aliases : mapping, optional
        ``{authority name or code: [LSOA name prefix, ...]}``: further LSOA
        names that belong to an authority besides its own name, such as
        ``{"Cornwall": ["Caradon", "Carrick", ...]}``. They extend the
        built-in :data:`LSOA_ALIASES`; an authority given here replaces its
        built-in entry (an empty list leaves it with its own name only).
    fallback : pandas.DataFrame, optional
        A lookup with columns ``source, target, weight`` (and ideally
        ``weighting``), such as :func:`areal_lookup`'s, used for the sources
        whose name matches no LSOA: authorities created or renamed after the
        LSOAs were named (2023 unitary authorities against 2011 LSOAs), and
        Scottish and Northern Irish ones (data zones and SOAs are not named
        after their council); and with ``few="fallback"`` for the authorities
        that match too few LSOAs. Their rows keep the fallback's
        ``weighting``.
    unmatched : {"raise", "warn"}
        Sources whose name matches no LSOA and that ``fallback`` does not
        cover: raise a CodesError naming them, or warn and leave them out
        (listed in ``.attrs["unmatched"]``).
    few : {"raise", "warn", "ignore", "fallback"}, default "raise"
        What to do with an authority that matches fewer LSOAs than their own
        names imply it has: MSOAs are numbered from 001 within an authority
        and hold at least one LSOA each, so LSOAs named up to "Cornwall 034E"
        mean at least 34 LSOAs; matching 4 of them is the sign of LSOAs named
        after former districts or spelled otherwise, which
        :data:`LSOA_ALIASES` or ``aliases`` should name. ``"raise"`` an
        InputError naming them, ``"warn"`` and keep their weights,
        ``"ignore"`` and keep them, or ``"fallback"``: weight them by the
        ``fallback`` lookup instead, with a warning. Listed in
        ``.attrs["few"]`` in every case. There is no absolute floor: the
        City of London (6 LSOAs) and the Isles of Scilly (1) are complete.
        With ``authority=`` the column states each LSOA's authority and
        there is nothing to check.

    Returns
    -------
    pandas.DataFrame
        Columns ``source, target, weight, lsoas, weighting``: ``weight`` is
        the share of the source's LSOAs in the target (each source's weights
        sum to 1), ``lsoas`` the number of them (NaN on fallback rows),
        ``weighting`` ``"population proxy (LSOA count)"`` or the fallback's.
        ``.attrs`` lists ``"fallback"`` (sources weighted by the fallback),
        ``"unmatched"``, ``"unnamed_lsoas"`` (LSOAs whose names carry no
        authority, such as Scottish data zones), ``"lsoa_names"`` (each
        proxy-weighted source's LSOA name prefixes) and ``"few"`` (``{source:
        LSOAs matched}`` of the authorities that matched too few). Pass it to
        :func:`crosswalk` with ``source="source", target="target",
        weight="weight"``.

    Raises
    ------
    InputError
        For missing columns, an LSOA lookup in which no name carries an
        authority's name, or authorities matching too few LSOAs with
        ``few="raise"``.
    CodesError
        For unmatched sources with ``unmatched="raise"``.

    Examples
    --------
    >>> import pandas as pd
    >>> lsoas = pd.DataFrame({
    ...     "LSOA11CD": ["E1", "E2", "E3", "E4"],
    ...     "LSOA11NM": ["Wealden 001A", "Wealden 001B", "Wealden 002A", "Hastings 001A"],
    ...     "TTWA11CD": ["T-Eastbourne", "T-Eastbourne", "T-Tunbridge", "T-Hastings"]})
    >>> population_lookup(lsoas, source_names={"E07000065": "Wealden",
    ...                                        "E07000062": "Hastings"})[["source", "target", "weight"]]
          source        target    weight
    0  E07000062    T-Hastings  1.000000
    1  E07000065  T-Eastbourne  0.666667
    2  E07000065   T-Tunbridge  0.333333
    """  # noqa: E501
    unmatched = check_policy("unmatched", unmatched, ("raise", "warn"))
    few = check_policy("few", few, ("raise", "warn", "ignore", "fallback"))
    if few == "fallback" and fallback is None:
        raise InputError(
            "few='fallback' needs a fallback lookup",
            fix="pass fallback=areal_lookup(authorities, targets)",
        )
    if not isinstance(lsoa_lookup, pd.DataFrame):
        lsoa_lookup = read_lookup(lsoa_lookup)
    wanted = (lsoa, authority if authority is not None else lsoa_name, target)
    absent = [c for c in wanted if c not in lsoa_lookup.columns]
    if absent:
        raise InputError(
            f"the LSOA lookup lacks the columns {absent}",
            fix=f"name them with lsoa=, lsoa_name= (or authority=), target=; its columns: "
            f"{list(lsoa_lookup.columns)}",
        )
    rows = lsoa_lookup[list(dict.fromkeys(wanted))].astype("string")
    rows = rows.apply(lambda column: column.str.strip()).drop_duplicates([lsoa, target])
    split = rows[lsoa][rows[lsoa].duplicated()].unique()
    if len(split):
        raise CodesError(
            "LSOAs listed in more than one target: a population proxy needs a best-fit "
            "lookup (one target per LSOA)",
            rows=sorted(split),
            fix="keep one row per LSOA (the target holding most of it)",
        )
    if authority is not None:
        owner = rows[authority].where(rows[authority] != "")
        msoa = pd.Series(np.nan, index=rows.index)
    else:
        parts = rows[lsoa_name].str.extract(_LSOA_NAME)
        owner, msoa = parts["authority"], pd.to_numeric(parts["msoa"])
    unnamed = rows.loc[owner.isna(), lsoa].astype(str).tolist()
    if len(unnamed) == len(rows):
        raise InputError(
            "no LSOA name in the lookup carries a local authority's name "
            "(expected names such as 'Tunbridge Wells 001A')",
            fix="use the England and Wales LSOA lookup, pass authority='<column>' if the "
            "lookup names each LSOA's authority, or use area weights (areal_lookup)",
        )
    named = pd.DataFrame({"prefix": owner, "target": rows[target], "msoa": msoa})
    named = named[owner.notna()].astype({"prefix": str, "target": str})
    by_prefix = named.groupby(["prefix", "target"]).size().rename("lsoas").reset_index()
    # MSOAs are numbered 001 upwards within an authority and each holds at least one
    # LSOA, so the highest number is a floor on the LSOAs an authority name has
    implied = named.groupby("prefix")["msoa"].max()

    table_of_aliases = _alias_table(aliases)
    prefixes_by_key: dict[str, list[str]] = {}
    for prefix in implied.index:
        prefixes_by_key.setdefault(_name_key(prefix), []).append(prefix)

    if source_names is None:
        owner_of = {p: name for name, ps in table_of_aliases.values() for p in ps}
        members: dict[str, list[str]] = {}
        for prefix in implied.index:
            members.setdefault(owner_of.get(_name_key(prefix), prefix), []).append(prefix)
        names = pd.Series({source: source for source in members}, dtype="string")
    else:
        names = pd.Series(source_names, dtype="string").astype(str)
        names.index = names.index.astype(str)
        members = {}
        for code, name in names.items():
            key = _name_key(name)
            keys = dict.fromkeys([key, *table_of_aliases.get(key, ("", ()))[1]])
            found = [p for k in keys for p in prefixes_by_key.get(k, [])]
            if found:
                members[code] = list(dict.fromkeys(found))
    assigned = pd.DataFrame(
        [(source, prefix) for source, ps in members.items() for prefix in ps],
        columns=["source", "prefix"],
    )
    table = assigned.merge(by_prefix, on="prefix")
    table = table.groupby(["source", "target"], as_index=False)["lsoas"].sum()
    lsoas = table.groupby("source")["lsoas"].sum()
    table["weight"] = table["lsoas"] / table["source"].map(lsoas)
    table["lsoas"] = table["lsoas"].astype(float)

    floor = assigned["prefix"].map(implied).groupby(assigned["source"])
    expected = floor.sum(min_count=1).reindex(lsoas.index)
    short = lsoas < expected
    too_few = {str(s): int(lsoas[s]) for s in lsoas.index[short]}

    without = sorted(set(names.index) - set(lsoas.index))
    swapped = sorted(too_few) if few == "fallback" else []
    fallback_sources: list[str] = []
    if (without or swapped) and fallback is not None:
        table = table[~table["source"].isin(swapped)]
        extra = _fallback_rows(fallback, without + swapped)
        fallback_sources = sorted(extra["source"].unique())
        table = pd.concat([table, extra], ignore_index=True)
    missing = sorted(set(without + swapped) - set(fallback_sources))
    if "weighting" not in table:
        table["weighting"] = POPULATION_PROXY
    table["weighting"] = table["weighting"].fillna(POPULATION_PROXY)
    table = table[["source", "target", "weight", "lsoas", "weighting"]]
    table = table.sort_values(["source", "target"], kind="stable").reset_index(drop=True)
    if too_few and few != "ignore":
        _report_few(too_few, expected, names, members, few, set(fallback_sources))
    if missing:
        problem = (
            "local authorities whose name matches no LSOA name (or too few, with "
            "few='fallback') and no fallback row"
        )
        if unmatched == "raise":
            raise CodesError(
                problem,
                rows=missing,
                fix="pass fallback=areal_lookup(authorities, targets) to weight them by area "
                "(reported in the weighting column), pass aliases={name: [LSOA names]} if "
                "their LSOAs carry other names, check the names' vintage, or pass "
                "unmatched='warn' to leave them out",
            )
        warn_user(f"{problem}, left out: {_shown(missing)}", UserWarning)
    unnamed_fallback = sorted(set(fallback_sources) - set(swapped))
    if unnamed_fallback:
        warn_user(
            f"{len(unnamed_fallback)} local authorities match no LSOA name and are weighted by "
            f"the fallback lookup instead (see the weighting column): {_shown(unnamed_fallback)}",
            UserWarning,
        )
    proxied = set(table.loc[table["weighting"] == POPULATION_PROXY, "source"])
    table.attrs["fallback"] = fallback_sources
    table.attrs["unmatched"] = missing
    table.attrs["unnamed_lsoas"] = len(unnamed)
    table.attrs["lsoa_names"] = {s: members[s] for s in sorted(proxied)}
    table.attrs["few"] = too_few
    return table


def _alias_table(
    aliases: Mapping[str, Sequence[str]] | None,
) -> dict[str, tuple[str, tuple[str, ...]]]:
    """``{name key: (authority name, LSOA name keys)}``: the built-in aliases, then the user's."""
    if aliases is not None and not isinstance(aliases, Mapping):
        raise InputError(
            "aliases must map authority names to lists of LSOA names, "
            f"not be a {type(aliases).__name__}",
            fix="pass aliases={'Cornwall': ['Caradon', 'Carrick']}",
        )
    merged = {_name_key(name): (name, prefixes) for name, prefixes in LSOA_ALIASES.items()}
    for name, prefixes in (aliases or {}).items():
        if isinstance(prefixes, str) or not all(isinstance(p, str) for p in prefixes):
            raise InputError(
                f"aliases[{name!r}] is not a list of LSOA names",
                fix=f"pass aliases={{{name!r}: ['<LSOA name without its number>', ...]}}",
            )
        merged[_name_key(name)] = (str(name), tuple(prefixes))
    return {key: (name, tuple(map(_name_key, ps))) for key, (name, ps) in merged.items()}


def _report_few(too_few, expected, names, members, few, fell_back) -> None:
    """Refuse or warn about authorities that match fewer LSOAs than they must have."""
    described = []
    for source, found in too_few.items():
        label = names[source] if names[source] == source else f"{names[source]} ({source})"
        shown = ", ".join(repr(p) for p in members[source])
        described.append(
            f"{label}: {found} LSOAs named {shown}, whose MSOA numbers imply at least "
            f"{int(expected[source])}"
        )
    problem = (
        "local authorities that match too few LSOAs to be all of them (their LSOAs are "
        "probably named after former districts or spelled otherwise): " + "; ".join(described)
    )
    fix = (
        "pass aliases={'<authority>': ['<LSOA name without its number>', ...]} naming the "
        "LSOA names that belong to them, or few='fallback' with fallback=areal_lookup(...) to "
        "weight them by area, or few='warn' to keep these weights"
    )
    if few == "raise":
        raise InputError(problem, rows=list(too_few), fix=fix)
    if few == "fallback":
        # those the fallback lacks are reported with the unmatched authorities
        weighted = sorted(set(too_few) & fell_back)
        if weighted:
            warn_user(
                f"{problem}; weighted by the fallback lookup instead: {_shown(weighted)}",
                UserWarning,
            )
        return
    warn_user(f"{problem}; their weights are kept. What to do: {fix}", UserWarning)


def _name_key(name: str) -> str:
    """A name for matching: lower case, '&' as 'and', no punctuation or doubled spaces.

    ONS writes "Bristol, City of" and "Herefordshire, County of" for the
    authorities whose LSOAs are "Bristol 001A" and "Herefordshire 001A", and
    "The Vale of Glamorgan 001A" for the Vale of Glamorgan.
    """
    text = str(name).casefold().replace("&", " and ")
    text = re.sub(r",\s*(city|county) of\s*$", "", text)
    text = re.sub(r"^(the|city of)\s+", "", text)
    text = re.sub(r"[^\w]+", " ", text)
    return " ".join(text.split())


def _fallback_rows(fallback: pd.DataFrame, sources: list[str]) -> pd.DataFrame:
    absent = [c for c in ("source", "target", "weight") if c not in fallback.columns]
    if absent:
        raise InputError(
            f"the fallback lookup lacks the columns {absent}",
            fix="pass a lookup such as areal_lookup's (source, target, weight)",
        )
    rows = fallback[fallback["source"].astype(str).isin(sources)]
    out = rows[["source", "target", "weight"]].astype({"source": str, "target": str})
    out["lsoas"] = np.nan
    if "weighting" in rows:
        out["weighting"] = rows["weighting"].astype(str).to_numpy()
    else:
        out["weighting"] = "fallback"
    return out
