"""How robust each cluster and conurbation is: detection and merging re-run many times.

A cluster that appears only at one size floor, or that a count rounded the
other way would remove, is fragile; a planner should know before drawing a
boundary round it. :func:`sensitivity` re-runs detection and the conurbation
merge many times, each run with

- one point of a parameter **grid** (the size quantile and top-N of the Nesta
  rule, the LQ floor of the threshold rule, the significance level of hot
  spots, the choice of years in each period), the grid's points taken in a
  seeded random order and cycled through;
- a **perturbation** of the counts that respects disclosure control: a count
  published rounded to 5 is redrawn within +/-2 of its published value (the
  true count could be any of those), and small counts get Poisson noise (a
  count of 3 businesses could as well have been 1 or 6).

and reports how often each area is a cluster, of which type, how often each
pair of areas shares a conurbation, and how stable each conurbation of the
unperturbed run is: the adjusted Rand index between its neighbourhood in that
run and in each perturbed run, averaged.
"""

from __future__ import annotations

import inspect
import itertools
import sys
import types
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import geopandas as gpd
import numpy as np
import pandas as pd

from ._results import html_table
from .conurbations import merge_conurbations
from .counts import validate_counts
from .detect import detect_hotspots, detect_nesta2016, detect_thresholds, typology
from .errors import InputError, check_choice
from .measures import prepare
from .provenance import Provenance

__all__ = ["Sensitivity", "adjusted_rand_index", "perturb_counts", "sensitivity"]

DETECTORS = {
    "nesta2016": detect_nesta2016,
    "thresholds": detect_thresholds,
    "hotspots": detect_hotspots,
}
PERTURBATIONS = ("rounding", "poisson")
TYPE_SHARES = {
    "high concentration": "concentration_share",
    "high growth": "growth_share",
    "both": "both_share",
}


@dataclass(frozen=True, repr=False, eq=False)
class Sensitivity:
    """How often each area is a cluster, each pair shares a conurbation, and how stable
    each conurbation is, over the runs of :func:`sensitivity`.

    Attributes
    ----------
    areas : pandas.DataFrame
        Indexed by area (every area): ``name``, ``runs``, ``cluster_share``
        (share of the runs in which it is a cluster), ``concentration_share``,
        ``growth_share``, ``both_share`` (of which type: they sum to
        ``cluster_share``), ``robust`` (a cluster in at least the ``robust``
        share of runs) and ``baseline`` (its type in the unperturbed run).
    pairs : pandas.DataFrame
        ``a, b, together_share``: every pair of areas in one conurbation in
        at least one run (``a`` < ``b``), and the share of runs in which they
        are; most often together first.
    conurbations : pandas.DataFrame
        The conurbations of the unperturbed run: ``conurbation``, ``name``,
        ``members`` (codes joined by ";") and ``stability``, the mean over the
        runs of the adjusted Rand index between the conurbation and what its
        members and their run-partners form in the run (1: always the same
        conurbation; 0: no better than chance; a conurbation whose members
        all drop out of the clusters scores 0).
    params : dict
        The grid, perturbations, runs, seed and options.
    provenance : geoclusters.provenance.Provenance
    """

    areas: pd.DataFrame
    pairs: pd.DataFrame
    conurbations: pd.DataFrame
    params: dict[str, Any] = field(default_factory=dict)
    provenance: Provenance | None = None

    def __repr__(self) -> str:
        clusters = int((self.areas["cluster_share"] > 0).sum())
        robust = int(self.areas["robust"].sum())
        return (
            f"Sensitivity({self.params.get('runs')} runs: {robust} robust of {clusters} areas "
            f"ever a cluster, {len(self.conurbations)} conurbations)"
        )

    def _repr_html_(self) -> str:
        rows = [
            ("runs", self.params.get("runs")),
            ("areas ever a cluster", int((self.areas["cluster_share"] > 0).sum())),
            ("robust clusters", int(self.areas["robust"].sum())),
            *(
                (f"{key}: {row['name']}", f"stability {row['stability']:.2f}")
                for key, row in self.conurbations.set_index("conurbation").head(10).iterrows()
            ),
        ]
        return html_table("Sensitivity", rows)


