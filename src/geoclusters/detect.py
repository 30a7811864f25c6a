"""Cluster detection and typology.

Three detectors share one output shape, a *selections* table with one row per
area, measure, sector group and criterion that selected it:

``area, name, method, criterion, measure, group, metric, rank, value,
threshold, size, size_threshold``

- ``criterion`` is the dimension of the selection: ``"concentration"`` (the
  area is specialised now) or ``"growth"`` (its specialisation is growing);
- ``metric`` names what ``value`` is (``"lq"``, ``"lq_change"``, a statistic);
- ``rank`` is the area's rank on that metric among the eligible areas (1 is
  best); ``threshold`` the cut-off it passed (the n-th value for a top-n rule,
  the LQ floor for a threshold rule, alpha for a statistical test);
- ``size`` and ``size_threshold`` are the count and the size floor used to
  decide eligibility (missing where there is no size rule).

The typology then types every area: ``"high concentration"``,
``"high growth"``, ``"both"`` or ``"none"``, with the groups behind each type.

Ties at a top-n cut-off are all kept (rank by the "min" method): dropping one
of two equal areas would depend on row order, which carries no meaning.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd

from ._labels import HOT
from ._results import FrameForwarding, deprecated_order, html_table, is_selections
from .counts import check_area_codes, validate_counts
from .errors import InputError, check_choice
from .measures import NESTA_2016_PERIODS, metrics, prepare
from .provenance import Provenance

SELECTION_COLUMNS = [
    "area",
    "name",
    "method",
    "criterion",
    "measure",
    "group",
    "metric",
    "rank",
    "value",
    "threshold",
    "size",
    "size_threshold",
]
TYPES = ("high concentration", "high growth", "both", "none", "no data")


@dataclass(frozen=True, repr=False, eq=False)
class Detection(FrameForwarding):
    """What a detector found, and what it was found from.

    Attributes
    ----------
    selections : pandas.DataFrame
        One row per area, measure, group and criterion that selected it (the
        columns of :data:`SELECTION_COLUMNS`, see the module docstring).
    metrics : pandas.DataFrame
        The long per-area metrics the rule read
        (:func:`geoclusters.measures.metrics`).
    start, end : str
        The first and second period.
    params : dict
        Every parameter of the detector.
    provenance : geoclusters.provenance.Provenance

    Notes
    -----
    Detectors returned the selections DataFrame itself in 0.1; indexing a
    Detection, ``len``, ``.columns`` and other DataFrame attributes still reach
    ``.selections`` with a DeprecationWarning until 0.3.
    """

    selections: pd.DataFrame
    metrics: pd.DataFrame
    start: str
    end: str
    params: dict[str, Any] = field(default_factory=dict)
    provenance: Provenance | None = None

    _frame_name = "selections"

    @property
    def method(self) -> str:
        """The detector's method label (``"nesta2016"``, ``"thresholds"``, ...)."""
        return str(self.params.get("method", ""))

    def to_frame(self) -> pd.DataFrame:
        """The selections table."""
        return self.selections

    def __bool__(self) -> bool:
        return True

    def __repr__(self) -> str:
        areas = self.selections["area"].nunique()
        return (
            f"Detection({self.provenance.step if self.provenance else ''}: "
            f"{len(self.selections)} selections of {areas} areas, periods {self.start}->{self.end})"
        )

    def _repr_html_(self) -> str:
        return html_table(
            "Detection",
            [
                ("step", self.provenance.step if self.provenance else ""),
                ("selections", len(self.selections)),
                ("areas selected", self.selections["area"].nunique()),
                ("periods", f"{self.start} → {self.end}"),
                *((k, v) for k, v in self.params.items() if k not in ("groups",)),
            ],
        )


