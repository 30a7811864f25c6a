"""Conurbations: neighbouring clusters that share a specialisation, merged.

A naive union of every touching cluster area makes one giant blob wherever a
large area touches many clusters (London touches almost every cluster around
it). Merging is therefore sector-aware: two cluster areas are *linked* when
they are neighbours in the graph and share a specialisation — the same sector
group selected for them, in concentration or in growth. A conurbation is a
connected component of the links with at least ``min_members`` areas; a
single-area cluster stays a cluster.

Options:

- ``match="group"`` compares group names across measures (businesses
  *content* links with employment *content*); ``"measure_group"`` requires the
  same measure too;
- ``sectors`` restricts linking to named groups;
- ``hubs`` keeps named areas out of every merge (they stay clusters), and
  ``hub_min_links`` treats any cluster area linked to at least that many other
  cluster areas as a hub;
- the graph is any :class:`libpysal.graph.Graph` over the area codes:
  contiguity, fuzzy contiguity (a tolerance for generalised boundaries) or
  commuting links, see :mod:`geoclusters.graph`.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from scipy import sparse
from scipy.sparse.csgraph import connected_components

from ._results import FrameForwarding, deprecated_order, html_table, is_selections
from .counts import TOTAL, sum_counts, validate_counts
from .detect import Detection, selections_of
from .errors import InputError, check_choice
from .measures import METRIC_DTYPE, metrics, prepare
from .provenance import Provenance

SEPARATOR = " – "
METRICS_DTYPES = {
    "area": object,
    "measure": object,
    "group": object,
    "metric": METRIC_DTYPE,
    "value": float,
}


@dataclass(frozen=True, repr=False, eq=False)
class Conurbations(FrameForwarding):
    """Conurbations, the links that made them and what they were made from.

    Attributes
    ----------
    table : geopandas.GeoDataFrame
        One row per conurbation, indexed ``C1``, ``C2``, … by size: ``name``
        (members' names, largest first, joined by " – "), ``members`` (codes
        joined by ";", largest first), ``n_members``, ``sectors`` (the
        specialisations shared along its links, most shared first),
        ``core_sectors`` (shared by every member), ``rule`` and the dissolved
        geometry.
    metrics : pandas.DataFrame or None
        With counts: the long metrics (:func:`geoclusters.measures.metrics`)
        recomputed for each merged area, ``area`` being the conurbation id.
    links : pandas.DataFrame
        ``area, neighbour, shared``: the links merged along.
    hubs : list of str
        Areas kept out of every merge.
    start, end : str or None
        The periods of the metrics.
    params : dict
    provenance : geoclusters.provenance.Provenance

    Notes
    -----
    ``merge_conurbations`` returned the table itself in 0.1; DataFrame-style
    use (indexing, ``len``, ``.iterrows()``, ...) still reaches ``.table``
    with a DeprecationWarning until 0.3.
    """

    table: gpd.GeoDataFrame
    metrics: pd.DataFrame | None
    links: pd.DataFrame
    hubs: list[str] = field(default_factory=list)
    start: str | None = None
    end: str | None = None
    params: dict[str, Any] = field(default_factory=dict)
    provenance: Provenance | None = None

    _frame_name = "table"

    def to_frame(self) -> gpd.GeoDataFrame:
        """The conurbations table."""
        return self.table

    def __bool__(self) -> bool:
        return True

    def __repr__(self) -> str:
        sizes = self.table["n_members"].tolist() if len(self.table) else []
        return f"Conurbations({len(self.table)} conurbations, members {sizes[:8]})"

    def _repr_html_(self) -> str:
        rows = [(code, row["name"]) for code, row in self.table.head(10).iterrows()]
        return html_table(
            f"Conurbations ({len(self.table)})", [*rows, ("hubs", ", ".join(self.hubs) or "–")]
        )


def merge_conurbations(
    areas: gpd.GeoDataFrame,
    counts: pd.DataFrame | None = None,
    graph=None,
    clusters=None,
    *,
    match: Literal["group", "measure_group"] = "group",
    sectors: Sequence[str] | None = None,
    hubs: Iterable[str] | None = None,
    hub_min_links: int | None = None,
    min_members: int = 2,
    periods: Sequence[str] | Mapping[str, Sequence] | None = None,
    groups=None,
    _validated: bool = False,
) -> Conurbations:
    """Merge neighbouring clusters that share a specialisation into conurbations.

    Parameters
    ----------
    areas : geopandas.GeoDataFrame
        Areas indexed by code with ``name`` and geometry; the conurbation
        polygon is the union of its members'.
    counts : pandas.DataFrame, optional
        Tidy counts with totals, to sum the members' counts and recompute LQ
        and growth for each conurbation; either already in the two periods
        (the first output of :func:`geoclusters.measures.prepare`) or raw, in
        which case the groups and periods of the detections (or ``groups=``
        and ``periods=``) are applied.
    graph : libpysal.graph.Graph
        Neighbours over the area codes (contiguity, fuzzy contiguity,
        commuting, ...).
    clusters : Detection, list of Detection, or pandas.DataFrame
        What detectors selected: a :class:`~geoclusters.detect.Detection`,
        several, or a selections table (columns ``area, criterion, measure,
        group``), for example ``pd.concat([a.selections, b.selections])``.
    match : {"group", "measure_group"}, default "group"
        What counts as the same specialisation.
    sectors : sequence of str, optional
        Only these groups (or ``"measure:group"`` labels with
        ``match="measure_group"``) link areas.
    hubs : iterable of str, optional
        Area codes kept out of every merge.
    hub_min_links : int, optional
        Also treat as a hub any cluster area with at least this many links.
    min_members : int, default 2
        Smallest conurbation.
    periods : pair of str or mapping, optional
        The two periods of ``counts`` (labels), or the spans to average raw
        counts over; taken from the detections by default. Needed with counts
        when ``clusters`` is a plain selections table.
    groups : "nesta2016", mapping or None, optional
        Sector groups to apply to raw counts; taken from the detections by
        default.

    Returns
    -------
    Conurbations
        ``.table`` (one row per conurbation), ``.metrics``, ``.links``,
        ``.hubs``, parameters and provenance.

    Notes
    -----
    The order ``merge_conurbations(clusters, graph, areas, counts)`` of 0.1
    still works, with a DeprecationWarning, until 0.3.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely.geometry import box
    >>> from geoclusters.graph import contiguity
    >>> from geoclusters.detect import selections_from_mapping
    >>> areas = gpd.GeoDataFrame({"name": ["W", "M", "E"]}, index=["a", "b", "c"],
    ...     geometry=[box(0, 0, 1, 1), box(1, 0, 2, 1), box(2, 0, 3, 1)], crs=27700)
    >>> clusters = selections_from_mapping({"a": [("concentration", "jobs", "film")],
    ...     "b": [("growth", "jobs", "film")], "c": [("growth", "jobs", "music")]})
    >>> merged = merge_conurbations(areas, graph=contiguity(areas), clusters=clusters)
    >>> merged.table[["members", "sectors"]].values.tolist()
    [['a;b', 'film']]
    """
    if is_selections(areas):
        deprecated_order(
            "merge_conurbations", "clusters, graph, areas, counts", "areas, counts, graph, clusters"
        )
        areas, counts, graph, clusters = graph, clusters, counts, areas
    if graph is None or clusters is None:
        raise InputError(
            "merge_conurbations needs a graph and the clusters",
            fix="call merge_conurbations(areas, counts, graph, clusters)",
        )
    detections = _detections(clusters)
    selections = selections_of(clusters)
    check_choice("match", match, ("group", "measure_group"))
    ids = pd.Index(graph.unique_ids).astype(str)
    cluster_codes = pd.Index(selections["area"].astype(str).unique())
    outside = cluster_codes.difference(ids)
    if len(outside):
        raise InputError(
            "clusters name areas that are not in the graph",
            rows=outside,
            fix="build the graph from the same areas as the clusters",
        )
    missing_geometry = cluster_codes.difference(areas.index.astype(str))
    if len(missing_geometry):
        raise InputError("clusters name areas that are not in the areas", rows=missing_geometry)

    labels = _labels(selections, match, sectors)
    links = _links(graph, labels)
    hub_set = set(map(str, hubs or ()))
    if hub_min_links is not None:
        degree = Counter(links["area"]) + Counter(links["neighbour"])
        hub_set |= {code for code, d in degree.items() if d >= hub_min_links}
    links = links[~links["area"].isin(hub_set) & ~links["neighbour"].isin(hub_set)]

    table = start = end = None
    if counts is not None:
        if not _validated:
            counts = validate_counts(counts)
        table, start, end = _prepared(counts, detections, periods, groups)
    size = _sizes(areas, table, end)
    components = _components(links, min_members)
    components.sort(key=lambda members: (-sum(size.get(m, 0.0) for m in members), sorted(members)))
    rule = _rule(match, sectors, hub_set, hub_min_links)
    rows = []
    for number, members in enumerate(components, start=1):
        ordered = sorted(members, key=lambda m: (-size.get(m, 0.0), m))
        own = links[links["area"].isin(members)]
        shared = Counter(label for labels_ in own["shared"] for label in labels_.split(";"))
        core = set.intersection(*(labels[m] for m in ordered))
        rows.append(
            {
                "conurbation": f"C{number}",
                "name": SEPARATOR.join(areas.loc[ordered, "name"].astype(str)),
                "members": ";".join(ordered),
                "n_members": len(ordered),
                "sectors": "; ".join(label for label, _ in shared.most_common()),
                "core_sectors": "; ".join(sorted(core)),
                "rule": rule,
                "geometry": shapely.union_all(areas.loc[ordered].geometry.to_numpy()),
            }
        )
    columns = ["conurbation", "name", "members", "n_members", "sectors", "core_sectors", "rule"]
    frame = pd.DataFrame(rows, columns=[*columns, "geometry"]).set_index("conurbation")
    result = gpd.GeoDataFrame(frame, geometry="geometry", crs=areas.crs)
    merged_metrics = None
    if table is not None:
        merged_metrics = _merged_metrics(result, table, start, end)
    parameters = {
        "match": match,
        "sectors": sectors,
        "hubs": sorted(hub_set),
        "hub_min_links": hub_min_links,
        "min_members": min_members,
        "periods": periods,
        "groups": groups,
        "start": start,
        "end": end,
    }
    provenance = Provenance.record("merge_conurbations", parameters, clusters=selections)
    return Conurbations(
        table=result,
        metrics=merged_metrics,
        links=links.reset_index(drop=True),
        hubs=sorted(hub_set),
        start=start,
        end=end,
        params=dict(provenance.parameters),
        provenance=provenance,
    )


def membership(areas, conurbations) -> pd.DataFrame:
    """The conurbation of every area (empty strings for areas in none).

    Parameters
    ----------
    areas : geopandas.GeoDataFrame or pandas.Index
        All areas.
    conurbations : Conurbations or geopandas.GeoDataFrame
        The output of :func:`merge_conurbations` (or its ``.table``).

    Returns
    -------
    pandas.DataFrame
        Indexed by area: ``conurbation`` (name) and ``conurbation_id``.

    Notes
    -----
    The order ``membership(conurbations, areas)`` of 0.1 still works, with a
    DeprecationWarning, until 0.3.

    Examples
    --------
    >>> import geopandas as gpd, pandas as pd
    >>> table = gpd.GeoDataFrame({"name": ["X – Y"], "members": ["x;y"]},
    ...                          index=pd.Index(["C1"], name="conurbation"), geometry=[None])
    >>> membership(pd.Index(["x", "y", "z"]), table)["conurbation_id"].tolist()
    ['C1', 'C1', '']
    """
    if _is_conurbations(areas) and not _is_conurbations(conurbations):
        deprecated_order("membership", "conurbations, areas", "areas, conurbations")
        areas, conurbations = conurbations, areas
    if isinstance(conurbations, Conurbations):
        conurbations = conurbations.table
    index = pd.Index(areas.index if hasattr(areas, "geometry") else areas).astype(str)
    out = pd.DataFrame({"conurbation": "", "conurbation_id": ""}, index=index)
    for conurbation_id, row in conurbations.iterrows():
        members = row["members"].split(";")
        out.loc[members, "conurbation"] = row["name"]
        out.loc[members, "conurbation_id"] = conurbation_id
    out.index.name = "area"
    return out


def _is_conurbations(value) -> bool:
    return isinstance(value, Conurbations) or (
        isinstance(value, pd.DataFrame) and "members" in value.columns
    )


def _detections(clusters) -> list[Detection]:
    if isinstance(clusters, Detection):
        return [clusters]
    if isinstance(clusters, list | tuple):
        return [c for c in clusters if isinstance(c, Detection)]
    return []


def _labels(clusters, match, sectors) -> dict[str, set[str]]:
    if match == "group":
        label = clusters["group"].astype(str)
    else:
        label = clusters["measure"].astype(str) + ":" + clusters["group"].astype(str)
    frame = pd.DataFrame({"area": clusters["area"].astype(str), "label": label})
    if sectors is not None:
        frame = frame[frame["label"].isin([str(s) for s in sectors])]
    labels = {code: set() for code in clusters["area"].astype(str)}
    for code, rows in frame.groupby("area"):
        labels[code] = set(rows["label"])
    return labels


def _links(graph, labels) -> pd.DataFrame:
    adjacency = graph.adjacency.reset_index()
    focal, neighbour = adjacency.columns[:2]
    pairs = adjacency[adjacency[focal] != adjacency[neighbour]]
    pairs = pairs[pairs[focal].astype(str).isin(labels) & pairs[neighbour].astype(str).isin(labels)]
    records = []
    seen = set()
    for a, b in zip(pairs[focal].astype(str), pairs[neighbour].astype(str), strict=True):
        key = (a, b) if a < b else (b, a)
        if key in seen:
            continue
        seen.add(key)
        shared = labels[a] & labels[b]
        if shared:
            records.append(
                {"area": key[0], "neighbour": key[1], "shared": ";".join(sorted(shared))}
            )
    return pd.DataFrame(records, columns=["area", "neighbour", "shared"])


def _components(links: pd.DataFrame, min_members: int) -> list[list[str]]:
    if links.empty:
        return []
    codes = pd.Index(sorted(set(links["area"]) | set(links["neighbour"])))
    rows = codes.get_indexer(links["area"])
    cols = codes.get_indexer(links["neighbour"])
    matrix = sparse.coo_array((np.ones(len(rows)), (rows, cols)), shape=(len(codes),) * 2)
    _, label = connected_components(matrix, directed=False)
    groups = pd.Series(codes, index=label).groupby(level=0).agg(list)
    return [sorted(g) for g in groups if len(g) >= min_members]


def _prepared(counts, detections, periods, groups) -> tuple[pd.DataFrame, str, str]:
    """The counts in the two periods of sector groups, the periods taken explicitly."""
    spans = {(d.start, d.end) for d in detections}
    if len(spans) > 1:
        raise InputError(
            "the detections use different periods", rows=sorted(spans), fix="detect on one pair"
        )
    params = detections[0].params if detections else {}
    if periods is None and not detections:
        raise InputError(
            "cannot tell which two periods of the counts to use",
            fix="pass periods=(first, second) (the selections table carries no periods), "
            "or the Detection objects themselves",
        )
    if periods is not None and not isinstance(periods, Mapping):
        start, end = (str(p) for p in periods)
    elif periods is None:
        start, end = next(iter(spans))
    else:
        start, end = (str(p) for p in periods)
    if {start, end} <= set(counts["period"]):
        return counts, start, end
    spec = periods if isinstance(periods, Mapping) else params.get("periods")
    scheme = groups if groups is not None else params.get("groups", "nesta2016")
    return prepare(counts, scheme, spec, _validated=True)


def _sizes(areas, table, end) -> dict[str, float]:
    """Second-period total of the cluster groups, to order members largest first."""
    if table is None:
        return {code: float(shapely.area(g)) for code, g in areas.geometry.items()}
    rows = table[(table["period"] == end) & (table["sector"] != TOTAL)]
    return rows.groupby("area")["value"].sum().to_dict()


def _merged_metrics(conurbations, table, start, end) -> pd.DataFrame:
    relabel = {}
    for conurbation_id, members in conurbations["members"].items():
        relabel.update(dict.fromkeys(members.split(";"), conurbation_id))
    if not relabel:
        return pd.DataFrame({c: pd.Series(dtype=t) for c, t in METRICS_DTYPES.items()})
    # the other areas stay in, so that national sums (the LQ denominators) are unchanged
    merged = table.assign(area=table["area"].map(relabel).fillna(table["area"]))
    summed = sum_counts(merged, ["area", "sector", "period", "measure"])
    merged_metrics = metrics(summed, start, end, _validated=True)
    merged_metrics = merged_metrics[merged_metrics["area"].isin(conurbations.index)]
    return merged_metrics.reset_index(drop=True)


def _rule(match, sectors, hubs, hub_min_links) -> str:
    what = "the same sector group" if match == "group" else "the same measure and sector group"
    parts = [f"neighbours in the graph that share {what} (concentration or growth)"]
    if sectors is not None:
        parts.append("only " + ", ".join(map(str, sectors)))
    if hubs:
        parts.append("hubs kept out: " + ", ".join(sorted(hubs)))
    if hub_min_links is not None:
        parts.append(f"hub = linked to at least {hub_min_links} clusters")
    return "; ".join(parts)