def sensitivity(
    areas: gpd.GeoDataFrame,
    counts: pd.DataFrame,
    graph=None,
    *,
    grid: Mapping[str, Sequence] | None = None,
    perturbations: Sequence[Literal["rounding", "poisson"]] = PERTURBATIONS,
    runs: int = 20,
    seed: int = 0,
    progress: bool = True,
    method: Literal["nesta2016", "thresholds", "hotspots"] = "nesta2016",
    options: Mapping[str, Any] | None = None,
    groups="nesta2016",
    periods=None,
    flows: pd.DataFrame | None = None,
    conurbations: Mapping[str, Any] | None = None,
    small: float = 10,
    robust: float = 0.8,
    _validated: bool = False,
) -> Sensitivity:
    """Re-run detection and merging over a parameter grid and perturbed counts.

    Parameters
    ----------
    areas : geopandas.GeoDataFrame
        Areas indexed by code with ``name`` and geometry.
    counts : pandas.DataFrame
        Tidy counts with totals, as published (before grouping and period
        averaging: the perturbations act on published cells).
    graph : libpysal.graph.Graph, optional
        Neighbours for merging (and hot spots); queen contiguity of
        ``areas`` by default.
    grid : mapping, optional
        Parameter name -> values tried: any option of the detector
        (``quantile``, ``top_n`` for ``"nesta2016"``; ``lq_min``,
        ``count_min`` for ``"thresholds"``; ``alpha`` for ``"hotspots"``)
        and ``periods`` (the period specifications tried). By default the
        detector's main option around its base value (quantile +/-0.05,
        top-N +/-2, LQ floor x0.9 and x1.1, alpha /5 and x2) and, when the
        periods are spans of several years, each span without its first or
        last year.
    perturbations : sequence of {"rounding", "poisson"}
        ``"rounding"``: counts published rounded to ``r`` (``rounded_to``;
        5 for the ONS business counts) are redrawn uniformly within
        +/-``r // 2`` of the published value, floored at 0. ``"poisson"``:
        counts up to ``small`` are redrawn from a Poisson distribution with
        that mean. Empty: only the grid varies.
    runs : int, default 20
        Number of perturbed runs.
    seed : int, default 0
        The same seed gives exactly the same result.
    progress : bool, default True
        Show a progress bar (tqdm) on standard error.
    method : {"nesta2016", "thresholds", "hotspots"}, default "nesta2016"
        The detector.
    options : mapping, optional
        The detector's base options (e.g. ``{"quantile": 0.75, "top_n": 10}``;
        for hot spots fewer ``permutations`` keep it quick).
    groups, periods
        Sector groups and the two periods (spans or labels), as for the
        detectors; ``periods`` is required.
    flows : pandas.DataFrame, optional
        Commuting, for the link strengths (``origin, destination, count``).
    conurbations : mapping, optional
        Options of :func:`geoclusters.merge_conurbations` (``method``,
        ``min_strength``, ``hubs``, ...).
    small : float, default 10
        Largest count given Poisson noise.
    robust : float, default 0.8
        Share of runs in which an area must be a cluster to be ``robust``.

    Returns
    -------
    Sensitivity
        ``.areas``, ``.pairs``, ``.conurbations``, ``.params``,
        ``.provenance``.

    Raises
    ------
    InputError
        For unknown grid parameters or perturbations, ``runs`` < 1, or no
        periods.

    Examples
    --------
    >>> from geoclusters.datasets import demo_region
    >>> region = demo_region(seed=0)
    >>> result = sensitivity(region.areas, region.counts, runs=3, progress=False,
    ...                      periods={"early": [2007, 2008, 2009], "late": [2012, 2013, 2014]})
    >>> planted = list(region.planted["conurbation"])
    >>> bool(result.areas.loc[planted, "cluster_share"].min() > 0)
    True
    """
    check_choice("method", method, tuple(DETECTORS))
    unknown = sorted(set(perturbations) - set(PERTURBATIONS))
    if unknown:
        raise InputError("unknown perturbations", rows=unknown, fix=f"use {PERTURBATIONS}")
    if isinstance(runs, bool) or not isinstance(runs, int) or runs < 1:
        raise InputError(f"runs={runs!r}: the number of runs is a whole number >= 1")
    if not 0 < robust <= 1:
        raise InputError(f"robust={robust!r} is a share of runs in (0, 1]")
    if periods is None:
        raise InputError(
            "sensitivity needs the two periods", fix="pass periods=(first, second) or two spans"
        )
    if not _validated:
        counts = validate_counts(counts)
    if graph is None:
        from .graph import contiguity

        graph = contiguity(areas)
    detector = DETECTORS[method]
    base = dict(options or {})
    points = _grid_points(detector, method, base, grid, periods)
    merge_options = dict(conurbations or {})
    merge_options.pop("_validated", None)
    # commuting is data: it comes as flows=, not among the options
    merge_options.pop("flows", None)
    names = areas["name"].astype(str)
    names.index = names.index.astype(str)

    def one_run(frame: pd.DataFrame, point: dict[str, Any]):
        spec = point.pop("periods", periods)
        table, start, end = prepare(frame, groups, spec, _validated=True)
        extra = {"graph": graph} if method == "hotspots" else {}
        found = detector(
            areas,
            table,
            groups=None,
            periods=[start, end],
            _validated=True,
            **extra,
            **{**base, **point},
        )
        kinds = typology(areas, found)["cluster_type"]
        if found.selections.empty:
            return kinds, pd.Series(dtype=object), None
        merged = merge_conurbations(
            areas, table, graph, found, flows=flows, _validated=True, **merge_options
        )
        members = {
            code: key for key, text in merged.table["members"].items() for code in text.split(";")
        }
        return kinds, pd.Series(members, dtype=object), merged.table

    base_kinds, _, base_table = one_run(counts, {})

    seeds = np.random.SeedSequence(seed)
    order = np.random.default_rng(seeds.spawn(1)[0]).permutation(len(points))
    streams = seeds.spawn(runs)
    tally = pd.DataFrame(0, index=names.index, columns=list(TYPE_SHARES.values()))
    together: dict[tuple[str, str], int] = {}
    partitions = []
    from tqdm.auto import tqdm

    for index in tqdm(range(runs), desc="sensitivity", disable=not progress, file=sys.stderr):
        rng = np.random.default_rng(streams[index])
        frame = perturb_counts(counts, rng, perturbations=perturbations, small=small)
        kinds, members, _ = one_run(frame, dict(points[order[index % len(points)]]))
        for kind, column in TYPE_SHARES.items():
            tally[column] += (kinds.reindex(tally.index) == kind).to_numpy()
        for _, codes in members.groupby(members).groups.items():
            for a, b in itertools.combinations(sorted(map(str, codes)), 2):
                together[(a, b)] = together.get((a, b), 0) + 1
        partitions.append(members)

    shares = tally / runs
    out = pd.DataFrame({"name": names, "runs": runs})
    out = out.join(shares)
    out.insert(2, "cluster_share", shares.sum(axis=1))
    out["robust"] = out["cluster_share"] >= robust - 1e-12
    out["baseline"] = base_kinds.reindex(out.index).fillna("none")
    out.index.name = "area"
    pairs = pd.DataFrame(
        [(a, b, n / runs) for (a, b), n in together.items()], columns=["a", "b", "together_share"]
    )
    pairs = pairs.sort_values(["together_share", "a", "b"], ascending=[False, True, True])
    stability = []
    if base_table is not None:
        for key, row in base_table.iterrows():
            codes = row["members"].split(";")
            score = np.mean([_local_ari(codes, key, m) for m in partitions])
            stability.append((key, row["name"], row["members"], float(score)))
    table = pd.DataFrame(stability, columns=["conurbation", "name", "members", "stability"])
    parameters = {
        "runs": runs,
        "seed": seed,
        "grid": {key: list(values) for key, values in _grid(method, base, grid, periods).items()},
        "perturbations": list(perturbations),
        "method": method,
        "options": base,
        "groups": groups,
        "periods": periods,
        "conurbations": merge_options,
        "flows": flows is not None,
        "small": small,
        "robust": robust,
    }
    provenance = Provenance.record("sensitivity", parameters, areas=names, counts=counts)
    return Sensitivity(
        areas=out,
        pairs=pairs.reset_index(drop=True),
        conurbations=table,
        params=dict(provenance.parameters),
        provenance=provenance,
    )