def detect_nesta2016(
    areas,
    counts: pd.DataFrame,
    *,
    groups="nesta2016",
    periods=NESTA_2016_PERIODS,
    quantile: float = 0.75,
    top_n: int = 10,
    measures: Sequence[str] | None = None,
    _validated: bool = False,
) -> Detection:
    """Select clusters with the rule of Nesta's 2016 *Geography of Creativity*.

    For each measure and sector group: *concentration* candidates are areas
    whose second-period count is at or above the ``quantile`` of all areas'
    second-period counts; the ``top_n`` by second-period LQ are selected.
    *Growth* candidates are areas whose first-period count is at or above the
    ``quantile`` of first-period counts; the ``top_n`` by relative LQ change
    (LQ2 / LQ1 − 1) are selected. The clusters are the union.

    Parameters
    ----------
    areas : geopandas.GeoDataFrame or pandas.Series
        Areas indexed by code with a ``name`` column (or a Series of names).
        Every area must have counts and every count an area.
    counts : pandas.DataFrame
        Tidy counts with all-industry totals.
    groups : "nesta2016", mapping or None
        Sector groups, see :func:`geoclusters.measures.prepare`.
    periods : mapping or pair
        The two periods, see :func:`geoclusters.measures.prepare`.
    quantile : float, default 0.75
        Size floor as a quantile of the counts (linear interpolation, as
        :func:`numpy.quantile`); areas with a missing count are not eligible
        and do not enter the quantile.
    top_n : int, default 10
        How many areas each measure, group and criterion selects (more when
        tied at the cut-off).
    measures : sequence of str, optional
        Restrict to these measures.

    Returns
    -------
    Detection
        The selections (see the module docstring) in ``.selections``, the
        metrics they were chosen on, the periods, parameters and provenance.

    Examples
    --------
    >>> import pandas as pd
    >>> rows = []
    >>> for area, film in [("A", 30), ("B", 10), ("C", 5), ("D", 8)]:
    ...     for period, scale in [("1", 1), ("2", 2)]:
    ...         rows += [(area, "film", period, "jobs", film * scale if area == "A" else film),
    ...                  (area, "_total", period, "jobs", 100)]
    >>> counts = pd.DataFrame(rows, columns=["area", "sector", "period", "measure", "value"])
    >>> names = pd.Series(["Ay", "Bee", "Cee", "Dee"], index=list("ABCD"))
    >>> found = detect_nesta2016(names, counts, groups=None, periods=["1", "2"], top_n=1)
    >>> found.selections[["area", "criterion", "rank"]].values.tolist()
    [['A', 'concentration', 1], ['A', 'growth', 1]]
    """
    names, table, long, start, end = _inputs(areas, counts, groups, periods, measures, _validated)
    pieces = []
    for (measure, group), rows in long.groupby(["measure", "group"], sort=True):
        pieces.append(
            _top(rows, "concentration", "lq", "count", quantile, top_n).assign(
                measure=measure, group=group
            )
        )
        pieces.append(
            _top(rows, "growth", "lq_change", "count_start", quantile, top_n).assign(
                measure=measure, group=group
            )
        )
    return _finish(
        pieces,
        names,
        table,
        "nesta2016",
        "detect_nesta2016",
        counts,
        groups=groups,
        periods=periods,
        start=start,
        end=end,
        quantile=quantile,
        top_n=top_n,
        measures=measures,
    )


def _top(rows, criterion, metric, size_column, quantile, top_n) -> pd.DataFrame:
    size = rows[size_column]
    size_threshold = float(np.quantile(size.dropna(), quantile)) if size.notna().any() else np.nan
    eligible = rows[(size >= size_threshold) & rows[metric].notna()]
    rank = eligible[metric].rank(method="min", ascending=False)
    chosen = eligible[rank <= top_n]
    threshold = chosen[metric].min() if len(chosen) else np.nan
    return pd.DataFrame(
        {
            "area": chosen["area"],
            "criterion": criterion,
            "metric": metric,
            "rank": rank[rank <= top_n].astype(int),
            "value": chosen[metric],
            "threshold": threshold,
            "size": chosen[size_column],
            "size_threshold": size_threshold,
        }
    )