def perturb_counts(
    counts: pd.DataFrame,
    rng: np.random.Generator,
    *,
    perturbations: Sequence[str] = PERTURBATIONS,
    small: float = 10,
) -> pd.DataFrame:
    """One draw of counts that disclosure control could have published as these.

    Parameters
    ----------
    counts : pandas.DataFrame
        Valid tidy counts (with ``rounded_to``).
    rng : numpy.random.Generator
    perturbations : sequence of {"rounding", "poisson"}
        See :func:`sensitivity`.
    small : float, default 10
        Largest count given Poisson noise.

    Returns
    -------
    pandas.DataFrame
        The same rows, values redrawn; missing values stay missing.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> counts = pd.DataFrame({"value": [100.0, 5.0, np.nan], "rounded_to": [5, 5, 5]})
    >>> out = perturb_counts(counts, np.random.default_rng(0), perturbations=["rounding"])
    >>> bool(((out["value"] - counts["value"]).abs().fillna(0) <= 2).all())
    True
    """
    values = counts["value"].to_numpy(dtype=float).copy()
    known = np.isfinite(values)
    if "rounding" in perturbations:
        base = pd.to_numeric(counts.get("rounded_to", 1), errors="coerce")
        half = np.floor(np.asarray(base, dtype=float) / 2)
        half = np.where(np.isfinite(half), half, 0) * np.ones(len(values))
        shift = np.floor(rng.uniform(-half, half + 1))
        values = np.where(known & (half > 0), np.maximum(values + shift, 0), values)
    if "poisson" in perturbations:
        low = known & (values <= small)
        values[low] = rng.poisson(values[low])
    return counts.assign(value=values)