def detect_thresholds(
    areas,
    counts: pd.DataFrame,
    *,
    lq_min: float = 1.25,
    count_min: float = 0.0,
    lq_change_min: float | None = None,
    groups="nesta2016",
    periods=NESTA_2016_PERIODS,
    measures: Sequence[str] | None = None,
    _validated: bool = False,
) -> Detection:
    """Select areas whose LQ is at or above a floor and whose count is large enough.

    Parameters
    ----------
    areas : geopandas.GeoDataFrame or pandas.Series
        Areas indexed by code, with names.
    counts : pandas.DataFrame
        Tidy counts with all-industry totals.
    lq_min : float, default 1.25
        Second-period LQ at or above which an area is a concentration cluster.
    count_min : float, default 0
        Second-period count (first-period for growth) at or above which an area
        is eligible: it keeps tiny areas with a handful of businesses out.
    lq_change_min : float, optional
        When given, areas whose relative LQ change is at or above it are
        growth clusters.
    groups, periods, measures
        As in :func:`detect_nesta2016`.

    Returns
    -------
    Detection
        Selections (see the module docstring) and what they came from.

    Examples
    --------
    >>> import pandas as pd
    >>> counts = pd.DataFrame({"area": ["A", "A", "B", "B"], "period": "2015",
    ...     "measure": "jobs", "sector": ["film", "_total"] * 2, "value": [30.0, 100, 10, 300]})
    >>> names = pd.Series(["Ay", "Bee"], index=["A", "B"])
    >>> found = detect_thresholds(names, counts, lq_min=2, groups=None, periods=["2015", "2015"])
    >>> found.selections[["area", "value", "threshold"]].to_dict("records")
    [{'area': 'A', 'value': 3.0, 'threshold': 2.0}]
    """
    names, table, long, start, end = _inputs(areas, counts, groups, periods, measures, _validated)
    pieces = []
    rules = [("concentration", "lq", lq_min, "count")]
    if lq_change_min is not None:
        rules.append(("growth", "lq_change", lq_change_min, "count_start"))
    for (measure, group), rows in long.groupby(["measure", "group"], sort=True):
        for criterion, metric, floor, size_column in rules:
            eligible = rows[(rows[size_column] >= count_min) & rows[metric].notna()]
            rank = eligible[metric].rank(method="min", ascending=False).astype(int)
            chosen = eligible[eligible[metric] >= floor]
            pieces.append(
                pd.DataFrame(
                    {
                        "area": chosen["area"],
                        "criterion": criterion,
                        "metric": metric,
                        "rank": rank[chosen.index],
                        "value": chosen[metric],
                        "threshold": float(floor),
                        "size": chosen[size_column],
                        "size_threshold": float(count_min),
                        "measure": measure,
                        "group": group,
                    }
                )
            )
    return _finish(
        pieces,
        names,
        table,
        "thresholds",
        "detect_thresholds",
        counts,
        lq_min=lq_min,
        count_min=count_min,
        lq_change_min=lq_change_min,
        groups=groups,
        periods=periods,
        start=start,
        end=end,
        measures=measures,
    )


def detect_hotspots(
    areas,
    counts: pd.DataFrame,
    graph=None,
    *,
    statistic: Literal["local_moran", "gi_star"] = "local_moran",
    variable: Literal["lq", "lq_change"] = "lq",
    correction: Literal["fdr", "bonferroni"] | None = "fdr",
    alpha: float = 0.05,
    alternative: str = "two-sided",
    permutations: int = 999,
    seed: int | None = 0,
    groups="nesta2016",
    periods=NESTA_2016_PERIODS,
    measures: Sequence[str] | None = None,
    client=None,
    _validated: bool = False,
) -> Detection:
    """Select statistically significant hot spots of specialisation.

    An area is selected for a measure and group when it is a significant
    High-High unit of local Moran's I (``statistic="local_moran"``) or a
    significant hot spot of Getis-Ord Gi* (``"gi_star"``, positive z) on the
    chosen variable, after the multiple-testing ``correction``.

    Parameters
    ----------
    areas : geopandas.GeoDataFrame
        Areas indexed by code, with names and geometry.
    counts : pandas.DataFrame
        Tidy counts with all-industry totals.
    graph : libpysal.graph.Graph, optional
        Spatial weights; queen contiguity of ``areas`` by default.
    statistic : {"local_moran", "gi_star"}
        The local statistic.
    variable : {"lq", "lq_change"}
        Second-period LQ (a concentration hot spot) or relative LQ change (a
        growth hot spot).
    correction : {"fdr", "bonferroni"} or None, default "fdr"
        Multiple-testing correction of the permutation p-values.
    alpha : float, default 0.05
        Significance level after correction.
    alternative : {"two-sided", "greater", "less", "directed"}, default "two-sided"
        The permutation test (see :func:`geoclusters.stats.local_moran`).
    permutations : int, default 999
        Conditional permutations for the pseudo p-values.
    seed : int, optional
        Seed of the permutations; the same seed gives the same selections.
    groups, periods, measures
        As in :func:`detect_nesta2016`.
    client : dask.distributed.Client, optional
        Run the permutations on this Dask client (see
        :mod:`geoclusters.distributed`); the results are identical to the
        local path.

    Returns
    -------
    Detection
        Selections (see the module docstring); ``value`` is the local
        statistic, ``threshold`` is ``alpha`` and ``rank`` orders by p-value.
    """
    from ._significance import warn_if_unreachable
    from .graph import contiguity
    from .stats import local_g, local_moran

    check_choice("statistic", statistic, ("local_moran", "gi_star"))
    names, table, long, start, end = _inputs(areas, counts, groups, periods, measures, _validated)
    if graph is None:
        graph = contiguity(areas)
    criterion = "concentration" if variable == "lq" else "growth"
    size_column = "count" if variable == "lq" else "count_start"
    pieces = []
    warned = False
    for (measure, group), rows in long.groupby(["measure", "group"], sort=True):
        values = rows.set_index("area")[variable]
        if not warned:
            # once: the groups share the areas, so the reach is the same for each
            warn_if_unreachable(
                permutations,
                int(values.notna().sum()),
                correction=correction,
                alpha=alpha,
                alternative=alternative,
                what="detect_hotspots",
            )
            warned = True
        options = {
            "permutations": permutations,
            "seed": seed,
            "correction": correction,
            "alpha": alpha,
            "alternative": alternative,
            "missing": "drop",
        }
        if client is not None:
            options["client"] = client
        if statistic == "local_moran":
            frame = local_moran(values, graph, **options).to_frame()
            hot = frame["significant"] & (frame["quadrant"] == "HH")
        else:
            frame = local_g(values, graph, star=True, **options).to_frame()
            # hot by the tail of the permutation test that gave the p-value
            hot = frame["significant"] & (frame["cluster"] == HOT)
        chosen = frame[hot.fillna(False).astype(bool)]
        rank = frame["p_value"].rank(method="min")
        sizes = rows.set_index("area")[size_column]
        pieces.append(
            pd.DataFrame(
                {
                    "area": chosen.index,
                    "criterion": criterion,
                    "metric": f"{statistic}:{variable}",
                    "rank": rank[chosen.index].astype(int).to_numpy(),
                    "value": chosen["statistic"].to_numpy(),
                    "threshold": alpha,
                    "size": sizes.reindex(chosen.index).to_numpy(),
                    "size_threshold": np.nan,
                    "measure": measure,
                    "group": group,
                }
            )
        )
    return _finish(
        pieces,
        names,
        table,
        f"hotspots:{statistic}",
        "detect_hotspots",
        counts,
        statistic=statistic,
        variable=variable,
        correction=correction,
        alpha=alpha,
        alternative=alternative,
        permutations=permutations,
        seed=seed,
        groups=groups,
        periods=periods,
        start=start,
        end=end,
        measures=measures,
    )


def _names(areas) -> pd.Series:
    if isinstance(areas, pd.Series):
        names = areas.astype(str)
    elif isinstance(areas, pd.DataFrame) and "name" in areas:
        names = areas["name"].astype(str)
    else:
        raise InputError(
            "areas must be a GeoDataFrame with a 'name' column or a Series of names",
            fix="read them with geoclusters.read_areas",
        )
    names.index = names.index.astype(str)
    return names