def adjusted_rand_index(left: Sequence, right: Sequence) -> float:
    """The adjusted Rand index of two labellings of the same items (Hubert and Arabie, 1985).

    1 for identical partitions, about 0 for independent ones; when neither
    partition has a pair together or both put everything in one group, 1.

    Examples
    --------
    >>> adjusted_rand_index(["a", "a", "b", "b"], [1, 1, 2, 2])
    1.0
    >>> round(adjusted_rand_index(["a", "a", "b", "b"], [1, 2, 1, 2]), 6)
    -0.5
    """
    if len(left) != len(right):
        raise InputError(f"two labellings of different lengths: {len(left)} and {len(right)}")
    table = pd.crosstab(pd.Series(list(left)), pd.Series(list(right))).to_numpy()

    def pairs(x):
        return (x * (x - 1) / 2).sum()

    index = pairs(table)
    rows, columns = pairs(table.sum(axis=1)), pairs(table.sum(axis=0))
    total = pairs(np.array([table.sum()]))
    expected = rows * columns / total if total else 0.0
    maximum = (rows + columns) / 2
    if maximum == expected:
        return 1.0
    return float((index - expected) / (maximum - expected))


def _local_ari(codes, key, members: pd.Series) -> float:
    """ARI of a baseline conurbation against a run's conurbations (area -> id), over its
    members and their partners in the run."""
    partners = set(codes)
    for code in codes:
        if code in members.index:
            partners |= set(members.index[members == members[code]])
    items = sorted(partners)
    base = [key if code in codes else f"_{code}" for code in items]
    # areas in no conurbation of the run are each alone; areas in none at all, too
    after = [members[code] if code in members.index else f"_{code}" for code in items]
    return adjusted_rand_index(base, after)


def _grid(method, base, grid, periods) -> dict[str, list]:
    if grid is not None:
        return {key: list(values) for key, values in grid.items()}
    if method == "nesta2016":
        quantile = base.get("quantile", 0.75)
        top_n = base.get("top_n", 10)
        out = {
            "quantile": sorted({max(0.0, quantile - 0.05), quantile, min(1.0, quantile + 0.05)}),
            "top_n": sorted({max(1, top_n - 2), top_n, top_n + 2}),
        }
    elif method == "thresholds":
        lq_min = base.get("lq_min", 1.25)
        out = {"lq_min": [round(lq_min * 0.9, 4), lq_min, round(lq_min * 1.1, 4)]}
    else:
        alpha = base.get("alpha", 0.05)
        out = {"alpha": [alpha / 5, alpha, min(0.5, alpha * 2)]}
    choices = _period_choices(periods)
    if len(choices) > 1:
        out["periods"] = choices
    return out


def _period_choices(periods) -> list:
    """The periods as given, and each span without its first or last year."""
    if not isinstance(periods, Mapping):
        return [periods]
    spans = {label: list(years) for label, years in periods.items()}
    if any(len(years) < 2 for years in spans.values()):
        return [periods]
    return [
        periods,
        {label: years[1:] for label, years in spans.items()},
        {label: years[:-1] for label, years in spans.items()},
    ]


def _grid_points(detector, method, base, grid, periods) -> list[dict[str, Any]]:
    full = _grid(method, base, grid, periods)
    allowed = {
        name
        for name, parameter in inspect.signature(detector).parameters.items()
        if parameter.kind is parameter.KEYWORD_ONLY and not name.startswith("_")
    } - {"groups", "client", "measures"}
    unknown = sorted(set(full) - allowed)
    if unknown:
        raise InputError(
            f"grid parameters that {detector.__name__} does not take",
            rows=unknown,
            fix=f"use some of {sorted(allowed)}",
        )
    empty = sorted(key for key, values in full.items() if not len(values))
    if empty:
        raise InputError("grid parameters without values", rows=empty)
    keys = list(full)
    return [dict(zip(keys, values, strict=True)) for values in itertools.product(*full.values())]


class _CallableModule(types.ModuleType):
    """``geoclusters.sensitivity`` is both this module and the function: importing the
    module binds the package attribute to it, so calling it must still run the function."""

    def __call__(self, *args, **kwargs) -> Sensitivity:
        return sensitivity(*args, **kwargs)


sys.modules[__name__].__class__ = _CallableModule