def _inputs(areas, counts, groups, periods, measures, validated):
    """Every detector's start: area names, the long metrics and their frame, the two periods."""
    names = _names(areas)
    if not validated:
        counts = validate_counts(counts)
    table, start, end = prepare(counts, groups, periods, _validated=True)
    check_area_codes(table, names.index)
    counted = table["area"].nunique()
    if counted < 2:
        # one area is the whole: its LQ is 1 and its change 0 by construction, so any
        # "selection" of it would be an artefact typed "both"
        raise InputError(
            f"cluster detection compares areas with each other, and the counts cover "
            f"{counted} area",
            rows=sorted(table["area"].astype(str).unique()),
            fix="give counts for every area of the region (at least two)",
        )
    if measures is not None:
        unknown = sorted(set(measures) - set(table["measure"].unique()))
        if unknown:
            raise InputError("measures not in the counts", rows=unknown)
        table = table[table["measure"].isin(list(measures))]
    # the metrics a row per area and group too (metric_frame of the long table, made with it)
    long, wide = metrics(table, start, end, _validated=True, _frame=True)
    return names, long, wide, start, end


def _finish(pieces, names: pd.Series, table, method: str, step: str, counts, **parameters):
    """One Detection from the pieces, carrying the detector's parameters and provenance."""
    pieces = [p for p in pieces if len(p)]
    if pieces:
        selections = pd.concat(pieces, ignore_index=True)
    else:
        selections = pd.DataFrame(columns=[c for c in SELECTION_COLUMNS if c not in ("name",)])
    selections["name"] = selections["area"].map(names)
    selections["method"] = method
    selections = selections[SELECTION_COLUMNS]
    order = {"concentration": 0, "growth": 1}
    selections = selections.sort_values(
        ["measure", "group", "criterion", "rank", "area"],
        key=lambda s: s.map(order) if s.name == "criterion" else s,
        kind="stable",
    ).reset_index(drop=True)
    parameters = {"method": method, **parameters}
    provenance = Provenance.record(step, parameters, counts=counts, areas=names)
    return Detection(
        selections=selections,
        metrics=table,
        start=str(parameters["start"]),
        end=str(parameters["end"]),
        params=dict(provenance.parameters),
        provenance=provenance,
    )


def selections_of(clusters) -> pd.DataFrame:
    """The selections table of a Detection, a list of them, or a selections DataFrame.

    Examples
    --------
    >>> table = selections_from_mapping({"A": [("growth", "jobs", "film")]})
    >>> len(selections_of([table, table]))
    2
    """
    if isinstance(clusters, Detection):
        return clusters.selections
    if isinstance(clusters, pd.DataFrame):
        return clusters
    if isinstance(clusters, Sequence) and not isinstance(clusters, str):
        frames = [selections_of(c) for c in clusters]
        if not frames:
            raise InputError("no selections given", fix="pass a Detection or a DataFrame")
        return pd.concat(frames, ignore_index=True)
    raise InputError(
        f"expected a Detection, a list of them or a selections DataFrame, got {type(clusters)}",
        fix="pass the result of a detector, or its .selections",
    )


def typology(areas, clusters) -> pd.DataFrame:
    """Type every area by the selections that name it.

    Parameters
    ----------
    areas : geopandas.GeoDataFrame or pandas.Series
        All areas; every one gets a row, clusters or not.
    clusters : Detection, list of Detection or pandas.DataFrame
        Selections from any detector (or several, concatenated).

    Returns
    -------
    pandas.DataFrame
        Indexed by area: ``name``, ``is_cluster``, ``cluster_type`` (one of
        ``"high concentration"``, ``"high growth"``, ``"both"``, ``"none"``),
        ``concentration_groups`` and ``growth_groups`` (``"measure:group"``
        joined by ``"; "``, empty when none).

    Raises
    ------
    InputError
        If a selection names an area that is not in ``areas``.

    Notes
    -----
    The order ``typology(clusters, areas)`` of 0.1 still works, with a
    DeprecationWarning, until 0.3.

    Examples
    --------
    >>> import pandas as pd
    >>> clusters = pd.DataFrame({"area": ["A", "A", "B"],
    ...     "criterion": ["concentration", "growth", "growth"],
    ...     "measure": "jobs", "group": ["film", "film", "music"]})
    >>> names = pd.Series(["Ay", "Bee", "Cee"], index=["A", "B", "C"])
    >>> typology(names, clusters)["cluster_type"].tolist()
    ['both', 'high growth', 'none']
    """
    if is_selections(areas) and not is_selections(clusters):
        deprecated_order("typology", "clusters, areas", "areas, clusters")
        areas, clusters = clusters, areas
    clusters = selections_of(clusters)
    names = _names(areas)
    unknown = pd.Index(clusters["area"].astype(str).unique()).difference(names.index)
    if len(unknown):
        raise InputError("selections name areas that are not in the areas", rows=unknown)
    label = clusters["measure"].astype(str) + ":" + clusters["group"].astype(str)
    labelled = clusters.assign(label=label, area=clusters["area"].astype(str))

    def joined(criterion):
        rows = labelled[labelled["criterion"] == criterion]
        return rows.groupby("area")["label"].agg(lambda s: "; ".join(dict.fromkeys(s)))

    concentration = joined("concentration").reindex(names.index, fill_value="")
    growth = joined("growth").reindex(names.index, fill_value="")
    high_c = concentration != ""
    high_g = growth != ""
    cluster_type = np.select(
        [high_c & high_g, high_c, high_g], ["both", "high concentration", "high growth"], "none"
    )
    return pd.DataFrame(
        {
            "name": names,
            "is_cluster": high_c | high_g,
            "cluster_type": cluster_type,
            "concentration_groups": concentration,
            "growth_groups": growth,
        },
        index=names.index.rename("area"),
    )


def typology_summary(table: pd.DataFrame, region: pd.Series | str | None = None) -> pd.DataFrame:
    """Count cluster types, overall and by region.

    Parameters
    ----------
    table : pandas.DataFrame
        The output of :func:`typology`.
    region : pandas.Series, str or None
        Region of each area (a Series indexed by area, or a column of
        ``table``). By default UK nations are read from the first letter of
        GSS codes (E England, S Scotland, W Wales, N Northern Ireland, K
        cross-border); other codes fall in one region, ``"all"``.

    Returns
    -------
    pandas.DataFrame
        One row per type (``TYPES``; ``"no data"`` only when some area has
        it) plus ``"all clusters"`` and ``"areas"``; one column per region
        plus ``"total"``.

    Examples
    --------
    >>> import pandas as pd
    >>> table = pd.DataFrame({"cluster_type": ["both", "none", "high growth"]},
    ...                      index=["E30000001", "S22000002", "E30000003"])
    >>> typology_summary(table).loc["all clusters"].to_dict()
    {'England': 2, 'Scotland': 0, 'total': 2}
    """
    if region is None:
        regions = pd.Series(
            [_nation(code) for code in table.index], index=table.index, name="region"
        )
    elif isinstance(region, str):
        regions = table[region]
    else:
        regions = region.reindex(table.index)
    counts = pd.crosstab(table["cluster_type"], regions.fillna("unknown")).reindex(
        list(TYPES), fill_value=0
    )
    counts.loc["all clusters"] = counts.loc[["high concentration", "high growth", "both"]].sum()
    if not counts.loc["no data"].any():
        counts = counts.drop(index="no data")
    counts.loc["areas"] = counts.loc[[t for t in TYPES if t in counts.index]].sum()
    counts["total"] = counts.sum(axis=1)
    counts.columns.name = None
    counts.index.name = "type"
    return counts.astype(int)


_NATIONS = {
    "E": "England",
    "S": "Scotland",
    "W": "Wales",
    "N": "Northern Ireland",
    "K": "cross-border",
}


def _nation(code: str) -> str:
    if len(code) == 9 and code[0] in _NATIONS and code[1:].isdigit():
        return _NATIONS[code[0]]
    return "all"


def selections_from_mapping(rows: Mapping[str, Sequence[tuple[str, str, str]]]) -> pd.DataFrame:
    """Build a minimal selections table by hand: ``{area: [(criterion, measure, group)]}``.

    Useful to test conurbation rules or to feed clusters found elsewhere.

    Examples
    --------
    >>> selections_from_mapping({"A": [("concentration", "jobs", "film")]}).iloc[0].to_dict()
    {'area': 'A', 'criterion': 'concentration', 'measure': 'jobs', 'group': 'film'}
    """
    records = [
        {"area": area, "criterion": c, "measure": m, "group": g}
        for area, items in rows.items()
        for c, m, g in items
    ]
    return pd.DataFrame(records, columns=["area", "criterion", "measure", "group"])
